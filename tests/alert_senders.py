"""Webhook deliveries shaped like PagerDuty's and Alertmanager's (and Grafana's) published examples,
signed or authorised the way those senders do it, and sent to a running bot."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx

PAGERDUTY_SECRET = "pd-webhook-signing-secret"
ALERTS_TOKEN = "alertmanager-bearer-token"
PAGERDUTY_USER = {"html_url": "https://acme.pagerduty.com/users/PXPGF42", "id": "PXPGF42",
                  "self": "https://api.pagerduty.com/users/PXPGF42", "summary": "Earline Greenholt",
                  "type": "user_reference"}


def pagerduty_signature(body: bytes, *secrets: str) -> str:
    """``X-PagerDuty-Signature`` as PagerDuty sends it: ``v1=<hex>`` per secret, comma-separated."""
    return ",".join("v1=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets)


def pagerduty_event(event_type: str = "incident.triggered", *, incident_id: str = "PT4KHLK", number: int = 1234,
                    title: str = "The server is on fire.", urgency: str = "high", incident_key: str | None = None,
                    created_at: str = "2026-05-20T14:00:00.000Z", occurred_at: str = "2026-05-20T14:00:00.000Z",
                    event_id: str | None = None, assignees: tuple[str, ...] = ("Earline Greenholt",),
                    agent: str = "Earline Greenholt") -> dict[str, Any]:
    """A V3 webhook body for an incident event, as in PagerDuty's documentation."""
    status = {"incident.acknowledged": "acknowledged", "incident.resolved": "resolved"}.get(event_type, "triggered")
    return {"event": {
        "id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": occurred_at,
        "agent": {**PAGERDUTY_USER, "summary": agent},
        "client": {"name": "PagerDuty"},
        "data": {
            "id": incident_id,
            "type": "incident",
            "self": f"https://api.pagerduty.com/incidents/{incident_id}",
            "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
            "number": number,
            "status": status,
            "incident_key": incident_key or "baf7cf21b1da41b4b0221008339ff357",
            "created_at": created_at,
            "title": title,
            "service": {"html_url": "https://acme.pagerduty.com/service-directory/PIJ90N7", "id": "PIJ90N7",
                        "self": "https://api.pagerduty.com/services/PIJ90N7", "summary": "My Mail Service",
                        "type": "service_reference"},
            "assignees": [{**PAGERDUTY_USER, "summary": name} for name in assignees],
            "escalation_policy": {"html_url": "https://acme.pagerduty.com/escalation_policies/PUS0KTE",
                                  "id": "PUS0KTE", "self": "https://api.pagerduty.com/escalation_policies/PUS0KTE",
                                  "summary": "Default", "type": "escalation_policy_reference"},
            "teams": [],
            "priority": {"html_url": "https://acme.pagerduty.com/account/incident_priorities", "id": "PSO75BM",
                         "self": "https://api.pagerduty.com/priorities/PSO75BM", "summary": "P1",
                         "type": "priority_reference"},
            "urgency": urgency,
            "conference_bridge": None,
            "resolve_reason": None,
        },
    }}


def pagerduty_ping() -> dict[str, Any]:
    """The test event PagerDuty sends from a subscription's *Send test event*."""
    return {"event": {"id": str(uuid.uuid4()), "event_type": "pagey.ping", "resource_type": "pagey",
                      "occurred_at": "2026-05-20T14:00:00.000Z", "agent": None, "client": None,
                      "data": {"message": "Hello from your friend Pagey!", "type": "ping"}}}


def alert(name: str = "ProbeFailure", *, severity: str | None = "critical", status: str = "firing",
          starts_at: str = "2026-05-20T13:58:45.828Z", ends_at: str = "0001-01-01T00:00:00Z",
          instance: str = "https://server.example.org", fingerprint: str | None = None) -> dict[str, Any]:
    """One alert of a group, as Alertmanager sends it."""
    labels = {"alertname": name, "instance": instance, "job": "http_checks"}
    if severity is not None:
        labels["severity"] = severity
    return {
        "status": status,
        "labels": labels,
        "annotations": {"description": f"Instance {instance} has been down for over 5m. Job: http_checks",
                        "summary": f"BlackBox Probe Failure: {instance}",
                        "runbook_url": "https://runbooks.example.org/probe-failure"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1",
        "fingerprint": fingerprint or hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16],
    }


def alertmanager_group(*alerts: dict[str, Any], status: str | None = None, name: str = "ProbeFailure",
                       version: str = "4") -> dict[str, Any]:
    """A webhook body (version 4) for one alert group, as in Alertmanager's documentation."""
    alerts = alerts or (alert(name),)
    firing = any(a["status"] == "firing" for a in alerts)
    common = dict(alerts[0]["labels"]) if len(alerts) == 1 else {"alertname": name, "job": "http_checks"}
    return {
        "receiver": "incident-bot",
        "status": status or ("firing" if firing else "resolved"),
        "alerts": list(alerts),
        "groupLabels": {"alertname": name},
        "commonLabels": common,
        "commonAnnotations": dict(alerts[0]["annotations"]) if len(alerts) == 1 else {},
        "externalURL": "http://alertmanager.example.org:9093",
        "version": version,
        "groupKey": f'{{}}/{{severity="critical"}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
    }


def grafana_group(*alerts: dict[str, Any]) -> dict[str, Any]:
    """What Grafana's webhook contact point sends: the same shape, version 1, and a few fields of its own."""
    body = alertmanager_group(*alerts, version="1")
    body.update({"orgId": 1, "title": "[FIRING:1] ProbeFailure", "state": "alerting", "message": "**Firing**"})
    for item in body["alerts"]:
        item.update({"silenceURL": "https://grafana.example.org/alerting/silence/new", "dashboardURL": "",
                     "panelURL": "", "values": {"B": 1.0}})
    return body


async def post_pagerduty(url: str, payload: dict[str, Any], *, secrets: tuple[str, ...] = (PAGERDUTY_SECRET,),
                         signature: str | None = None) -> httpx.Response:
    """Deliver a V3 webhook to the bot at ``url``, signed as PagerDuty signs it."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Webhook-Id": str(uuid.uuid4())}
    if signature is not None or secrets:
        headers["X-PagerDuty-Signature"] = signature if signature is not None else pagerduty_signature(body, *secrets)
    async with httpx.AsyncClient() as client:
        return await client.post(f"{url}/webhooks/pagerduty", content=body, headers=headers)


async def post_alertmanager(url: str, payload: dict[str, Any] | bytes, *,
                            token: str | None = ALERTS_TOKEN) -> httpx.Response:
    """Deliver an alert group to the bot at ``url`` with Alertmanager's ``Authorization: Bearer``."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Alertmanager/0.28.0"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient() as client:
        return await client.post(f"{url}/webhooks/alertmanager", content=body, headers=headers)
