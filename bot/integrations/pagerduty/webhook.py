"""PagerDuty's V3 webhooks: checking the signature and reading an incident event.

PagerDuty signs the raw body with each of the subscription's secrets
(``X-PagerDuty-Signature: v1=<hex HMAC-SHA256>[,v1=…]``, several while a
secret is being rotated); one match is enough. Event types PagerDuty may send
but that change nothing here (notes, priorities, services) are recognised
and ignored, so PagerDuty never counts them as failed deliveries and
disables the subscription; any other type is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.integrations.alerts.events import (
    AlertEvent,
    BadPayload,
    Change,
    validated,
    web_links,
)

SIGNATURE_HEADER = "X-PagerDuty-Signature"
SOURCE = "pagerduty"
PING = "pagey.ping"
CHANGES = {
    "incident.triggered": Change.FIRING,
    "incident.acknowledged": Change.ACKNOWLEDGED,
    "incident.unacknowledged": Change.UNACKNOWLEDGED,
    "incident.escalated": Change.REASSIGNED,
    "incident.reassigned": Change.REASSIGNED,
    "incident.delegated": Change.REASSIGNED,
    "incident.resolved": Change.RESOLVED,
    "incident.reopened": Change.REOPENED,
}
FAMILIES = ("incident.", "service.", "pagey.")
"""Prefixes of the event types PagerDuty documents; a type outside them is not PagerDuty's."""


def signed_by_pagerduty(body: bytes, header: str | None, secret: str) -> bool:
    """Whether any ``v1=`` signature in the header is the body's HMAC-SHA256 under ``secret``."""
    if not header:
        return False
    expected = b"v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    return any(hmac.compare_digest(expected, part.strip().encode()) for part in header.split(","))


class _Reference(BaseModel):
    model_config = ConfigDict(extra="ignore")
    summary: str = ""


class _Incident(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=64)
    type: Literal["incident"]
    title: str = ""
    number: int | None = None
    urgency: str = "high"
    created_at: AwareDatetime
    html_url: str | None = None
    incident_key: str | None = None
    service: _Reference | None = None
    assignees: list[_Reference] = Field(default_factory=list)
    escalation_policy: _Reference | None = None
    priority: _Reference | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200)
    event_type: str = Field(min_length=1)
    occurred_at: AwareDatetime
    agent: _Reference | None = None
    data: dict[str, object]


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event: _Event


@dataclass(frozen=True, slots=True)
class Ignored:
    """A genuine PagerDuty event that changes nothing here; ``what`` says which."""

    what: str


def read_event(body: bytes) -> AlertEvent | Ignored:
    """The incident event in a V3 webhook body; :class:`BadPayload` when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("the body is not JSON") from None
    event = validated(_Envelope, data).event
    change = CHANGES.get(event.event_type)
    if change is None:
        if event.event_type.startswith(FAMILIES):
            return Ignored(event.event_type)
        raise BadPayload(f"event.event_type: {event.event_type[:60]!r} is not a PagerDuty event type")
    incident = validated(_Incident, event.data, at="event.data")
    return AlertEvent(
        source=SOURCE,
        key=incident.id,
        delivery=f"{SOURCE}:{event.id}",
        change=change,
        title=incident.title.strip() or f"PagerDuty incident {incident.number or incident.id}",
        started_at=incident.created_at,
        severity_labels=(incident.urgency,),
        details=_details(incident),
        links=web_links([(_name(incident), incident.html_url)]),
        occurred_at=event.occurred_at,
        actor=event.agent.summary if event.agent and event.agent.summary else None,
        assignees=tuple(a.summary for a in incident.assignees if a.summary),
        page_key=incident.incident_key,
    )


def _name(incident: _Incident) -> str:
    return f"PagerDuty incident #{incident.number}" if incident.number else "PagerDuty incident"


def _details(incident: _Incident) -> str:
    """One line a responder reads to know where the PagerDuty incident stands."""
    parts = [_name(incident)]
    if incident.service and incident.service.summary:
        parts.append(f"service {incident.service.summary}")
    parts.append(f"urgency {incident.urgency}")
    if incident.priority and incident.priority.summary:
        parts.append(f"priority {incident.priority.summary}")
    if incident.escalation_policy and incident.escalation_policy.summary:
        parts.append(f"escalation policy {incident.escalation_policy.summary}")
    return " · ".join(parts)
