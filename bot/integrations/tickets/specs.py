"""What a ticket says: the action item's or the incident's text, read without Slack.

Descriptions come from templates (``templates/markdown/ticket_*.md.j2``) and end
with a marker sentence naming what the ticket is for, which is also how a
retried attempt recognises a ticket an earlier attempt opened.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.context import BotContext
from bot.errors import SlackCallFailed
from bot.integrations.tickets.tracker import TicketSpec
from storage.models import ActionItem, Incident
from storage.severity import Severity

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_NAMED = re.compile(r"<[#!][^|>]*\|([^>]*)>")
_BARE = re.compile(r"<([^|>]*)>")


@dataclass(frozen=True, slots=True)
class Person:
    """Someone from Slack as a tracker can know them."""

    name: str
    email: str | None


async def person(ctx: BotContext, user_id: str) -> Person:
    """Name and e-mail from Slack (the e-mail needs the ``users:read.email`` scope); the id if unknown."""
    try:
        user = await ctx.slack.user_info(user_id)
    except SlackCallFailed:
        return Person(name=user_id, email=None)
    profile = user.get("profile") or {}
    name = str(profile.get("display_name") or profile.get("real_name") or user.get("name") or user_id)
    return Person(name=name, email=str(profile["email"]) if profile.get("email") else None)


async def plain(ctx: BotContext, text: str) -> str:
    """Slack markup as a tracker shows it: ``@name`` for people, ``#name`` for channels, no entities."""
    names = {user_id: (await person(ctx, user_id)).name for user_id, label in _USER.findall(text) if not label}

    def user(match: re.Match[str]) -> str:
        return "@" + (match.group(2) or names.get(match.group(1), match.group(1)))

    text = _USER.sub(user, text)
    text = _NAMED.sub(lambda m: m.group(1), text)
    text = _BARE.sub(lambda m: m.group(1), text)
    return html.unescape(text)


async def channel_url(ctx: BotContext, incident: Incident) -> str | None:
    """A link that opens the incident channel in Slack."""
    if incident.channel_id is None:
        return None
    workspace = str((await ctx.slack.identity()).get("url") or "https://slack.com/")
    return f"{workspace.rstrip('/')}/archives/{incident.channel_id}"


async def action_item_spec(ctx: BotContext, incident: Incident, item: ActionItem) -> tuple[TicketSpec, Person | None]:
    """The ticket of an action item, and its owner (whose e-mail finds them in the tracker)."""
    owner = await person(ctx, item.owner) if item.owner else None
    title = await plain(ctx, item.text)
    marker = f"Opened by the incident bot for action item #{item.number} of {incident.reference}."
    description = ctx.render.markdown("ticket_action_item.md", incident=incident, item=item, title=title,
                                      owner=owner, channel_url=await channel_url(ctx, incident), marker=marker)
    return TicketSpec(title=title, description=description, marker=marker, incident_label=incident.reference,
                      due=item.due), owner


async def incident_spec(ctx: BotContext, incident: Incident) -> TicketSpec:
    """The incident's own ticket, as the incident stands now."""
    marker = f"Opened by the incident bot for {incident.reference}."
    description = ctx.render.markdown("ticket_incident.md", incident=incident,
                                      channel_url=await channel_url(ctx, incident), marker=marker)
    title = f"[{Severity.of(incident.severity).label}] {incident.reference}: {incident.title}"
    return TicketSpec(title=title, description=description, marker=marker, incident_label=incident.reference,
                      is_incident=True, severity=incident.severity)
