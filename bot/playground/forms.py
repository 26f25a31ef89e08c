"""A modal's inputs as the page sends them, turned into Slack's ``view.state.values``.

The page sends what the person entered as ``[block_id, action_id, value]`` entries
(one per selected option or person); the view says what each element is, so the
values take the shape Slack gives each element type. Slack's client refuses to
submit an empty required field or a too short text, and so does this.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.playground import wording

StateValues = dict[str, dict[str, dict[str, Any]]]
Entry = tuple[str, str, str]

TEXT_INPUTS = frozenset({"plain_text_input", "number_input", "email_text_input", "url_text_input"})
SINGLE_OPTION = frozenset({"static_select", "radio_buttons"})
MANY_OPTIONS = frozenset({"multi_static_select", "checkboxes"})


def inputs(view: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(block_id, input block, element) for each input block of a view, in order."""
    for index, block in enumerate(view.get("blocks") or []):
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            yield block.get("block_id") or f"input-{index}", block, block["element"]


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    """An element's options, those in option groups included."""
    grouped = [option for group in element.get("option_groups") or [] for option in group.get("options") or []]
    return [*(element.get("options") or []), *grouped]


def state_values(view: dict[str, Any], entries: Iterable[Entry], *, tz: ZoneInfo) -> StateValues:
    """Slack's state.values for the view's inputs, given the page's entries (`tz`: the person's zone)."""
    given: dict[tuple[str, str], list[str]] = {}
    for block_id, action_id, value in entries:
        given.setdefault((block_id, action_id), []).append(value)
    values: StateValues = {}
    for block_id, _, element in inputs(view):
        action_id = element.get("action_id") or block_id
        chosen = [value for value in given.get((block_id, action_id), []) if value != ""]
        values[block_id] = {action_id: element_value(element, chosen, tz=tz)}
    return values


def element_value(element: dict[str, Any], chosen: list[str], *, tz: ZoneInfo) -> dict[str, Any]:
    """One element's entry in state.values, from the values chosen on the page."""
    kind = element.get("type", "")
    first = chosen[0] if chosen else None
    state: dict[str, Any] = {"type": kind}
    if kind in TEXT_INPUTS:
        state["value"] = first
    elif kind in SINGLE_OPTION:
        state["selected_option"] = next((o for o in options_of(element) if o.get("value") == first), None)
    elif kind in MANY_OPTIONS:
        state["selected_options"] = [o for o in options_of(element) if o.get("value") in chosen]
    elif kind == "users_select":
        state["selected_user"] = first
    elif kind == "multi_users_select":
        state["selected_users"] = chosen
    elif kind == "datepicker":
        state["selected_date"] = first
    elif kind == "timepicker":
        state["selected_time"] = first
    elif kind == "datetimepicker":
        state["selected_date_time"] = None if first is None else _unix(first, tz)
    return state


def _unix(local: str, tz: ZoneInfo) -> int | None:
    """A datetime-local value ("2030-01-31T14:30") in the person's zone, as Unix seconds."""
    try:
        return int(datetime.fromisoformat(local).replace(tzinfo=tz).timestamp())
    except ValueError:
        return None


def client_errors(view: dict[str, Any], values: StateValues) -> dict[str, str]:
    """What Slack's client refuses before sending: empty required fields, texts under min_length."""
    errors: dict[str, str] = {}
    for block_id, block, element in inputs(view):
        state = values.get(block_id, {}).get(element.get("action_id") or block_id, {})
        if not block.get("optional") and is_empty(state):
            errors[block_id] = wording.notice("required")
        elif state.get("value") and len(state["value"]) < int(element.get("min_length") or 0):
            errors[block_id] = wording.notice("too_short", length=element["min_length"])
    return errors


def is_empty(state: dict[str, Any]) -> bool:
    """True when nothing was entered or chosen in an element."""
    return not any(value not in (None, "", []) for key, value in state.items() if key != "type")
