"""Reading the declare modal into a validated request.

A pure function over the submitted state (read with :class:`ModalState`, as
every form is); problems become a :class:`FormError` keyed by block id, which
Slack shows under the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
    alert_id: int | None = None
    """Declared from this alert: they are linked, and the alert never makes a second incident."""
    detected_at: datetime | None = None
    """When monitoring first saw the problem (the alert's start)."""
    automatic: bool = False
    """Declared by the bot itself (from an alert): nobody is incident commander until someone takes it."""
    impact_started_at: datetime | None = None
    """When customers were first affected, as the declarer said (time to detect runs from it)."""

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def declare_request(values: StateValues, *, user_id: str, view_id: str, metadata: dict[str, Any],
                    now: datetime, tz: ZoneInfo) -> DeclareRequest:
    """Validate the declare modal; every problem is reported at once.

    ``now`` and ``tz`` read *Impact started*: a day and a time of day in the
    configured zone, which cannot be after ``now``.
    """
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
    impact_started_at = _impact_start(state, now=now, tz=tz, errors=errors)
    if errors:
        raise FormError(errors)

    alert_id = metadata.get("alert_id")
    from_alert = isinstance(alert_id, int)
    return DeclareRequest(
        request_key=alert_request_key(alert_id) if from_alert else f"view:{view_id}",
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
        alert_id=alert_id if from_alert else None,
        detected_at=_moment(metadata.get("detected_at")),
        impact_started_at=impact_started_at,
    )


def _impact_start(state: ModalState, *, now: datetime, tz: ZoneInfo, errors: dict[str, str]) -> datetime | None:
    """The day and time impact started, in ``tz`` (a time alone is today); problems go into ``errors``."""
    day, time_of_day = state.day(DeclareField.IMPACT_DAY), state.time_of_day(DeclareField.IMPACT_TIME)
    if day is None and time_of_day is None:
        return None
    if time_of_day is None:
        errors[DeclareField.IMPACT_TIME] = "Pick the time impact started too, or clear the day."
        return None
    local = datetime.combine(day or now.astimezone(tz).date(), time_of_day, tzinfo=tz)
    if local > now:
        field = DeclareField.IMPACT_DAY if day is not None else DeclareField.IMPACT_TIME
        errors[field] = (f"{local:%Y-%m-%d %H:%M} {tz.key} is still to come; impact started before "
                         "the declaration, or leave both fields empty.")
        return None
    return local


def alert_request_key(alert_id: int) -> str:
    """The one request key of every declare from an alert, by button or by the bot, so it declares once."""
    return f"alert:{alert_id}"


def _moment(value: object) -> datetime | None:
    """An aware time the bot put in the form's metadata (ISO 8601), or None."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None
