"""Helpers shared by the tracker and Confluence tests: waiting for what the worker does."""

from __future__ import annotations

from typing import Any

from storage.models import Incident
from tests.channel_commands import kinds
from tests.support import RunningBot


async def with_summary(bot: RunningBot, incident: Incident) -> Incident:
    """The incident once its summary is posted (a declare's steps may still be finishing)."""

    async def posted() -> bool:
        return (await bot.incident(incident.id)).summary_ts is not None  # type: ignore[arg-type]

    await bot.wait_until(posted, timeout=10)
    return await bot.incident(incident.id)  # type: ignore[arg-type]


async def has_kind(bot: RunningBot, incident: Any, kind: str) -> bool:
    """Whether the incident's timeline has an entry of this kind."""
    return kind in await kinds(bot, incident)
