"""Status drafts in the incident channel: the draft message, its copy texts, problems.

The draft message carries metadata naming the draft, so if the bot dies
after Slack accepted it but before its ts was saved, the next attempt finds
it in the channel's history instead of posting it twice.
"""

from __future__ import annotations

import logging

from bot.context import BotContext
from bot.errors import Busy
from bot.status import draft_wording
from bot.status.leases import draft_lease
from storage import queries
from storage.models import DraftState, Incident, Role, StatusDraft

log = logging.getLogger(__name__)

DRAFT_MARKER = "incident_status_draft"


async def load(ctx: BotContext, draft_id: int) -> tuple[StatusDraft, Incident]:
    """A draft and its incident as stored now."""
    async with ctx.db.session() as session:
        draft = await queries.get_draft(session=session, draft_id=draft_id)
        if draft is None:
            raise LookupError(f"status draft {draft_id} does not exist")
        incident = await queries.get_incident(session=session, incident_id=draft.incident_id)
    assert incident is not None
    return draft, incident


async def reviewer_of(ctx: BotContext, incident_id: int) -> str | None:
    """Who is asked to decide: the communications lead, else the incident commander."""
    async with ctx.db.session() as session:
        roles = await queries.current_roles(session=session, incident_id=incident_id)
    return roles.get(Role.COMMS) or roles.get(Role.IC)


async def post_draft(ctx: BotContext, draft_id: int) -> None:
    """Post a pending draft with its buttons, then the texts to copy; skips what is done already."""
    async with draft_lease(ctx, draft_id, state=DraftState.PENDING) as held:
        if not held:
            draft, _ = await load(ctx, draft_id)
            if draft.state == DraftState.PENDING and (draft.message_ts is None or not draft.copy_posted):
                raise Busy(f"posting status draft {draft_id}")  # another worker is posting it
            return
        draft, incident = await load(ctx, draft_id)
        if incident.channel_id is None:
            return
        if draft.message_ts is None:
            await _post_message(ctx, draft, incident, incident.channel_id)
        if not draft.copy_posted:
            await _post_copy(ctx, draft, incident)


async def _post_message(ctx: BotContext, draft: StatusDraft, incident: Incident, channel: str) -> None:
    assert draft.id is not None and incident.id is not None
    marker = {"event_type": DRAFT_MARKER, "event_payload": {"draft_id": draft.id}}
    ts = await ctx.slack.find_own_message(channel, marker) if draft.message_attempts else None
    if ts is None:
        draft.message_attempts += 1
        await _save(ctx, draft)
        text, blocks = draft_wording.draft_message(ctx, incident, draft, await reviewer_of(ctx, incident.id))
        ts = (await ctx.slack.post_message(channel, text=text, blocks=blocks, metadata=marker)).ts
    draft.message_channel_id = channel
    draft.message_ts = ts
    await _save(ctx, draft)


async def _post_copy(ctx: BotContext, draft: StatusDraft, incident: Incident) -> None:
    """The internal update and customer e-mail, in the draft's thread for the comms lead to copy."""
    assert draft.id is not None and draft.message_channel_id is not None
    async with ctx.db.session() as session:
        first = await queries.earlier_drafts(session=session, incident_id=draft.incident_id, before=draft.id) == 0
    text, blocks = draft_wording.copy_reply(ctx, incident, draft, draft.what_changed, first=first, now=ctx.clock.now())
    await ctx.slack.post_message(draft.message_channel_id, text=text, blocks=blocks, thread_ts=draft.message_ts)
    draft.copy_posted = True
    await _save(ctx, draft)


async def refresh_draft(ctx: BotContext, draft_id: int) -> None:
    """Rewrite the draft message from the stored draft (new text, decision, publication)."""
    draft, incident = await load(ctx, draft_id)
    if draft.message_channel_id is None or draft.message_ts is None:
        return
    text, blocks = draft_wording.draft_message(ctx, incident, draft, await reviewer_of(ctx, incident.id or 0))
    await ctx.slack.update_message(draft.message_channel_id, draft.message_ts, text=text, blocks=blocks)


async def tell_problem(ctx: BotContext, draft: StatusDraft, incident: Incident, *, destination: str,
                       error: str) -> None:
    """A publication that failed for good, told to the comms lead in the draft's thread."""
    assert incident.id is not None
    channel = draft.message_channel_id or incident.channel_id
    if channel is None:
        return
    text, blocks = draft_wording.problem(ctx, incident, draft, await reviewer_of(ctx, incident.id),
                                       destination=destination, error=error)
    await ctx.slack.post_message(channel, text=text, blocks=blocks, thread_ts=draft.message_ts)


async def _save(ctx: BotContext, draft: StatusDraft) -> None:
    async with ctx.db.session() as session:
        session.add(draft)
