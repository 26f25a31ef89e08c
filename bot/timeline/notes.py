"""Notes on the timeline, and the timeline shown to a responder page by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import UsageError
from bot.slack import blocks
from bot.slack.gateway import Blocks
from bot.slack.mentions import with_mentions
from bot.slack.mrkdwn import truncate
from bot.slack.subcommands import COMMANDS
from storage import queries
from storage.models import Incident, TimelineEvent

PAGE_SIZE = 20
"""Entries per page: with each entry cut to ENTRY_TEXT_MAX, a page stays well within one message."""
ENTRY_TEXT_MAX = 500


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """One entry as shown: when (each reader sees it in their own zone), who, what, and a link to the message."""

    at: datetime
    actor: str | None
    text: Markup
    permalink: str | None


async def add_note(ctx: BotContext, incident: Incident, text: str, *, actor: str) -> None:
    """Log a note and show it in the channel, so everyone sees what was recorded."""
    assert incident.id is not None
    message = ctx.render.slack("note_added", incident=incident, text=with_mentions(text), actor=actor)
    async with ctx.db.session() as session:
        await queries.add_timeline(session=session, incident_id=incident.id, kind="note", actor=actor, text=text,
                                   at=ctx.clock.now())
        await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident.id, payload={"text": message},
                          requested_by=actor)


async def timeline_reply(ctx: BotContext, incident: Incident, page: int) -> tuple[str, Blocks]:
    """One page of the timeline, oldest first, each time shown in the reader's own zone."""
    assert incident.id is not None
    async with ctx.db.session() as session:
        total = await queries.timeline_count(session=session, incident_id=incident.id)
        pages = max(1, -(-total // PAGE_SIZE))
        if page > pages:
            raise UsageError(
                f"The timeline of {incident.reference} has {pages} page{'s' if pages != 1 else ''}; "
                f"there is no page {page}.\nUsage: `{COMMANDS['timeline'].usage}`"
            )
        entries = await queries.timeline_page(session=session, incident_id=incident.id,
                                              offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    lines = [_line(ctx, entry) for entry in entries]
    text = ctx.render.slack("timeline", incident=incident, lines=lines, page=page, pages=pages)
    return text, blocks.message(text)


def _line(ctx: BotContext, entry: TimelineEvent) -> TimelineLine:
    permalink = entry.data.get("permalink")
    return TimelineLine(
        at=entry.at,
        actor=entry.actor if entry.actor and entry.actor[:1] in "UW" else None,
        text=with_mentions(truncate(entry.text, ENTRY_TEXT_MAX)),
        permalink=permalink if isinstance(permalink, str) else None,
    )

