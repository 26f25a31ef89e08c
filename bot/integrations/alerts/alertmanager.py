"""Alertmanager's webhook (payload version 4), and Grafana's webhook contact point (the same shape, version 1).

A delivery reports one alert group: its ``groupKey`` names the alert here, its
``status`` says whether any alert in it still fires. Alertmanager sends the
group again on every ``group_interval`` change and ``repeat_interval``; a
delivery naming the same alerts in the same state is the same news, so its
digest (group, status, each alert's fingerprint, state and start) is what
repeated deliveries are recognised by.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.integrations.alerts.events import (
    AlertEvent,
    BadPayload,
    Change,
    Link,
    sender,
    validated,
    web_links,
)

VERSIONS = {"4": "alertmanager", "1": "grafana"}
"""Payload versions, and the source each comes from: Alertmanager's is 4, Grafana's contact point says 1."""
DETAIL_ALERTS_MAX = 5
BEARER = "Bearer "


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether ``Authorization`` carries exactly this bearer token (compared in constant time)."""
    if not header or not header.startswith(BEARER):
        return False
    return hmac.compare_digest(header[len(BEARER):].strip().encode(), token.encode())


class _Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""
    silenceURL: str = ""
    dashboardURL: str = ""
    panelURL: str = ""


class _Group(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: str
    groupKey: str = Field(min_length=1)
    status: Literal["firing", "resolved"]
    alerts: list[_Alert] = Field(min_length=1)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    truncatedAlerts: int = 0


def read_group(body: bytes) -> AlertEvent:
    """The alert group in a webhook body; :class:`BadPayload` when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("the body is not JSON") from None
    group = validated(_Group, data)
    source = VERSIONS.get(group.version)
    if source is None:
        raise BadPayload(f'version: {group.version[:20]!r} is not a supported payload version ("4", or "1" from Grafana)')
    firing = [alert for alert in group.alerts if alert.status == "firing"]
    change = Change.FIRING if group.status == "firing" else Change.RESOLVED
    return AlertEvent(
        source=source,
        key=hashlib.sha256(group.groupKey.encode()).hexdigest(),
        delivery=f"{source}:{_digest(group)}",
        change=change,
        title=_title(group),
        started_at=min(alert.startsAt for alert in firing or group.alerts),
        severity_labels=tuple(alert.labels["severity"] for alert in firing or group.alerts if "severity" in alert.labels),
        details=_details(group, firing),
        links=_links(group, sender(source)),
        occurred_at=_resolved_at(group) if change == Change.RESOLVED else None,
        firing=len(firing) + (group.truncatedAlerts if change == Change.FIRING else 0),
    )


def _digest(group: _Group) -> str:
    """The same for deliveries that report the same alerts in the same state."""
    alerts = sorted((_fingerprint(alert), alert.status, alert.startsAt.isoformat()) for alert in group.alerts)
    return hashlib.sha256(json.dumps([group.groupKey, group.status, alerts]).encode()).hexdigest()


def _fingerprint(alert: _Alert) -> str:
    """Alertmanager's fingerprint, or (from senders without one) a digest of the labels."""
    return alert.fingerprint or hashlib.sha256(json.dumps(sorted(alert.labels.items())).encode()).hexdigest()[:16]


def _title(group: _Group) -> str:
    """The common summary when the alerts share one; else the alert's name and what it is grouped by."""
    summary = group.commonAnnotations.get("summary", "").strip()
    if summary:
        return summary
    name = group.commonLabels.get("alertname") or group.groupLabels.get("alertname") or "Alert"
    by = ", ".join(f"{label}={value}" for label, value in group.groupLabels.items() if label != "alertname")
    return f"{name} ({by})" if by else name


def _details(group: _Group, firing: list[_Alert]) -> str:
    """What the alerts say about themselves, for the announcement and the declare form."""
    lines: list[str] = []
    description = group.commonAnnotations.get("description", "").strip()
    if description:
        lines.append(description)
    shown = firing or group.alerts
    for alert in shown[:DETAIL_ALERTS_MAX]:
        words = alert.annotations.get("summary") or alert.annotations.get("description") or ""
        labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k not in group.commonLabels)
        line = " · ".join(part for part in (words.strip(), labels) if part)
        if line and line != description:
            lines.append(f"• {line}")
    more = len(shown) - DETAIL_ALERTS_MAX + group.truncatedAlerts
    if more > 0:
        lines.append(f"…and {more} more alerts")
    common = ", ".join(f"{k}={v}" for k, v in sorted(group.commonLabels.items()))
    if common:
        lines.append(f"Labels: {common}")
    return "\n".join(lines)


def _links(group: _Group, name: str) -> tuple[Link, ...]:
    candidates: list[tuple[str, str | None]] = []
    for alert in group.alerts:
        candidates += [("Source", alert.generatorURL), ("Runbook", alert.annotations.get("runbook_url")),
                       ("Dashboard", alert.dashboardURL), ("Panel", alert.panelURL), ("Silence", alert.silenceURL)]
    candidates += [("Runbook", group.commonAnnotations.get("runbook_url")), (name, group.externalURL)]
    return web_links(candidates)


def _resolved_at(group: _Group) -> datetime | None:
    """When the last alert of the group stopped firing, if the sender says."""
    ends = [alert.endsAt for alert in group.alerts if alert.endsAt is not None and alert.endsAt.year > 1]
    return max(ends) if ends else None
