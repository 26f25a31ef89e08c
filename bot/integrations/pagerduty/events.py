"""PagerDuty's Events API v2: the ``trigger`` that pages the on-call for an incident, and the ``resolve`` that ends it.

Both carry the incident's reference as ``dedup_key``, so PagerDuty folds a
repeated trigger (a retry, a second raise, a reopen while still open) into
the alert it already has instead of paging again. PagerDuty answers 202 once
it has the event; 429 and 5xx mean "later" and are retried by the worker,
any other answer is a refusal (a wrong integration key, a malformed event).

The client is one POST on the bot's shared aiohttp session: PagerDuty's own
Python package is synchronous and would need a thread per call.
"""

from __future__ import annotations

from typing import Any

from bot.integrations.http import OutsideHttp, request_json
from bot.slack.mrkdwn import truncate
from storage.models import Incident
from storage.severity import Severity

SERVICE = "PagerDuty"
SUMMARY_MAX = 1024
SOURCE_MAX = 255
CLIENT = "Incident bot"
EVENT_SEVERITY = {Severity.SEV1: "critical", Severity.SEV2: "error", Severity.SEV3: "warning",
                  Severity.SEV4: "info"}


def summary(incident: Incident) -> str:
    """``[SEV-1] title``, as the on-call's phone shows it (drills say so first)."""
    text = f"[{Severity.of(incident.severity).label}] {incident.title}"
    return truncate(f"[DRILL] {text}" if incident.drill else text, SUMMARY_MAX)


def trigger(incident: Incident, *, routing_key: str, channel_url: str | None, channel_name: str | None) -> dict[str, Any]:
    """The event that pages the on-call for ``incident``, linking its Slack channel when it has one."""
    details: dict[str, str] = {
        "incident": incident.reference,
        "severity": Severity.of(incident.severity).label,
        "phase": incident.phase.value,
        "declared at": incident.declared_at.isoformat(),
        "customer impact": "yes" if incident.customer_impact else "no",
    }
    if incident.description:
        details["description"] = incident.description
    if incident.affected_services:
        details["affected services"] = incident.affected_services
    if channel_name:
        details["slack channel"] = f"#{channel_name}"
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": incident.reference,
        "payload": {
            "summary": summary(incident),
            "source": truncate(incident.affected_services or CLIENT, SOURCE_MAX),
            "severity": EVENT_SEVERITY[Severity.of(incident.severity)],
            "timestamp": (incident.detected_at or incident.declared_at).isoformat(),
            "class": "incident",
            "custom_details": details,
        },
        "client": CLIENT,
    }
    if channel_url:
        event["client_url"] = channel_url
        event["links"] = [{"href": channel_url, "text": f"Slack channel #{channel_name or incident.reference}"}]
    return event


def resolve(incident: Incident, *, routing_key: str) -> dict[str, Any]:
    """The event that ends the page (PagerDuty resolves the alert with this ``dedup_key``)."""
    return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": incident.reference}


async def send(http: OutsideHttp, url: str, event: dict[str, Any], *, operation: str) -> None:
    """POST one event; :class:`bot.errors.ServiceCallFailed` unless PagerDuty accepted it."""
    await request_json(http, service=SERVICE, operation=operation, method="POST", url=url, headers={}, body=event)
