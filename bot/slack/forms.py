"""Reading modal submissions into validated requests.

Pure functions over Slack's ``view.state.values`` shape; problems become a
:class:`FormError` keyed by block id, which Slack shows under the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bot.slack.blocks import TITLE_MAX
from bot.errors import FormError
from bot.slack.ids import DeclareField

StateValues = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class DeclareRequest:
    """What the declare modal asked for, already validated."""

    request_key: str
    title: str
    severity: int
    declared_by: str
    description: str = ""
    affected_services: str = ""
    customer_impact: bool = False
    private: bool = False
    drill: bool = False
    commander: str | None = None
    responders: tuple[str, ...] = field(default_factory=tuple)
    origin_channel_id: str | None = None
    origin_response_url: str | None = None

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _element(values: StateValues, field: str) -> dict[str, Any]:
    return values.get(field, {}).get(field, {})


def _text(values: StateValues, field: str) -> str:
    return (_element(values, field).get("value") or "").strip()


def _yes(values: StateValues, field: str) -> bool:
    option = _element(values, field).get("selected_option") or {}
    return option.get("value") == "yes"


def read_metadata(raw: str) -> dict[str, Any]:
    """private_metadata as a dict; anything unreadable is treated as empty."""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def declare_request(values: StateValues, *, user_id: str, view_id: str, metadata: dict[str, Any]) -> DeclareRequest:
    """Validate the declare modal; every problem is reported at once."""
    errors: dict[str, str] = {}
    title = " ".join(_text(values, DeclareField.TITLE).split())
    if not title:
        errors[DeclareField.TITLE] = "Give the incident a title."
    elif len(title) > TITLE_MAX:
        errors[DeclareField.TITLE] = f"The title is {len(title)} characters; keep it to {TITLE_MAX}."

    option = _element(values, DeclareField.SEVERITY).get("selected_option") or {}
    severity_value = str(option.get("value", ""))
    if severity_value not in {"1", "2", "3", "4"}:
        errors[DeclareField.SEVERITY] = "Pick a severity from SEV-1 to SEV-4."

    commander = _element(values, DeclareField.COMMANDER).get("selected_user") or user_id
    if not _USER_ID.match(commander):
        errors[DeclareField.COMMANDER] = "Pick a person as incident commander."
    responders = tuple(_element(values, DeclareField.RESPONDERS).get("selected_users") or ())
    if any(not _USER_ID.match(u) for u in responders):
        errors[DeclareField.RESPONDERS] = "Responders must be people."
    if errors:
        raise FormError(errors)

    return DeclareRequest(
        request_key=f"view:{view_id}",
        title=title,
        severity=int(severity_value),
        declared_by=user_id,
        description=_text(values, DeclareField.DESCRIPTION),
        affected_services=_text(values, DeclareField.SERVICES),
        customer_impact=_yes(values, DeclareField.CUSTOMER_IMPACT),
        private=_yes(values, DeclareField.PRIVATE),
        drill=_yes(values, DeclareField.DRILL),
        commander=commander,
        responders=responders,
        origin_channel_id=metadata.get("channel_id"),
        origin_response_url=metadata.get("response_url"),
    )
