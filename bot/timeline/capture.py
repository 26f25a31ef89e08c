"""Putting Slack messages on an incident's timeline: the message shortcut and the :pushpin: reaction.

Each message is captured once per incident however often it is pinned or
shortcut, and Slack's redeliveries of the same event change nothing: the
timeline entry carries the message's ts as its dedupe key.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bot.incidents import records
from bot.context import BotContext
from bot.errors import SlackCallFailed
from bot.slack.mrkdwn import truncate, unescape
from storage import queries
from storage.models import Incident, TimelineEvent

log = logging.getLogger(__name__)

PIN_REACTION = "pushpin"
SHORTCUT_NAME = "Add to incident timeline"
MESSAGE_TEXT_MAX = 4000


def dedupe_key(ts: str) -> str:
    return f"message:{ts}"


async def capture_from_shortcut(ctx: BotContext, *, channel_id: str, message: dict[str, Any], actor: str) -> str:
    """Capture the message the shortcut was used on; returns what to tell the user.

    Outside an incident channel this raises NotAnIncidentChannel, which the
    error handler answers ephemerally through the shortcut's response_url.
    """
    incident = await records.incident_in_channel(ctx, channel_id, SHORTCUT_NAME)
    assert incident.id is not None
    ts = str(message.get("ts") or "")
    if not ts or await _already_captured(ctx, incident.id, ts):
        return ctx.render.slack("captured", incident=incident, already=True)
    permalink = await ctx.slack.permalink(channel_id, ts)
    entry = await _record(ctx, incident, message, permalink=permalink, captured_by=actor, via="shortcut")
    return ctx.render.slack("captured", incident=incident, already=entry is None)


async def capture_reaction(ctx: BotContext, *, reaction: str, channel_id: str | None, ts: str | None,
                           actor: str) -> None:
    """Capture a message someone reacted to with :pushpin:; anything else is ignored silently.

    Reactions in channels that are not incident channels, on files, or on
    messages that have gone are not errors: the bot simply has nothing to do.
    """
    if reaction != PIN_REACTION or not channel_id or not ts:
        return
    async with ctx.db.session() as session:
        incident = await queries.incident_by_channel(session=session, channel_id=channel_id)
    if incident is None or incident.id is None or await _already_captured(ctx, incident.id, ts):
        return
    message = await ctx.slack.fetch_message(channel_id, ts)
    if message is None:
        return
    permalink = await ctx.slack.permalink(channel_id, ts)
    entry = await _record(ctx, incident, message, permalink=permalink, captured_by=actor, via="reaction")
    if entry is not None:
        await _tell_quietly(ctx, channel_id, actor, ctx.render.slack("captured", incident=incident, already=False))


async def _already_captured(ctx: BotContext, incident_id: int, ts: str) -> bool:
    async with ctx.db.session() as session:
        return await queries.timeline_has(session=session, incident_id=incident_id, dedupe_key=dedupe_key(ts))


async def _record(ctx: BotContext, incident: Incident, message: dict[str, Any], *, permalink: str,
                  captured_by: str, via: str) -> TimelineEvent | None:
    """Log the message at the time it was posted; None when it was captured meanwhile."""
    assert incident.id is not None
    ts = str(message["ts"])
    author = message.get("user") or message.get("bot_id")
    data = {"ts": ts, "permalink": permalink, "author": author, "author_name": message.get("username"),
            "captured_by": captured_by, "via": via, "thread_ts": message.get("thread_ts")}
    async with ctx.db.session() as session:
        return await queries.add_timeline(
            session=session, incident_id=incident.id, kind="message", actor=author, at=_posted_at(ts, otherwise=ctx.clock.now()),
            text=truncate(_message_text(message), MESSAGE_TEXT_MAX),
            data={k: v for k, v in data.items() if v is not None}, dedupe_key=dedupe_key(ts),
        )


def _message_text(message: dict[str, Any]) -> str:
    """The message's text; for a message without text, what it carried instead."""
    text = unescape(str(message.get("text") or "")).strip()
    if text:
        return text
    files = [str(f.get("name") or f.get("title") or "a file") for f in message.get("files") or []]
    return f"(shared {', '.join(files)})" if files else "(a message without text)"


def _posted_at(ts: str, *, otherwise: datetime) -> datetime:
    """A Slack ts is the Unix time the message was posted (``otherwise`` when it cannot be read)."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError):
        return otherwise


async def _tell_quietly(ctx: BotContext, channel_id: str, user_id: str, text: str) -> None:
    """Confirm to the reacting person; someone outside the channel simply gets no confirmation."""
    try:
        await ctx.slack.post_ephemeral(channel_id, user_id, text=text)
    except SlackCallFailed as exc:
        log.info("could not confirm a captured message to %s: %s", user_id, exc)
