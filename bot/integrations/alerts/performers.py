"""The work an alert leads to, done by the worker: declaring, announcing, keeping its message true.

Each piece reads the alert as it is now and is safe to run again: the declare
uses the alert's one request key (a second run finds the incident), messages
carry their piece of work's marker (a retry finds the post), and a message
update rewrites the whole message from the database.
"""

from __future__ import annotations

from bot.consequences.messages import post_once
from bot.context import BotContext
from bot.errors import Busy
from bot.incidents.declare import declare_incident
from bot.incidents.records import load_incident
from bot.integrations.alerts import messages
from bot.integrations.alerts.events import sender
from bot.slack.forms import DeclareRequest, alert_request_key
from storage import queries
from storage.models import Alert, FollowUpWork, Incident
from storage.severity import Severity


async def declare_from_alert(ctx: BotContext, work: FollowUpWork) -> None:
    """``declare = "auto"``: the real declare, by the bot, at the mapped severity, detected when the alert began."""
    alert = await _alert(ctx, work)
    if alert.incident_id is not None:
        return
    assert alert.id is not None
    identity = await ctx.slack.identity()
    await declare_incident(ctx, DeclareRequest(
        request_key=alert_request_key(alert.id),
        title=messages.incident_title(alert),
        severity=Severity.of(alert.severity or Severity.SEV3),
        declared_by=str(identity["user_id"]),
        description=messages.description(alert),
        alert_id=alert.id,
        detected_at=alert.started_at,
        automatic=True,
    ))


async def announce_alert(ctx: BotContext, work: FollowUpWork) -> None:
    """``declare = "button"``: the alert in the announcements channel, with *Declare incident* and *Dismiss*."""
    alert = await _alert(ctx, work)
    if alert.announcement_ts is not None:
        return
    text, blocks = messages.announcement(ctx, alert, await _incident(ctx, alert))
    channel = await ctx.slack.resolve_channel(ctx.config.announcements_channel)
    posted = await post_once(ctx, work, channel, text, message_blocks=blocks, join=True)
    async with ctx.db.session() as session:
        stored = await queries.get_alert(session=session, alert_id=alert.id or 0)
        assert stored is not None
        stored.announcement_channel_id, stored.announcement_ts = posted.channel, posted.ts
        session.add(stored)


async def refresh_alert_message(ctx: BotContext, work: FollowUpWork) -> None:
    """Rewrite the alert's message from what is stored now (resolved, dismissed, declared).

    While the message is still being posted, this waits for it: the post may
    show the alert as it was before the change this refresh is for.
    """
    alert = await _alert(ctx, work)
    if alert.announcement_ts is None:
        async with ctx.db.session() as session:
            if await queries.work_pending(session=session, key=announce_key(alert.id or 0)):
                raise Busy("posting the alert")
    await _refresh(ctx, alert)


async def note_declared(ctx: BotContext, work: FollowUpWork) -> None:
    """After a declare from an alert: the timeline, the alert's message, and a note in the new channel."""
    alert = await _alert(ctx, work)
    incident = await load_incident(ctx, int(work.incident_id or 0))
    assert incident.id is not None and alert.id is not None
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="alert_linked", at=alert.received_at,
            text=f"Declared from the {sender(alert.source)} alert: {alert.title}",
            data={"alert_id": alert.id, "source": alert.source}, dedupe_key=f"alert:{alert.id}:linked")
    await _refresh(ctx, alert)
    if incident.channel_id is None:
        raise Busy("creating the incident channel")
    await post_once(ctx, work, incident.channel_id, messages.declared_note(ctx, alert))


def announce_key(alert_id: int) -> str:
    """The key the announcement of an alert is recorded under (one announcement per alert)."""
    return f"alert:{alert_id}:announce"


async def _refresh(ctx: BotContext, alert: Alert) -> None:
    if alert.announcement_channel_id is None or alert.announcement_ts is None:
        return
    text, blocks = messages.announcement(ctx, alert, await _incident(ctx, alert))
    await ctx.slack.update_message(alert.announcement_channel_id, alert.announcement_ts, text=text, blocks=blocks)


async def _alert(ctx: BotContext, work: FollowUpWork) -> Alert:
    async with ctx.db.session() as session:
        alert = await queries.get_alert(session=session, alert_id=int(work.payload["alert_id"]))
    if alert is None:
        raise LookupError(f"alert {work.payload['alert_id']} does not exist")
    return alert


async def _incident(ctx: BotContext, alert: Alert) -> Incident | None:
    return await load_incident(ctx, alert.incident_id) if alert.incident_id is not None else None
