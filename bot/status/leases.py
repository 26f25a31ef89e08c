"""Short leases on a draft, so one worker at a time posts or publishes it.

Button presses, the start-up completion and other replicas may all reach
the same draft; whoever takes the lease (a conditional UPDATE) does the
work. A lease is released when the work ends, even when it is cancelled at
shutdown, and otherwise lapses after :data:`LEASE`, so a crashed worker's
draft is picked up again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from bot.context import BotContext
from storage import queries
from storage.models import DraftState, ExternalStatusIncident

LEASE = timedelta(minutes=5)
"""Longer than a Slack call with all of the gateway's rate-limit retries takes."""


def lease_owner(ctx: BotContext) -> str:
    """This running bot, distinct from other replicas and from earlier runs of this one."""
    return ctx.worker_id


@asynccontextmanager
async def draft_lease(ctx: BotContext, draft_id: int, *, state: DraftState) -> AsyncIterator[bool]:
    """Yields whether this worker holds the draft (in ``state``) for the block."""
    owner = lease_owner(ctx)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        won = await queries.claim_draft(session=session, draft_id=draft_id, state=state, owner=owner,
                                        until=now + LEASE, now=now)
    try:
        yield won
    finally:
        if won:
            async with ctx.db.session() as session:
                await queries.release_draft(session=session, draft_id=draft_id, owner=owner)


@asynccontextmanager
async def external_lease(
    ctx: BotContext, incident_id: int, *, span: timedelta
) -> AsyncIterator[ExternalStatusIncident | None]:
    """Yields the incident's external-page link while this worker holds it (for ``span``), or None."""
    owner = lease_owner(ctx)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        link = await queries.claim_external(session=session, incident_id=incident_id, owner=owner,
                                            until=now + span, now=now)
    try:
        yield link
    finally:
        if link is not None:
            async with ctx.db.session() as session:
                await queries.release_external(session=session, incident_id=incident_id, owner=owner)


async def renew_external(ctx: BotContext, incident_id: int, *, span: timedelta) -> None:
    """Extend a held external lease before the next (possibly long, retried) call."""
    async with ctx.db.session() as session:
        await queries.renew_external(session=session, incident_id=incident_id, owner=lease_owner(ctx),
                                     until=ctx.clock.now() + span)
