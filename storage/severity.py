"""The severities of the playbooks, SEV-1 (the most severe) to SEV-4.

Incidents store the number. This type is the one place that knows which
numbers are severities, how each is written, and how people may type one;
it lives beside the tables so that the queries, the configuration and the
bot all share it.
"""

from __future__ import annotations

import re
from enum import IntEnum

_TYPED = re.compile(r"(?:sev(?:erity)?)?[-\s]*([0-9]{1,3})", re.IGNORECASE)


class Severity(IntEnum):
    """A smaller number is more severe, so sorting by severity puts the worst first."""

    SEV1 = 1
    SEV2 = 2
    SEV3 = 3
    SEV4 = 4

    @property
    def label(self) -> str:
        """How playbooks, Slack and documents write it: ``SEV-2``."""
        return f"SEV-{self.value}"

    @classmethod
    def of(cls, number: int) -> Severity:
        """The severity with this number; any other number is a ValueError listing the valid ones."""
        try:
            return cls(number)
        except ValueError:
            *others, last = (str(severity.value) for severity in cls)
            raise ValueError(f"severity must be {', '.join(others)} or {last}, not {number}") from None

    @classmethod
    def parse(cls, text: str) -> Severity:
        """A severity as people type it: ``2``, ``sev2``, ``SEV-2``, ``severity 2``.

        Anything else, including a number that is no severity, is a ValueError.
        """
        match = _TYPED.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a severity")
        return cls.of(int(match.group(1)))
