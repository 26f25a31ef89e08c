"""Several `incident-bot serve` processes on one PostgreSQL database.

They answer Slack interchangeably; exactly one runs the reminder scheduler,
and when that one is killed another takes over within 15 s, with no reminder
lost or doubled.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from bot.slack.ids import Callback
from storage.db import Database
from storage import queries
from tests.processes import BotProcess
from tests.reminding import prompt_calls, wall_time
from bot.local_slack.requests import SignedRequests
from bot.local_slack.server import FakeSlack
from tests.support import ALICE, SIGNING_SECRET, declare_values

pytestmark = pytest.mark.asyncio

CADENCE = 4.0


async def is_leader(bot: BotProcess) -> bool:
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"{bot.url}/metrics", timeout=5)).text
    return "incident_bot_scheduler_leader 1.0" in metrics


async def leaders(bots: list[BotProcess]) -> list[BotProcess]:
    return [b for b in bots if await is_leader(b)]


async def test_replicas_share_work_and_the_scheduler_fails_over(
    slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database")
    config = tmp_path / "bot.toml"
    config.write_text(f'[severities.SEV-2]\nupdate_every = "{int(CADENCE)}s"\n')
    bots = [BotProcess(api_url=slack.api_url, database_url=database_url, config_path=config,
                       log_path=tmp_path / f"bot{n}.log") for n in range(3)]
    for bot in bots:
        await bot.start()
    try:
        await _exercise(slack, database_url, bots)
    finally:
        for bot in bots:
            bot.stop()


async def _exercise(slack: FakeSlack, database_url: str, bots: list[BotProcess]) -> None:
    deadline = time.monotonic() + 10
    while len(found := await leaders(bots)) != 1:
        assert time.monotonic() < deadline, f"expected one leader, got {len(found)}"
        await asyncio.sleep(0.2)
    leader = found[0]
    followers = [b for b in bots if b is not leader]

    # Declared through one follower, worked on through another.
    first = SignedRequests(bot_url=followers[0].url, signing_secret=SIGNING_SECRET, slack=slack)
    second = SignedRequests(bot_url=followers[1].url, signing_secret=SIGNING_SECRET, slack=slack)
    values = declare_values(title="Replicated outage", severity=2, commander=ALICE)
    reply = await first.view_submission(callback_id=Callback.DECLARE, user_id=ALICE, values=values,
                                        view_id="VREPLICA",
                                        private_metadata=json.dumps({"response_url": slack.new_response_url()}))
    assert reply.status_code == 200
    channel = None
    for _ in range(100):
        named = [c for c in slack.channels.values() if "replicated-outage" in c.name]
        if named and named[0].pins:
            channel = named[0]
            break
        await asyncio.sleep(0.1)
    assert channel is not None, "the declare finished through a follower"
    note = await second.command("note checked the dashboards", user_id=ALICE, channel_id=channel.id)
    assert note.status_code == 200

    # Prompts arrive although the declare went through a replica that does not schedule.
    await slack.wait_for("chat.postMessage", count=1, timeout=CADENCE + 15,
                         where=lambda c: c in prompt_calls(slack, channel.id))
    leader.kill()
    killed_at = time.time()
    deadline = time.monotonic() + 15 + CADENCE + 10
    while not [c for c in prompt_calls(slack, channel.id) if wall_time(c) > killed_at]:
        assert time.monotonic() < deadline, "no prompt after the leader died"
        await asyncio.sleep(0.2)
    taken_over = [c for c in prompt_calls(slack, channel.id) if wall_time(c) > killed_at][0]
    assert wall_time(taken_over) - killed_at < 15 + CADENCE + 2
    survivors = [b for b in bots if b is not leader]
    assert len(await leaders(survivors)) == 1

    # Let a few more prompts come: never two for the same due time.
    await asyncio.sleep(CADENCE * 2.5)
    times = sorted(wall_time(c) for c in prompt_calls(slack, channel.id))
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap > CADENCE * 0.5 for gap in gaps), f"doubled prompts: gaps {gaps}"

    db = Database(database_url)
    try:
        async with db.session() as session:
            incident = await queries.incident_by_channel(session=session, channel_id=channel.id)
            assert incident is not None
            kinds = [e.kind for e in await queries.timeline(session=session, incident_id=incident.id)]
    finally:
        await db.dispose()
    assert "note" in kinds
    await first.aclose()
    await second.aclose()
