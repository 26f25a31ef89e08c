"""Bookmarking the incident's call link in its channel: a declare step where ``bridge_url`` is set."""

from __future__ import annotations

from bot.context import BotContext
from bot.incidents.records import load_incident
from bot.integrations.call_link import call_link
from storage.models import FollowUpWork

BOOKMARK_TITLE = "Incident call"


async def bookmark_call_link(ctx: BotContext, work: FollowUpWork) -> None:
    """Add the call link to the incident channel's bookmarks, once.

    A retried piece looks at the channel's bookmarks first, so a bookmark
    whose answer was lost is not added twice.
    """
    assert work.incident_id is not None
    incident = await load_incident(ctx, work.incident_id)
    link = call_link(ctx.config.bridge_url, incident)
    if link is None or incident.channel_id is None:
        return
    if work.attempts > 1 and link in await ctx.slack.bookmark_links(incident.channel_id):
        return
    await ctx.slack.add_bookmark(incident.channel_id, title=BOOKMARK_TITLE, link=link)
