"""The playground's own words, from ``templates/playground/*.txt.j2``: the banner and the notices.

Plain text (no escaping): the notices shown on the page are read as mrkdwn there, so
anything a person typed is passed in already escaped the way Slack escapes it.
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment


@functools.cache
def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(loader=PackageLoader("templates", "."), undefined=StrictUndefined,
                                         trim_blocks=True, lstrip_blocks=True)


def notice(kind: str, **values: Any) -> str:
    """One notice (see notices.txt.j2 for the kinds)."""
    return _environment().get_template("playground/notices.txt.j2").render(kind=kind, **values).strip()


def banner(**values: Any) -> str:
    """What the terminal shows once the playground listens."""
    return _environment().get_template("playground/banner.txt.j2").render(**values)
