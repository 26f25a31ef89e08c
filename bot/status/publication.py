"""Publishing approved status updates, exactly once, and finishing what a crash cut short.

An approved draft is on the bot's own status page from the moment of
approval (the page reads the database). This module then takes it to the
configured status channel and, when configured, to Statuspage. Each step
records its completion; the status-channel post carries metadata naming the
draft so a post whose answer was lost is found rather than repeated; a lease
keeps replicas from working on the same draft. Publishing is follow-up work
recorded with the approval, so a crash, an outage or a replica that died only
delays it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlmodel import SQLModel

from bot.status import draft_messages

from bot.status import draft_wording
from bot.context import BotContext
from bot.errors import Busy, SlackCallFailed
from bot.slack.gateway import Posted
from bot.slack.posting import CHANNEL_UNUSABLE
from bot.status.leases import LEASE, draft_lease, external_lease, renew_external
from bot.status.statuspage_client import StatuspageClient, StatuspageError, StatuspageUpdate, client_for
from storage import queries
from storage.models import DraftState, ExternalState, ExternalStatusIncident, Incident, StatusDraft

log = logging.getLogger(__name__)

STATUS_MARKER = "incident_status_update"
COMPLETION_EVERY = timedelta(seconds=10)


async def publish_draft(ctx: BotContext, draft_id: int) -> None:
    """Take an approved draft to every destination it has not reached yet.

    Safe to call any number of times, from any replica: the lease admits one
    worker, and each destination is skipped once recorded. A Slack failure
    that outlasts the gateway's retries leaves the draft approved, and the
    worker tries the piece of work again.
    """
    async with draft_lease(ctx, draft_id, state=DraftState.APPROVED) as held:
        if not held:
            draft, _ = await draft_messages.load(ctx, draft_id)
            if draft.state == DraftState.APPROVED:
                raise Busy(f"publishing status draft {draft_id}")
            return
        draft, incident = await draft_messages.load(ctx, draft_id)
        if draft.status_post_ts is None and draft.status_post_error is None:
            await _post_to_status_channel(ctx, draft, incident)
        async with ctx.db.session() as session:
            if await queries.mark_published(session=session, draft_id=draft_id):
                assert incident.id is not None
                await queries.add_timeline(
                    session=session, incident_id=incident.id, kind="status_update_published",
                    text=f"Status update published ({draft.phase.value})", data={"draft_id": draft_id},
                    at=ctx.clock.now(),
                    dedupe_key=f"status_update_published:{draft_id}",
                )
    await draft_messages.refresh_draft(ctx, draft_id)
    if draft.external_state == ExternalState.PENDING:
        await sync_external(ctx, draft.incident_id)


async def _post_to_status_channel(ctx: BotContext, draft: StatusDraft, incident: Incident) -> None:
    """Post once in the status channel; an unusable channel is told to the comms lead, not retried."""
    assert draft.id is not None
    marker: dict[str, Any] = {"event_type": STATUS_MARKER, "event_payload": {"draft_id": draft.id}}
    try:
        channel = await ctx.slack.resolve_channel(ctx.config.status_channel)
        ts = await ctx.slack.find_own_message(channel, marker) if draft.status_post_attempts else None
        if ts is None:
            draft.status_post_attempts += 1
            await _save(ctx, draft)
            ts = (await _post_joining(ctx, channel, draft, incident, marker)).ts
    except SlackCallFailed as exc:
        if exc.error not in CHANNEL_UNUSABLE:
            raise
        draft.status_post_error = f"{exc.method}: {exc.error}"
        await _save(ctx, draft)
        await draft_messages.tell_problem(ctx, draft, incident, destination="the status channel",
                                       error=draft.status_post_error)
        return
    draft.status_channel_id = channel
    draft.status_post_ts = ts
    await _save(ctx, draft)


async def _post_joining(ctx: BotContext, channel: str, draft: StatusDraft, incident: Incident,
                        marker: dict[str, Any]) -> Posted:
    text, blocks = draft_wording.status_post(ctx, incident, draft)
    return await ctx.slack.post_message(channel, text=text, blocks=blocks, metadata=marker, join=True)


async def sync_external(ctx: BotContext, incident_id: int) -> None:
    """Send an incident's approved updates to Statuspage, oldest first, under one lease.

    Each update is retried with backoff by the client; one that still fails
    is marked failed and told to the comms lead (who can retry it), and the
    later ones still go out.
    """
    client = client_for(ctx.settings, ctx.config)
    # One draft takes at most three calls (a look-up, then a create or an update).
    span = LEASE + (3 * client.longest_call() if client else timedelta(0))
    async with external_lease(ctx, incident_id, span=span) as link:
        if link is None:
            raise Busy(f"sending incident {incident_id} to Statuspage")
        async with ctx.db.session() as session:
            pending = list(await queries.external_pending_drafts(session=session, incident_id=incident_id))
            incident = await queries.get_incident(session=session, incident_id=incident_id)
        assert incident is not None
        if client is None:
            await _give_up(ctx, pending, incident, "no Statuspage is configured any more")
            return
        async with client:
            for draft in pending:
                await renew_external(ctx, incident_id, span=span)
                try:
                    await _send_external(ctx, client, link, draft, incident)
                except StatuspageError as exc:
                    await _give_up(ctx, [draft], incident, exc.message)
                    continue
                draft.external_state = ExternalState.DONE
                await _save(ctx, draft)
                assert draft.id is not None
                await draft_messages.refresh_draft(ctx, draft.id)


async def _send_external(ctx: BotContext, client: StatuspageClient, link: ExternalStatusIncident,
                         draft: StatusDraft, incident: Incident) -> None:
    """Create the Statuspage incident with the first update, patch it with the others.

    Before repeating an interrupted call, Statuspage is asked whether it
    already happened: an unresolved incident of that name, or an update
    with this exact text.
    """
    update = StatuspageUpdate(name=incident.title, status=draft.phase.value, body=draft.text,
                              severity=incident.severity)
    retrying = draft.external_attempts > 0
    draft.external_attempts += 1
    await _save(ctx, draft)
    if link.external_id is None and link.create_started:
        link.external_id = await client.find_unresolved(incident.title)
        await _save(ctx, link)
    if link.external_id is None:
        link.create_started = True
        await _save(ctx, link)
        link.external_id = await client.create_incident(update)
        await _save(ctx, link)
        return
    if retrying and await client.latest_body(link.external_id) == draft.text:
        return
    await client.update_incident(link.external_id, update)


async def _give_up(ctx: BotContext, drafts: list[StatusDraft], incident: Incident, error: str) -> None:
    for draft in drafts:
        assert draft.id is not None
        draft.external_state = ExternalState.FAILED
        draft.external_error = error
        await _save(ctx, draft)
        async with ctx.db.session() as session:
            await queries.add_timeline(session=session, incident_id=draft.incident_id, kind="status_publish_failed",
                                       text=f"Statuspage: {error}", data={"draft_id": draft.id},
                                       at=ctx.clock.now())
        await draft_messages.refresh_draft(ctx, draft.id)
        await draft_messages.tell_problem(ctx, draft, incident, destination="Statuspage", error=error)


async def _save(ctx: BotContext, row: SQLModel) -> None:
    """Record one completed step before moving on."""
    async with ctx.db.session() as session:
        session.add(row)
