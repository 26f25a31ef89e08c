"""Posting what changed where people will see it: the incident channel, the announcements channel."""

from __future__ import annotations

import logging

from bot.slack import blocks
from bot.context import BotContext
from bot.errors import SlackCallFailed
from bot.slack.gateway import Posted
from storage.models import Incident

log = logging.getLogger(__name__)

CHANNEL_UNUSABLE = frozenset({"channel_not_found", "not_in_channel", "is_archived",
                              "method_not_supported_for_channel_type"})
"""Slack's answers for a channel the bot cannot post in: a configuration problem to report, not retry."""


async def tell_channel(ctx: BotContext, incident: Incident, text: str) -> Posted | None:
    """Post a message in the incident's channel (a change everyone working on it needs).

    Called after the change is recorded: when the channel cannot take the
    message (the bot was removed, the channel archived) the change still
    stands and what follows it (summary, reminders, drafts) must still run,
    so that failure is logged rather than raised.
    """
    assert incident.channel_id is not None
    try:
        return await ctx.slack.post_message(incident.channel_id, text=text, blocks=blocks.message(text))
    except SlackCallFailed as exc:
        if exc.error not in CHANNEL_UNUSABLE:
            raise
        log.warning("could not post in the channel of %s: %s", incident.reference, exc)
        return None


async def tell_announcements(ctx: BotContext, text: str) -> str | None:
    """Post in the configured announcements channel, joining it if needed.

    Returns Slack's error when the channel cannot be used (a configuration
    problem the caller records); the change being announced stands either way.
    """
    try:
        channel = await ctx.slack.resolve_channel(ctx.config.announcements_channel)
        await ctx.slack.post_message(channel, text=text, blocks=blocks.message(text), join=True)
    except SlackCallFailed as exc:
        if exc.error not in CHANNEL_UNUSABLE:
            raise
        log.warning("could not post in the announcements channel: %s", exc)
        return exc.error
    return None
