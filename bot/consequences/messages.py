"""Follow-up posts: in the incident channel and the announcements channel, each exactly once.

Every post carries message metadata naming its piece of work. When a piece is
tried again (its answer was lost, or a worker died before settling it), the
channel's recent history is searched for that metadata before posting, so a
retry never posts twice.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.context import BotContext
from bot.errors import SlackCallFailed
from bot.incidents.records import load_incident
from bot.slack import blocks
from bot.slack.gateway import Posted
from bot.slack.posting import CHANNEL_UNUSABLE
from storage import queries
from storage.models import FollowUpWork

log = logging.getLogger(__name__)

WORK_MARKER = "incident_follow_up"


async def post_once(ctx: BotContext, work: FollowUpWork, channel: str, text: str, *,
                    message_blocks: list[Any] | None = None, join: bool = False) -> Posted:
    """Post ``text`` for this piece of work unless an earlier attempt already did."""
    marker = {"event_type": WORK_MARKER, "event_payload": {"work_id": work.id}}
    if work.attempts > 1 and (found := await ctx.slack.find_own_message(channel, marker)) is not None:
        return Posted(channel=channel, ts=found)
    return await ctx.slack.post_message(channel, text=text, blocks=message_blocks or blocks.message(text),
                                        metadata=marker, join=join)


async def post_where_usable(ctx: BotContext, work: FollowUpWork, channel: str, text: str) -> bool:
    """Post once in ``channel``; False (logged) when the channel cannot take it (archived, the bot removed).

    Such a channel is a situation to note, not a hiccup to retry: the change it
    follows stands, and the caller decides what else to do.
    """
    try:
        await post_once(ctx, work, channel, text)
    except SlackCallFailed as exc:
        if exc.error not in CHANNEL_UNUSABLE:
            raise
        log.warning("could not post in channel %s: %s", channel, exc)
        return False
    return True


async def post_in_channel(ctx: BotContext, work: FollowUpWork) -> None:
    """A change everyone in the incident channel needs to see.

    A channel that cannot take the message (the bot was removed, the channel
    archived) is logged: the change itself stands.
    """
    assert work.incident_id is not None
    incident = await load_incident(ctx, work.incident_id)
    if incident.channel_id is not None:
        await post_where_usable(ctx, work, incident.channel_id, str(work.payload["text"]))


async def announce(ctx: BotContext, work: FollowUpWork) -> None:
    """Post in the announcements channel; an unusable channel is an operator's problem, logged.

    ``payload`` may hold the timeline entry for success (``on_success``) and for
    an unusable channel (``on_failure``, ``{problem}`` filled in), each as
    ``{"kind": …, "text": …}``.
    """
    payload = work.payload
    problem: str | None = None
    try:
        channel = await ctx.slack.resolve_channel(ctx.config.announcements_channel)
        await post_once(ctx, work, channel, str(payload["text"]), join=True)
    except SlackCallFailed as exc:
        if exc.error not in CHANNEL_UNUSABLE:
            raise
        log.warning("could not post in the announcements channel: %s", exc)
        problem = exc.error
    entry = payload.get("on_success") if problem is None else payload.get("on_failure")
    if work.incident_id is None or not entry:
        return
    async with ctx.db.session() as session:
        await queries.add_timeline(session=session, incident_id=work.incident_id, at=ctx.clock.now(),
                                   kind=str(entry["kind"]), text=str(entry["text"]).format(problem=problem))
