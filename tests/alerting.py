"""Helpers for the alert tests: a bot taking alerts from the stand-ins, and what it did with them."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from bot.config.settings import IncidentConfig
from bot.integrations.alerts.config import AlertsConfig
from bot.integrations.pagerduty.config import PagerDutyConfig
from storage import queries
from storage.models import Alert, Incident
from tests.alert_senders import ALERTS_TOKEN, PAGERDUTY_SECRET
from tests.channel_commands import rendered
from tests.pagerduty_stub import ROUTING_KEY
from tests.support import RunningBot

ENV = {"PAGERDUTY_ROUTING_KEY": ROUTING_KEY, "PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET,
       "ALERTS_WEBHOOK_TOKEN": ALERTS_TOKEN}


def alerting_config(*, events_url: str, declare: str, postmortem_dir: Path) -> IncidentConfig:
    """Both webhooks on, each source declaring as ``declare`` says, pages going to ``events_url``."""
    return IncidentConfig(postmortem_dir=postmortem_dir,
                          pagerduty=PagerDutyConfig(events_url=events_url, declare=declare),
                          alerts=AlertsConfig(declare=declare))


async def finished(bot: RunningBot) -> None:
    """Wait until no follow-up work is pending, even work retried a moment later (a note waiting for its channel)."""
    async def none_pending() -> bool:
        async with bot.ctx.db.session() as session:
            return await queries.pending_work_count(session=session) == 0

    await bot.idle()
    await bot.wait_until(none_pending, timeout=10)


async def incidents(bot: RunningBot) -> list[Incident]:
    await finished(bot)
    return await bot.all_incidents()


async def alerts(bot: RunningBot) -> list[Alert]:
    async with bot.ctx.db.session() as session:
        return list((await session.exec(select(Alert).order_by(Alert.id))).all())


async def timeline(bot: RunningBot, incident: Incident) -> list[tuple[str, str]]:
    async with bot.ctx.db.session() as session:
        return [(e.kind, e.text) for e in await queries.timeline(session=session, incident_id=incident.id or 0)]


def channel_posts(bot: RunningBot, channel_id: str | None) -> list[str]:
    assert channel_id is not None
    return [html.unescape(rendered(m)) for m in bot.slack.messages_in(channel_id)]


def announcements(bot: RunningBot) -> list[Any]:
    channel = bot.slack.channel_by_name("incidents")
    assert channel is not None
    return [m for m in bot.slack.messages_in(channel.id) if "alert_actions" in json.dumps(m.blocks or [])
            or ":bell:" in m.text]


def buttons(message: Any) -> list[str]:
    return [element["text"]["text"] for block in message.blocks or [] if block["type"] == "actions"
            for element in block["elements"]]


async def accepted(answer: httpx.Response) -> str:
    assert answer.status_code == 202, answer.text
    return str(answer.json()["detail"])
