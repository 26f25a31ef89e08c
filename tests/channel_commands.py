"""Helpers for tests of commands run in an incident channel: run a command in a channel, read what happened."""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

from storage import queries
from storage.models import ActionItem, Incident, RoleAssignment, TimelineEvent
from bot.local_slack.state import Message
from tests.support import ALICE, RunningBot


async def run(bot: RunningBot, text: str, channel_id: str, *, user: str = ALICE) -> str:
    """Send `/incident <text>` from a channel; returns the response_url the bot answers on."""
    url = bot.slack.new_response_url(channel_id=channel_id)
    reply = await bot.requests.command(text, user_id=user, channel_id=channel_id, response_url=url)
    assert reply.status_code == 200 and not reply.content, reply.text
    return url


async def ask(bot: RunningBot, text: str, channel_id: str, *, user: str = ALICE) -> str:
    """Send `/incident <text>` and return its first answer, as Slack shows it."""
    return await answer(bot, await run(bot, text, channel_id, user=user))


async def answer(bot: RunningBot, url: str, count: int = 1) -> str:
    """The text of the ephemeral answers sent to a response_url, as Slack shows it (entities decoded)."""
    replies = await bot.slack.wait_for_response(url, count=count)
    return html.unescape("\n".join(r.get("text", "") for r in replies))


def rendered(message: Message) -> str:
    return message.text + json.dumps(message.blocks or [], ensure_ascii=False)


def posts(bot: RunningBot, channel_id: str) -> list[str]:
    """Every message now in a channel, as text plus blocks."""
    return [rendered(m) for m in bot.slack.messages_in(channel_id)]


async def wait_for_post(bot: RunningBot, channel_id: str, needle: str, count: int = 1) -> list[str]:
    """Wait until `count` messages in the channel contain `needle`."""
    await bot.wait_until(lambda: len([p for p in posts(bot, channel_id) if needle in p]) >= count)
    return [p for p in posts(bot, channel_id) if needle in p]


def summary(bot: RunningBot, incident: Incident) -> str:
    """The pinned summary as it reads now."""
    assert incident.channel_id is not None
    message = next(m for m in bot.slack.messages_in(incident.channel_id) if m.ts == incident.summary_ts)
    return rendered(message)


async def wait_for_summary(bot: RunningBot, incident: Incident, needle: str) -> str:
    await bot.wait_until(lambda: needle in summary(bot, incident))
    return summary(bot, incident)


async def timeline(bot: RunningBot, incident: Incident) -> list[TimelineEvent]:
    assert incident.id is not None
    async with bot.ctx.db.session() as session:
        return list(await queries.timeline(session=session, incident_id=incident.id))


async def kinds(bot: RunningBot, incident: Incident) -> list[str]:
    return [entry.kind for entry in await timeline(bot, incident)]


async def roles_history(bot: RunningBot, incident: Incident) -> list[RoleAssignment]:
    assert incident.id is not None
    async with bot.ctx.db.session() as session:
        return list(await queries.role_history(session=session, incident_id=incident.id))


async def action_items(bot: RunningBot, incident: Incident) -> list[ActionItem]:
    assert incident.id is not None
    async with bot.ctx.db.session() as session:
        return list(await queries.action_items(session=session, incident_id=incident.id))


def calls(bot: RunningBot, *methods: str) -> int:
    """How many calls of these Web API methods were made so far (to show nothing happened)."""
    return sum(len(bot.slack.calls_to(method)) for method in methods)


CHANGES = ("chat.postMessage", "chat.update", "conversations.invite", "conversations.setTopic")


async def quiet(bot: RunningBot, period: float = 0.3) -> None:
    """Wait until the bot's follow-up work is done and it made no Web API call for `period` seconds."""
    await bot.idle()
    seen = -1
    while seen != len(bot.slack.calls):
        seen = len(bot.slack.calls)
        await asyncio.sleep(period)


def event_payload(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_ts": "1700000000.000100", **fields}
