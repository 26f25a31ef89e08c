"""The incident's call link (``bridge_url``): in the pinned summary and bookmarked in the channel, once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config.settings import IncidentConfig
from tests.channel_commands import summary, wait_for_summary
from tests.support import RunningBot

BRIDGE = "https://meet.example.com/{reference}?room={channel}"


def config(tmp_path: Path, **values: Any) -> IncidentConfig:
    return IncidentConfig(postmortem_dir=tmp_path / "postmortems", **values)


def bookmarks(bot: RunningBot, channel_id: str) -> list[dict[str, Any]]:
    return list(bot.slack.workspace.channels[channel_id].bookmarks)


async def test_the_call_link_is_in_the_summary_and_bookmarked(make_bot: Callable[..., Any], tmp_path: Path) -> None:
    bot = await make_bot(config(tmp_path, bridge_url=BRIDGE))
    incident = await bot.declare("Checkout latency")
    link = f"https://meet.example.com/{incident.reference}?room={incident.channel_name}"
    await wait_for_summary(bot, incident, f"*Call:* <{link}|Join the incident call>")
    assert [(b["title"], b["link"], b["type"]) for b in bookmarks(bot, incident.channel_id)] == [
        ("Incident call", link, "link")]


async def test_without_a_bridge_there_is_no_call_link(make_bot: Callable[..., Any], tmp_path: Path) -> None:
    bot = await make_bot(config(tmp_path))
    incident = await bot.declare("Checkout latency")
    assert "*Call:*" not in summary(bot, incident)
    assert not bookmarks(bot, incident.channel_id) and not bot.slack.calls_to("bookmarks.add")


async def test_a_bookmark_whose_answer_was_lost_is_not_added_twice(make_bot: Callable[..., Any], tmp_path: Path) -> None:
    bot = await make_bot(config(tmp_path, bridge_url=BRIDGE))
    bot.slack.drop_connection_next("bookmarks.add", after_effect=True)
    incident = await bot.declare("Checkout latency", wait=False)

    async def bookmarked() -> bool:
        current = await bot.incident(incident.id)
        return current.channel_id is not None and bool(bot.slack.calls_to("bookmarks.list"))

    await bot.wait_until(bookmarked, timeout=10)
    await bot.settled()
    current = await bot.incident(incident.id)
    assert len(bookmarks(bot, current.channel_id)) == 1
