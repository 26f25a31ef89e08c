"""Finding incidents: for people (lists, lookups by channel, the help text) and for a change (the locked row)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import BotContext
from bot.errors import NotAnIncidentChannel
from bot.incidents.access import may_see
from bot.slack import messages
from bot.slack.subcommands import COMMANDS
from storage import queries
from storage.models import Incident


async def load_incident(ctx: BotContext, incident_id: int) -> Incident:
    """An incident that must exist (its id came from our own records)."""
    async with ctx.db.session() as session:
        incident = await queries.get_incident(session=session, incident_id=incident_id)
    if incident is None:
        raise LookupError(f"incident {incident_id} does not exist")
    return incident


@asynccontextmanager
async def row_for_update(ctx: BotContext, incident_id: int) -> AsyncIterator[tuple[AsyncSession, Incident]]:
    """The incident's row, locked FOR UPDATE, in a transaction that commits when the block ends.

    Callers hold ``ctx.incident_locks[incident_id]`` around it and post to the
    channel after the block, so no database lock is held across a Slack call.
    """
    async with ctx.db.session() as session:
        current = await queries.incident_for_update(session=session, incident_id=incident_id)
        if current is None:
            raise LookupError(f"incident {incident_id} does not exist")
        yield session, current


async def visible_open_incidents(ctx: BotContext, viewer: str) -> Sequence[Incident]:
    """Open incidents the viewer may see (private ones only if they are a member)."""
    async with ctx.db.session() as session:
        incidents = await queries.open_incidents(session=session)
        visible = []
        for incident in incidents:
            assert incident.id is not None
            holders = (await queries.current_roles(session=session, incident_id=incident.id)).values()
            if may_see(incident, viewer, holders):
                visible.append(incident)
    return visible


async def list_reply(ctx: BotContext, viewer: str) -> str:
    return messages.incident_list(ctx, await visible_open_incidents(ctx, viewer))


def help_reply(ctx: BotContext, problem: str | None = None) -> str:
    return messages.help_text(ctx, [(c.usage, c.summary) for c in COMMANDS.values()], problem)


async def incident_in_channel(ctx: BotContext, channel_id: str, usage: str) -> Incident:
    """The incident whose channel this is, or a clear refusal saying where to run it."""
    async with ctx.db.session() as session:
        incident = await queries.incident_by_channel(session=session, channel_id=channel_id)
    if incident is None:
        raise NotAnIncidentChannel(
            f"`{usage}` works only in an incident channel. Run it in the incident's channel "
            "(see `/incident list`)."
        )
    return incident
