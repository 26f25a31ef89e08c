"""Publishing the post-mortem as a Confluence page, beside the Markdown upload.

Recorded each time the post-mortem is published (at resolve and by
``/incident postmortem``): the first time creates the page, later times
replace it with a new version. A page whose id was not saved (an answer lost,
a worker killed) is found again by its title, so a retry never makes two.
"""

from __future__ import annotations

import asyncio

from bot.consequences.kinds import Work
from bot.consequences.messages import post_once
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.incidents.records import load_incident
from bot.integrations.confluence.client import ConfluenceClient, Page
from bot.integrations.confluence.storage_format import storage_format
from bot.resolution.postmortem import build_document
from storage import queries
from storage.models import FollowUpWork


async def publish_postmortem_page(ctx: BotContext, work: FollowUpWork) -> None:
    """Create or update the incident's post-mortem page, then say so on the timeline and in the channel."""
    assert work.incident_id is not None and ctx.config.confluence is not None
    client = ConfluenceClient(ctx.config.confluence, ctx.settings, ctx.http)
    document = await build_document(ctx, work.incident_id)
    body = await asyncio.to_thread(storage_format, document.content)
    incident = await load_incident(ctx, work.incident_id)
    page = await _existing(client, incident.postmortem_page_id, document.title)
    created = page is None
    page = await client.create(document.title, body) if page is None else await client.replace(
        page, document.title, body)
    async with ctx.db.session() as session:
        await queries.set_postmortem_page(session=session, incident_id=work.incident_id, page_id=page.id, url=page.url)
        await queries.add_timeline(
            session=session, incident_id=work.incident_id, kind="postmortem_page", actor=work.requested_by,
            at=ctx.clock.now(), text=f"Post-mortem {'published' if created else 'updated'} in Confluence: {page.url}",
            data={"page_id": page.id, "url": page.url, "version": page.version},
        )
        if created:
            await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=work.incident_id,
                              payload={"topic": False})
    if incident.channel_id is not None:
        text = ctx.render.slack("postmortem_page", incident=incident, page=page, title=document.title,
                                created=created)
        await post_once(ctx, work, incident.channel_id, text)


async def _existing(client: ConfluenceClient, page_id: str | None, title: str) -> Page | None:
    """The page published before: by its saved id, else by its title."""
    if page_id is not None:
        page = await client.get(page_id)
        if page is not None:
            return page
    return await client.find(title)
