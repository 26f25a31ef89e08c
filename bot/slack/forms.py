"""Reading the declare modal into a validated request.

A pure function over the submitted state (read with :class:`ModalState`, as
every form is); problems become a :class:`FormError` keyed by block id, which
Slack shows under the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.errors import FormError
from bot.slack.blocks import TITLE_MAX
from bot.slack.ids import DeclareField
from bot.slack.modal_state import ModalState, StateValues
from storage.severity import Severity


@dataclass(frozen=True, slots=True)
class DeclareRequest:
    """What the declare modal asked for, already validated."""

    request_key: str
    title: str
    severity: Severity
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


def declare_request(values: StateValues, *, user_id: str, view_id: str, metadata: dict[str, Any]) -> DeclareRequest:
    """Validate the declare modal; every problem is reported at once."""
    state = ModalState(values)
    errors: dict[str, str] = {}
    title = " ".join(state.text(DeclareField.TITLE).split())
    if not title:
        errors[DeclareField.TITLE] = "Give the incident a title."
    elif len(title) > TITLE_MAX:
        errors[DeclareField.TITLE] = f"The title is {len(title)} characters; keep it to {TITLE_MAX}."

    try:
        severity = Severity.parse(state.option(DeclareField.SEVERITY) or "")
    except ValueError:
        errors[DeclareField.SEVERITY] = f"Pick a severity from {min(Severity).label} to {max(Severity).label}."

    commander = state.user(DeclareField.COMMANDER) or user_id
    if not _USER_ID.match(commander):
        errors[DeclareField.COMMANDER] = "Pick a person as incident commander."
    responders = state.users(DeclareField.RESPONDERS)
    if any(not _USER_ID.match(u) for u in responders):
        errors[DeclareField.RESPONDERS] = "Responders must be people."
    if errors:
        raise FormError(errors)

    return DeclareRequest(
        request_key=f"view:{view_id}",
        title=title,
        severity=severity,
        declared_by=user_id,
        description=state.text(DeclareField.DESCRIPTION),
        affected_services=state.text(DeclareField.SERVICES),
        customer_impact=state.yes_no(DeclareField.CUSTOMER_IMPACT) is True,
        private=state.yes_no(DeclareField.PRIVATE) is True,
        drill=state.yes_no(DeclareField.DRILL) is True,
        commander=commander,
        responders=responders,
        origin_channel_id=metadata.get("channel_id"),
        origin_response_url=metadata.get("response_url"),
    )
