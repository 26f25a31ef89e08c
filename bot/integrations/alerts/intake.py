"""What an alert delivery changes, decided in one transaction with the work that follows it.

Every delivery is claimed once (by PagerDuty's event id, or a digest of what
an alert group reports), so a delivery sent again changes nothing. The first
report of an alert firing opens an occurrence of it (the database lets
exactly one delivery do so) and records either the declare
(``declare = "auto"``) or the announcement with buttons (``"button"``).
Later reports about the same alert (it fires again, is acknowledged,
resolves) update it and go on the linked incident's timeline, each once; only
changes of state reach Slack, so a flood of deliveries costs Slack nothing.
The bot's own page, coming back as a PagerDuty incident, is linked to the
incident that paged, never announced as news.
"""

from __future__ import annotations

import re

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.integrations.alerts.events import AlertEvent, Change, sender
from bot.integrations.alerts.performers import announce_key
from storage import queries
from storage.models import Alert, AlertHandling, AlertStatus, Incident
from storage.severity import Severity

PAGERDUTY = "pagerduty"
KEY_MAX = 255
_REFERENCE = re.compile(r"INC-([0-9]{1,18})")
NEW_STATUS = {Change.FIRING: AlertStatus.FIRING, Change.REOPENED: AlertStatus.FIRING,
              Change.UNACKNOWLEDGED: AlertStatus.FIRING, Change.ACKNOWLEDGED: AlertStatus.ACKNOWLEDGED,
              Change.RESOLVED: AlertStatus.RESOLVED}


async def receive_alert(ctx: BotContext, event: AlertEvent) -> str:
    """Handle one verified delivery; returns what happened, in words for the sender's answer and the log."""
    async with ctx.db.session() as session:
        if not await queries.claim_delivery(session=session, key=event.delivery[:KEY_MAX]):
            return "already received; nothing changed"
        alert = await queries.latest_alert(session=session, source=event.source, key=event.key)
        if event.change == Change.FIRING and await _over(session, alert):
            outcome = await _open(ctx, session, event, previous=alert)
            if outcome is not None:
                return outcome
            alert = await queries.latest_alert(session=session, source=event.source, key=event.key)
        if alert is None:
            return "ignored: the bot has no record of this alert"
        return await _apply(ctx, session, alert, event)


async def _over(session: AsyncSession, alert: Alert | None) -> bool:
    """Whether firing now starts a new occurrence: the last one resolved and its incident (if any) too."""
    if alert is None:
        return True
    if alert.status != AlertStatus.RESOLVED:
        return False
    if alert.incident_id is None:
        return True
    incident = await queries.get_incident(session=session, incident_id=alert.incident_id)
    return incident is None or not incident.is_open


async def _open(ctx: BotContext, session: AsyncSession, event: AlertEvent, *, previous: Alert | None) -> str | None:
    """Store a new occurrence and record what follows it; None when a concurrent delivery was first."""
    own_page = await _paging_incident(session, event)
    mode = _declare_mode(ctx, event.source)
    if own_page is None and mode == "off":
        return f'ignored: declare = "off" for {sender(event.source)}'
    now = ctx.clock.now()
    alert = await queries.open_alert(session=session, alert=Alert(
        source=event.source, key=event.key, occurrence=previous.occurrence + 1 if previous else 1,
        handling=AlertHandling.PAGE if own_page else AlertHandling(mode),
        title=event.title[:200], severity=_severity(ctx, event), details=event.details,
        links=[[link.text, link.url] for link in event.links], assignees=list(event.assignees),
        started_at=event.started_at, received_at=now, status_at=event.occurred_at or now,
        incident_id=own_page.id if own_page else None,
    ))
    if alert is None:
        return None
    assert alert.id is not None
    if own_page is not None:
        await _log(ctx, session, own_page, alert, event, kind="page_opened",
                   text=f"PagerDuty paged {_names(event)} for {own_page.reference}", in_channel=True)
        return f"linked to {own_page.reference}, whose page it is"
    if alert.handling == AlertHandling.AUTO:
        await follow_with(ctx, session, Work.DECLARE_FROM_ALERT, incident_id=None, payload={"alert_id": alert.id},
                          key=f"alert:{alert.id}:declare")
        return "declaring an incident"
    await follow_with(ctx, session, Work.ANNOUNCE_ALERT, incident_id=None, payload={"alert_id": alert.id},
                      key=announce_key(alert.id))
    return "asking in the announcements channel"


async def _apply(ctx: BotContext, session: AsyncSession, alert: Alert, event: AlertEvent) -> str:
    """A later report about a known alert: its state, and the linked incident's timeline."""
    before = alert.status
    alert.status = NEW_STATUS.get(event.change, alert.status)
    changed = alert.status != before or event.change == Change.REASSIGNED
    if alert.status != before:
        alert.status_at = event.occurred_at or ctx.clock.now()
    if event.assignees:
        alert.assignees = list(event.assignees)
    if event.change == Change.FIRING and event.details:
        alert.details, alert.links = event.details, [[link.text, link.url] for link in event.links]
    session.add(alert)
    assert alert.id is not None
    if alert.incident_id is None:
        if changed and alert.handling == AlertHandling.BUTTON:
            await follow_with(ctx, session, Work.REFRESH_ALERT, incident_id=None, payload={"alert_id": alert.id})
        return f"noted: the alert is {alert.status.value}"
    incident = await queries.get_incident(session=session, incident_id=alert.incident_id)
    if incident is None:
        return "ignored: the alert's incident no longer exists"
    logged = await _log(ctx, session, incident, alert, event, kind=f"alert_{event.change.value}",
                        text=_entry(alert, event), in_channel=changed)
    if not logged:
        return f"already on the timeline of {incident.reference}"
    if event.change == Change.ACKNOWLEDGED:
        await follow_with(ctx, session, Work.RECORD_RESPONSE, incident_id=incident.id, payload={
            "at": (event.occurred_at or ctx.clock.now()).isoformat(), "check_in": False})
    return f"logged on the timeline of {incident.reference}"


async def _log(ctx: BotContext, session: AsyncSession, incident: Incident, alert: Alert, event: AlertEvent, *,
               kind: str, text: str, in_channel: bool) -> bool:
    """One timeline entry per delivery; a change of state is also told in the channel and the summary."""
    assert incident.id is not None
    entry = await queries.add_timeline(
        session=session, incident_id=incident.id, kind=kind, text=text, at=event.occurred_at or ctx.clock.now(),
        data={"alert_id": alert.id, "source": alert.source, "change": event.change.value},
        dedupe_key=f"alert:{alert.id}:{event.delivery}"[:KEY_MAX],
    )
    if entry is None:
        return False
    if in_channel:
        message = ctx.render.slack("alert_changed", alert=alert, change=event.change.value, actor=event.actor,
                                   sender=sender(alert.source), names=_names(event), own_page=alert.handling ==
                                   AlertHandling.PAGE, firing=event.firing, opened=kind == "page_opened")
        await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident.id, payload={"text": message})
        await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident.id)
    return True


def _entry(alert: Alert, event: AlertEvent) -> str:
    """The timeline's words for a later report."""
    where, by = sender(alert.source), f" by {event.actor}" if event.actor else ""
    match event.change:
        case Change.FIRING:
            return f"{where}: {alert.title} fired again" + (f" ({event.firing} alerts firing)" if event.firing > 1 else "")
        case Change.ACKNOWLEDGED:
            return f"Acknowledged in {where}{by}"
        case Change.UNACKNOWLEDGED:
            return f"No longer acknowledged in {where}"
        case Change.REASSIGNED:
            return f"{where} assigned it to {_names(event)}"
        case Change.RESOLVED:
            return f"Resolved in {where}{by}"
        case Change.REOPENED:
            return f"Reopened in {where}{by}"


def _names(event: AlertEvent) -> str:
    return ", ".join(event.assignees) or "the on-call"


async def _paging_incident(session: AsyncSession, event: AlertEvent) -> Incident | None:
    """The incident whose own page this PagerDuty incident is (its key is the incident's reference)."""
    match = _REFERENCE.fullmatch(event.page_key or "") if event.source == PAGERDUTY else None
    if match is None:
        return None
    incident = await queries.get_incident(session=session, incident_id=int(match.group(1)))
    if incident is None or incident.id is None:
        return None
    paged = await queries.paging_work_recorded(session=session, incident_id=incident.id, kind=Work.PAGE_ONCALL)
    return incident if paged else None


def _declare_mode(ctx: BotContext, source: str) -> str:
    table = ctx.config.pagerduty if source == PAGERDUTY else ctx.config.alerts
    return table.declare if table is not None else "off"


def _severity(ctx: BotContext, event: AlertEvent) -> int:
    """The severity the config maps the alert to: the most severe of its labels, else the table's default."""
    if event.source == PAGERDUTY:
        pagerduty = ctx.config.pagerduty
        mapped = [pagerduty.severity_of(label) for label in event.severity_labels] if pagerduty else []
        return min(mapped, default=Severity.SEV3)
    alerts = ctx.config.alerts
    if alerts is None:
        return Severity.SEV3
    found = [s for s in (alerts.severity_of(label) for label in event.severity_labels) if s is not None]
    return min(found, default=alerts.default_severity)

