"""The tracker work that follows changes: opening and closing tickets, keeping the incident's current.

Each function is a performer of the follow-up worker and is safe to run again:
a ticket already recorded is not opened twice, and a retried attempt first
looks in the tracker for the ticket an interrupted one may have opened. A
ticket is recorded on its action item (or incident) with a conditional
update, so two workers can never record two tickets for one item.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import Busy, ServiceCallFailed
from bot.incidents.records import load_incident
from bot.integrations.tickets.providers import tracker_for
from bot.integrations.tickets.specs import Person, action_item_spec, incident_spec
from bot.integrations.tickets.tracker import Ticket, TicketSpec, Tracker
from bot.slack.mentions import with_mentions
from storage import queries
from storage.models import ActionItem, FollowUpWork, Incident, WorkState

log = logging.getLogger(__name__)


def open_key(item_id: int) -> str:
    return f"ticket:open:{item_id}"


def close_key(item_id: int) -> str:
    return f"ticket:close:{item_id}"


def incident_key(incident_id: int) -> str:
    """The incident's ticket is opened as a declare step, under the declare's own key."""
    return f"declare:{incident_id}:{Work.OPEN_INCIDENT_TICKET.value}"


async def open_ticket(ctx: BotContext, work: FollowUpWork) -> None:
    """Open the action item's ticket, assigned to its owner where the tracker knows their e-mail."""
    item, incident = await _item(ctx, work)
    if item.ticket_id is not None:
        return
    tracker = tracker_for(ctx)
    spec, owner = await action_item_spec(ctx, incident, item)
    ticket = await _earlier_attempt(ctx, tracker, spec, work)
    if ticket is None:
        ticket = await tracker.open(replace(spec, assignee=await _assignee(tracker, owner)))
    assert item.id is not None and incident.id is not None
    async with ctx.db.session() as session:
        if not await queries.set_action_item_ticket(session=session, item_id=item.id, ticket_id=ticket.id,
                                                    key=ticket.key, url=ticket.url):
            return
        await _note_opened(ctx, session, incident.id, tracker, ticket, opened_for=f"action item #{item.number}",
                           number=item.number)
        text = ctx.render.slack("ticket_opened", incident=incident, item=item, ticket=ticket, tracker=tracker.name,
                                text=with_mentions(item.text))
        await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident.id, payload={"text": text})
        await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident.id, payload={"topic": False})


async def close_ticket(ctx: BotContext, work: FollowUpWork) -> None:
    """Close the ticket of an action item closed in Slack; waits while the ticket is still being opened."""
    item, incident = await _item(ctx, work)
    tracker = tracker_for(ctx)
    assert item.id is not None
    ticket = await _opened_ticket(ctx, tracker, item, open_key(item.id), "closing the ticket")
    if ticket is None:
        return
    await tracker.close(ticket)
    assert incident.id is not None
    async with ctx.db.session() as session:
        await queries.add_timeline(session=session, incident_id=incident.id, kind="ticket_closed",
                                   at=ctx.clock.now(), text=f"{tracker.name} ticket {ticket.key} closed",
                                   data={"number": item.number, "key": ticket.key})


async def open_incident_ticket(ctx: BotContext, work: FollowUpWork) -> None:
    """Open the incident's own ticket (``incident_ticket = true``) once its channel exists."""
    incident = await _incident(ctx, work)
    if incident.ticket_id is not None:
        return
    tracker = tracker_for(ctx)
    spec = await incident_spec(ctx, incident)
    ticket = await _earlier_attempt(ctx, tracker, spec, work) or await tracker.open(spec)
    assert incident.id is not None
    async with ctx.db.session() as session:
        if not await queries.set_incident_ticket(session=session, incident_id=incident.id, ticket_id=ticket.id,
                                                 key=ticket.key, url=ticket.url):
            return
        await _note_opened(ctx, session, incident.id, tracker, ticket, opened_for="the incident")
        await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident.id, payload={"topic": False})
        if not incident.is_open:  # resolved while the ticket was being opened
            await follow_with(ctx, session, Work.UPDATE_INCIDENT_TICKET, incident_id=incident.id)


async def update_incident_ticket(ctx: BotContext, work: FollowUpWork) -> None:
    """Bring the incident's ticket up to date (severity, title, resolution); close it once resolved."""
    incident = await _incident(ctx, work)
    tracker = tracker_for(ctx)
    assert incident.id is not None
    ticket = await _opened_ticket(ctx, tracker, incident, incident_key(incident.id), "updating the incident's ticket")
    if ticket is None:
        return
    await tracker.update(ticket, await incident_spec(ctx, incident))
    if not incident.is_open:
        await tracker.close(ticket)


async def _earlier_attempt(ctx: BotContext, tracker: Tracker, spec: TicketSpec, work: FollowUpWork) -> Ticket | None:
    """On a retry, the ticket an interrupted attempt opened, unless another record already owns it."""
    if work.attempts <= 1:
        return None
    found = await tracker.find_opened(spec)
    if found is None or spec.is_incident:
        return found
    async with ctx.db.session() as session:
        owner = await queries.action_item_by_ticket(session=session, ticket_id=found.id)
    return found if owner is None else None


async def _assignee(tracker: Tracker, owner: Person | None) -> str | None:
    """The owner as the tracker knows them; a lookup the tracker refuses leaves the ticket unassigned."""
    if owner is None or owner.email is None:
        return None
    try:
        return await tracker.find_person(owner.email)
    except ServiceCallFailed as exc:
        if exc.transient:
            raise
        log.warning("%s would not look up the owner, so the ticket is unassigned: %s", tracker.name, exc)
        return None


async def _note_opened(ctx: BotContext, session: AsyncSession, incident_id: int, tracker: Tracker, ticket: Ticket,
                       *, opened_for: str, **data: Any) -> None:
    """The timeline's ``ticket_opened`` entry: which tracker, which ticket, and what it was opened for."""
    await queries.add_timeline(
        session=session, incident_id=incident_id, kind="ticket_opened", at=ctx.clock.now(),
        text=f"{tracker.name} ticket {ticket.key} opened for {opened_for}: {ticket.url}",
        data={**data, "key": ticket.key, "url": ticket.url, "tracker": tracker.name},
    )


async def _opened_ticket(ctx: BotContext, tracker: Tracker, record: ActionItem | Incident, opening_key: str,
                         operation: str) -> Ticket | None:
    """The ticket recorded on an action item or incident; None when it never opened (nothing to do).

    A ticket still being opened (its work under ``opening_key`` pending) is waited for: the
    operation fails as transient and is tried again later.
    """
    async with ctx.db.session() as session:
        state = await queries.work_state(session=session, key=opening_key)
        assert record.id is not None  # read after the state, so an opening that just finished is seen
        if isinstance(record, ActionItem):
            fresh: ActionItem | Incident | None = await queries.action_item_by_id(session=session, item_id=record.id)
        else:
            fresh = await queries.get_incident(session=session, incident_id=record.id)
    if fresh is not None and fresh.ticket_id is not None and fresh.ticket_key is not None \
            and fresh.ticket_url is not None:
        return Ticket(id=fresh.ticket_id, key=fresh.ticket_key, url=fresh.ticket_url)
    if state == WorkState.PENDING:
        raise Busy(f"{operation} (the ticket is still being opened)")
    return None


async def _item(ctx: BotContext, work: FollowUpWork) -> tuple[ActionItem, Incident]:
    async with ctx.db.session() as session:
        item = await queries.action_item_by_id(session=session, item_id=int(work.payload["item_id"]))
    if item is None:
        raise LookupError(f"action item {work.payload['item_id']} does not exist")
    return item, await load_incident(ctx, item.incident_id)


async def _incident(ctx: BotContext, work: FollowUpWork) -> Incident:
    assert work.incident_id is not None
    return await load_incident(ctx, work.incident_id)
