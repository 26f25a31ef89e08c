"""What the bot says: renders templates and arranges them into Block Kit.

Functions return plain text (the notification fallback) and blocks; they
decide nothing about the incident, they only describe it.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.slack import blocks
from bot.context import BotContext
from bot.errors import SlackCallFailed
from bot.integrations.call_link import call_link
from bot.slack.mentions import with_mentions
from storage import queries
from storage.models import Incident, Role

SUMMARY_ACTION_ITEMS_MAX = 20
SUMMARY_PAGES_MAX = 4
"""The most recent pages the summary lists (a reopened incident pages again)."""
"""Action items listed in the pinned summary (open ones first); the rest are counted."""

ROLE_LABELS = {
    Role.IC: "Incident Commander",
    Role.TECH: "Technical Lead",
    Role.COMMS: "Communications Lead",
    Role.SCRIBE: "Scribe",
}


async def summary(ctx: BotContext, incident: Incident) -> tuple[str, list[Block]]:
    """The pinned summary message, from the incident as stored now."""
    assert incident.id is not None
    async with ctx.db.session() as session:
        roles = await queries.current_roles(session=session, incident_id=incident.id)
        items = await queries.action_items(session=session, incident_id=incident.id)
        alerts = await queries.alerts_for_incident(session=session, incident_id=incident.id)
        pages = await queries.pages_for_incident(session=session, incident_id=incident.id)
    render = ctx.render.slack
    listed = sorted(items, key=lambda item: (item.is_done, item.number))[:SUMMARY_ACTION_ITEMS_MAX]
    values = {"incident": incident, "roles": roles, "role_labels": ROLE_LABELS,
              "action_items": [(item, with_mentions(item.text)) for item in listed],
              "more_action_items": len(items) - len(listed),
              "call_link": call_link(ctx.config.bridge_url, incident),
              "alerts": alerts, "pages": pages[-SUMMARY_PAGES_MAX:]}
    context = [render("labels", **values)] if incident.drill or incident.private else []
    return (
        render("summary_fallback", **values),
        blocks.summary(header=render("summary_header", **values), body=render("summary", **values),
                       context=[c for c in context if c], open_incident=incident.is_open),
    )


def topic(ctx: BotContext, incident: Incident) -> str:
    return ctx.render.slack("topic", incident=incident)


def announcement(ctx: BotContext, incident: Incident) -> tuple[str, list[Block]]:
    text = ctx.render.slack("announcement", incident=incident)
    return text, blocks.message(text)


def announcement_problem(ctx: BotContext, error: str) -> str:
    return ctx.render.slack("announcement_problem", error=error, channel=ctx.config.announcements_channel)


def declared(ctx: BotContext, incident: Incident) -> str:
    return ctx.render.slack("declared", incident=incident)


def declare_failed(ctx: BotContext, incident: Incident, exc: SlackCallFailed) -> str:
    return ctx.render.slack("declare_failed", incident=incident, method=exc.method, error=exc.error)


def help_text(ctx: BotContext, commands: Sequence[tuple[str, str]], problem: str | None = None) -> str:
    return ctx.render.slack("help", commands=commands, problem=problem)


def error(ctx: BotContext, message: str) -> str:
    return ctx.render.slack("error", message=message)


def incident_list(ctx: BotContext, incidents: Sequence[Incident]) -> str:
    return ctx.render.slack("incident_list", incidents=incidents)


def declare_prefill_cut(ctx: BotContext, length: int) -> str:
    return ctx.render.slack("title_cut", length=length, limit=blocks.TITLE_MAX)
