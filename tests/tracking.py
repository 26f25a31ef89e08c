"""Helpers shared by the tracker and Confluence tests: a bot with a tracker, and waiting for what the worker does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config.settings import IncidentConfig
from bot.integrations.tickets.config import TicketsConfig
from storage.models import ActionItem, Incident, TimelineEvent
from tests.channel_commands import action_items, kinds, timeline
from tests.support import ALICE, RunningBot


async def with_summary(bot: RunningBot, incident: Incident) -> Incident:
    """The incident once its summary is posted (a declare's steps may still be finishing)."""

    async def posted() -> bool:
        return (await bot.incident(incident.id)).summary_ts is not None  # type: ignore[arg-type]

    await bot.wait_until(posted, timeout=10)
    return await bot.incident(incident.id)  # type: ignore[arg-type]


async def has_kind(bot: RunningBot, incident: Any, kind: str) -> bool:
    """Whether the incident's timeline has an entry of this kind."""
    return kind in await kinds(bot, incident)


async def start_with_tickets(
    make_bot: Callable[..., Any], tmp_path: Path, table: dict[str, Any], env: dict[str, str]
) -> RunningBot:
    """A bot whose [tickets] table is ``table``, with the tracker's secrets in its environment."""
    config = IncidentConfig(postmortem_dir=tmp_path / "postmortems", tickets=TicketsConfig(**table))
    return await make_bot(config, **env)  # type: ignore[no-any-return]


async def ticket_of(bot: RunningBot, incident: Any, number: int = 1, timeout: float = 10.0) -> ActionItem:
    """Action item ``number`` once the worker has opened its ticket."""

    async def opened() -> bool:
        return any(i.number == number and i.ticket_key for i in await action_items(bot, incident))

    await bot.wait_until(opened, timeout=timeout)
    return next(i for i in await action_items(bot, incident) if i.number == number)


async def refusal(bot: RunningBot, incident: Any, *, told: str = ALICE) -> TimelineEvent:
    """The ``work_failed`` entry, once it is on the timeline and ``told`` has been told privately."""

    async def failed() -> bool:
        return await has_kind(bot, incident, "work_failed") and bool(bot.slack.ephemerals_for(told))

    await bot.wait_until(failed)
    return next(e for e in await timeline(bot, incident) if e.kind == "work_failed")
