"""What a person entered in a modal, read from Slack's ``view.state.values``.

Slack nests each input under its block id and then its element's action id,
and where the answer sits depends on the element: ``value`` for text,
``selected_option`` for selects and radio buttons, ``selected_options`` for
checkboxes, ``selected_user(s)`` for people, ``selected_date``,
``selected_time`` and ``selected_date_time`` for the pickers. Our modals give
an input's block and element the same id (:mod:`bot.slack.ids`), so every
reader here takes that one id. A field left empty, or missing from the
payload altogether, reads as "no answer" rather than raising: whether an
answer is required is for the form reader to decide and report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

StateValues = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""``view.state.values``: block id → action id → the element's state."""

_YES_NO = {"yes": True, "no": False}


def read_metadata(raw: str) -> dict[str, Any]:
    """A modal's ``private_metadata`` as a dict; anything unreadable counts as empty."""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class ModalState:
    """Typed answers of one submitted modal, each looked up by its field id."""

    def __init__(self, values: StateValues) -> None:
        self._values = values

    def _element(self, field: str) -> Mapping[str, Any]:
        return self._values.get(field, {}).get(field) or {}

    def text(self, field: str) -> str:
        """A text input, without surrounding blanks; "" when left empty."""
        return (self._element(field).get("value") or "").strip()

    def option(self, field: str) -> str | None:
        """The value of the option picked in a select or radio buttons; None when none is."""
        picked = self._element(field).get("selected_option") or {}
        value = picked.get("value")
        return str(value) if value is not None else None

    def yes_no(self, field: str) -> bool | None:
        """A yes/no question asked as radio buttons or a select, or as a checkbox ticked for yes.

        None when a yes/no option was not picked (a checkbox always answers:
        unticked is no).
        """
        element = self._element(field)
        if "selected_options" in element:
            return any(o.get("value") == "yes" for o in element["selected_options"] or ())
        return _YES_NO.get(self.option(field) or "")

    def user(self, field: str) -> str | None:
        """The person picked in a single-user select."""
        return self._element(field).get("selected_user") or None

    def users(self, field: str) -> tuple[str, ...]:
        """The people picked in a multi-user select, in the order given."""
        return tuple(self._element(field).get("selected_users") or ())

    def day(self, field: str) -> date | None:
        """A date picker's day; None when empty or not a date."""
        picked = self._element(field).get("selected_date")
        try:
            return date.fromisoformat(picked) if picked else None
        except ValueError:
            return None

    def time_of_day(self, field: str) -> time | None:
        """A time picker's "HH:MM", a wall-clock time in the zone the form asked about."""
        picked = self._element(field).get("selected_time")
        try:
            return time.fromisoformat(picked) if picked else None
        except ValueError:
            return None

    def moment(self, field: str) -> datetime | None:
        """A date-and-time picker's moment (Slack sends Unix seconds), as an aware UTC datetime."""
        picked = self._element(field).get("selected_date_time")
        if isinstance(picked, bool) or not isinstance(picked, int | float):
            return None
        return datetime.fromtimestamp(picked, tz=UTC)
