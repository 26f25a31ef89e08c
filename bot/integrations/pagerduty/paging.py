"""Sending the pages recorded with incident changes (:mod:`bot.incidents.paging`): the worker's side.

Each page acts on the incident as it is when the page goes out: a trigger
for an incident resolved meanwhile is not sent, a resolve for one reopened
meanwhile is not either, and an incident's pages go out in the order they
were recorded (a later one waits while an earlier one is pending). A
trigger waits a few seconds for the incident channel so the page can link
it (and its people, who are told if the page fails), but never for long:
paging must not depend on Slack. PagerDuty being
away is retried with backoff; the incident commander hears of it after a
few tries, and of the final failure.
"""

from __future__ import annotations

from typing import Any

from bot.consequences.failures import report_failure
from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import Busy, ServiceCallFailed
from bot.incidents.records import load_incident
from bot.integrations.pagerduty import events
from storage import queries
from storage.models import FollowUpWork, Incident, OncallPage

PAGE_TRIES = 10
"""Tries before a page fails for good (the worker's backoff makes that about eight minutes)."""
TELL_AFTER_TRIES = 4
"""Tries after which the incident commander hears that PagerDuty is not taking the page yet."""
CHANNEL_WAIT_TRIES = 3
"""Tries a trigger waits for the incident channel and its people (about three seconds; the page links the
channel, and the incident commander in it hears if the page fails) before paging without them."""
PAGING_KINDS = (Work.PAGE_ONCALL.value, Work.RESOLVE_PAGE.value)
TRIGGER, RESOLVE = "trigger", "resolve"


async def page_oncall(ctx: BotContext, work: FollowUpWork) -> None:
    """Trigger the page for an incident that is still open."""
    incident = await _in_turn(ctx, work)
    if not incident.is_open:
        return
    if not (incident.channel_id and incident.members_invited) and work.attempts < CHANNEL_WAIT_TRIES:
        raise Busy("setting up the incident channel")
    routing_key = _routing_key(ctx)
    event = events.trigger(incident, routing_key=routing_key, channel_url=await _channel_url(ctx, incident),
                           channel_name=incident.channel_name if incident.channel_id else None)
    await _send(ctx, work, event, operation="paging the on-call")
    cause = str(work.payload.get("cause", ""))
    await _record(ctx, work, incident, action=TRIGGER, summary=event["payload"]["summary"], cause=cause,
                  entry=("paged", f"Paged the on-call through PagerDuty ({cause})" if cause
                         else "Paged the on-call through PagerDuty"))


async def resolve_page(ctx: BotContext, work: FollowUpWork) -> None:
    """Resolve the page of a resolved incident, if one went out and is not resolved yet."""
    incident = await _in_turn(ctx, work)
    if incident.is_open:
        return
    assert incident.id is not None
    async with ctx.db.session() as session:
        pages = await queries.pages_for_incident(session=session, incident_id=incident.id)
    if not pages or pages[-1].action != TRIGGER:
        return
    await _send(ctx, work, events.resolve(incident, routing_key=_routing_key(ctx)), operation="resolving the page")
    await _record(ctx, work, incident, action=RESOLVE, summary=events.summary(incident), cause="resolved",
                  entry=("page_resolved", "Resolved the page in PagerDuty"))


async def _in_turn(ctx: BotContext, work: FollowUpWork) -> Incident:
    """The incident, once every page recorded before this one has gone out (or failed for good)."""
    assert work.incident_id is not None and work.id is not None
    async with ctx.db.session() as session:
        waiting = await queries.earlier_paging_pending(session=session, incident_id=work.incident_id,
                                                       kinds=PAGING_KINDS, work_id=work.id)
    if waiting:
        raise Busy("an earlier page of this incident")
    return await load_incident(ctx, work.incident_id)


def _routing_key(ctx: BotContext) -> str:
    key = ctx.settings.pagerduty_routing_key
    if key is None:  # start-up refuses a paging [pagerduty] table without one; the table may have gone since
        raise ServiceCallFailed(events.SERVICE, "paging the on-call", "PAGERDUTY_ROUTING_KEY is not set",
                                transient=False)
    return key.get_secret_value()


def _events_url(ctx: BotContext) -> str:
    assert ctx.config.pagerduty is not None
    return ctx.config.pagerduty.events_url


async def _channel_url(ctx: BotContext, incident: Incident) -> str | None:
    """The channel's address in the workspace, for the on-call to open from the page."""
    if incident.channel_id is None:
        return None
    workspace = str((await ctx.slack.identity()).get("url") or "https://slack.com/")
    return f"{workspace.rstrip('/')}/archives/{incident.channel_id}"


async def _send(ctx: BotContext, work: FollowUpWork, event: dict[str, Any], *, operation: str) -> None:
    """Send, turning a PagerDuty that stays away into a final failure after :data:`PAGE_TRIES`."""
    if ctx.config.pagerduty is None:
        raise ServiceCallFailed(events.SERVICE, operation, "the [pagerduty] table is no longer configured",
                                transient=False)
    try:
        await events.send(ctx.http, _events_url(ctx), event, operation=operation)
    except ServiceCallFailed as exc:
        if not exc.transient:
            raise
        if work.attempts >= PAGE_TRIES:
            raise ServiceCallFailed(events.SERVICE, operation, f"{exc.error}, after {work.attempts} tries",
                                    transient=False) from exc
        if work.attempts == TELL_AFTER_TRIES:
            await report_failure(ctx, work, exc, keep_trying=True)
        raise


async def _record(ctx: BotContext, work: FollowUpWork, incident: Incident, *, action: str, summary: str,
                  cause: str, entry: tuple[str, str]) -> None:
    """The page as PagerDuty accepted it, on the timeline and (through the summary) in the channel."""
    assert incident.id is not None and work.id is not None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        recorded = await queries.record_page(session=session, page=OncallPage(
            incident_id=incident.id, work_id=work.id, action=action, dedup_key=incident.reference,
            summary=summary, cause=cause, requested_by=work.requested_by, sent_at=now))
        if not recorded:
            return
        await queries.add_timeline(session=session, incident_id=incident.id, kind=entry[0], text=entry[1], at=now,
                                   data={"dedup_key": incident.reference, "action": action},
                                   dedupe_key=f"page:{work.id}")
        await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident.id)
