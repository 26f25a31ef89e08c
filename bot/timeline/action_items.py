"""Follow-up action items: added and closed from the incident channel, listed in the summary."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from datetime import date

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.slack.subcommands import COMMANDS
from bot.context import BotContext
from bot.errors import IncidentError, UsageError
from bot.slack.mentions import with_mentions
from bot.incidents.people import require_person
from storage import queries
from storage.models import ActionItem, Incident


def check_due(due: date | None, *, today: date) -> None:
    """A due date must not be in the past: nobody can meet it."""
    if due is not None and due < today:
        raise UsageError(
            f"The due date {due.isoformat()} is in the past (today is {today.isoformat()}); "
            f"nothing was added.\nUsage: `{COMMANDS['action'].usage}`"
        )


async def add_action_item(ctx: BotContext, incident: Incident, text: str, *, owner: str | None,
                          due: date | None, actor: str) -> None:
    """Store a numbered action item, announce it, log it, and show it in the summary."""
    assert incident.id is not None
    check_due(due, today=ctx.clock.now().astimezone(ctx.config.tz).date())
    if owner is not None:
        await require_person(ctx, owner, usage=COMMANDS["action"].usage)
    async with ctx.incident_locks[incident.id]:
        async with ctx.db.session() as session:
            await queries.incident_for_update(session=session, incident_id=incident.id)
            item = await queries.add_action_item(session=session, incident_id=incident.id, text=text, owner=owner,
                                                 due=due, created_by=actor)
            await queries.add_timeline(
                session=session, incident_id=incident.id, kind="action_added", actor=actor, at=ctx.clock.now(),
                text=f"Action item #{item.number} added: {text}"
                     + (f" (owner <@{owner}>)" if owner else "") + (f", due {due.isoformat()}" if due else ""),
                data={"number": item.number, "owner": owner, "due": due.isoformat() if due else None},
            )
            message = ctx.render.slack("action_added", incident=incident, item=item, text=with_mentions(item.text),
                                       actor=actor, tracker=_tracker_name(ctx))
            await _follow(ctx, session, incident.id, message, actor)
            if ctx.config.tickets is not None:
                await follow_with(ctx, session, Work.OPEN_TICKET, incident_id=incident.id, payload={"item_id": item.id},
                                  key=f"ticket:open:{item.id}", requested_by=actor)


async def complete_action_item(ctx: BotContext, incident: Incident, number: int, *, actor: str) -> None:
    """Close an action item by its number, once."""
    assert incident.id is not None
    async with ctx.incident_locks[incident.id]:
        async with ctx.db.session() as session:
            item = await queries.action_item(session=session, incident_id=incident.id, number=number)
            if item is None:
                items = await queries.action_items(session=session, incident_id=incident.id)
                known = ", ".join(f"#{i.number}" for i in items if not i.is_done) or "none open"
                raise UsageError(
                    f"{incident.reference} has no action item #{number} (open: {known}); nothing was changed.\n"
                    f"Usage: `{COMMANDS['action'].usage}`"
                )
            if item.is_done:
                raise IncidentError(f"Action item #{number} of {incident.reference} is already closed.")
            await _close(ctx, session, incident, item, actor=actor)
            if ctx.config.tickets is not None:
                await follow_with(ctx, session, Work.CLOSE_TICKET, incident_id=incident.id, payload={"item_id": item.id},
                                  key=f"ticket:close:{item.id}", requested_by=actor)


async def close_from_tracker(ctx: BotContext, ticket_id: str, *, tracker: str) -> bool:
    """A ticket was closed in the tracker: close its action item too, once; False when nothing changed.

    Nothing is sent back to the tracker, whose ticket is closed already.
    """
    async with ctx.db.session() as session:
        found = await queries.action_item_by_ticket(session=session, ticket_id=ticket_id)
    if found is None or found.is_done:
        return False
    async with ctx.incident_locks[found.incident_id]:
        async with ctx.db.session() as session:
            incident = await queries.incident_for_update(session=session, incident_id=found.incident_id)
            item = await queries.action_item_by_id(session=session, item_id=found.id) if found.id else None
            if incident is None or item is None or item.is_done:
                return False
            await _close(ctx, session, incident, item, actor=None, tracker=tracker)
    return True


async def _close(ctx: BotContext, session: AsyncSession, incident: Incident, item: ActionItem, *,
                 actor: str | None, tracker: str | None = None) -> None:
    """Mark the item done, log it, and let the channel and the summary show it."""
    assert incident.id is not None
    item.done_at = ctx.clock.now()
    item.done_by = actor
    session.add(item)
    where = f" in {tracker} ({item.ticket_key})" if tracker else ""
    await queries.add_timeline(
        session=session, incident_id=incident.id, kind="action_done", actor=actor, at=ctx.clock.now(),
        text=f"Action item #{item.number} closed{where}: {item.text}", data={"number": item.number},
    )
    message = ctx.render.slack("action_done", incident=incident, item=item, text=with_mentions(item.text),
                               actor=actor, tracker=tracker)
    await _follow(ctx, session, incident.id, message, actor)


def _tracker_name(ctx: BotContext) -> str | None:
    """The tracker action items go to, for the words of the channel message."""
    tickets = ctx.config.tickets
    return None if tickets is None else {"jira": "Jira", "linear": "Linear"}[tickets.provider]


async def _follow(ctx: BotContext, session: AsyncSession, incident_id: int, message: str,
                  actor: str | None) -> None:
    """The channel hears of the item, and the summary lists it."""
    await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident_id, payload={"text": message},
                      requested_by=actor)
    await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident_id)
