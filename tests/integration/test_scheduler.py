"""Who fires scheduled jobs: APScheduler's own timer on the machine's clock, the test on a test clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.clock import SystemClock
from bot.local_slack.server import FakeSlack
from bot.runtime.scheduler import run_due_jobs, schedule, scheduled
from tests.clock import FakeClock
from tests.support import start_bot, stop_bot

ran: list[int] = []


async def probe(number: int) -> None:
    """A job that only records that it ran."""
    ran.append(number)


@pytest.fixture(autouse=True)
def nothing_ran_yet() -> None:
    ran.clear()


async def test_on_the_machine_clock_the_scheduler_fires_jobs_itself(slack: FakeSlack, database_url: str) -> None:
    bot = await start_bot(slack, database_url, clock=SystemClock())
    try:
        schedule(bot.ctx, "probe:1", probe, bot.ctx.clock.now() + timedelta(seconds=0.2), 1)
        await bot.wait_until(lambda: 1 in ran, timeout=3)
        assert "probe:1" not in scheduled(bot.ctx), "a one-shot job leaves the store once run"
    finally:
        await stop_bot(bot)


async def test_on_a_test_clock_jobs_run_only_when_the_test_runs_them(slack: FakeSlack, database_url: str) -> None:
    clock = FakeClock()
    bot = await start_bot(slack, database_url, clock=clock)
    try:
        schedule(bot.ctx, "probe:2", probe, clock.now() - timedelta(seconds=1), 2)
        schedule(bot.ctx, "probe:3", probe, clock.now() + timedelta(minutes=5), 3)
        await asyncio.sleep(0.3)
        assert 2 not in ran, "already due, yet nothing fires until the test says so"
        assert await run_due_jobs(bot.ctx) == 1
        assert 2 in ran and 3 not in ran
        await bot.advance(timedelta(minutes=5))
        assert 3 in ran and scheduled(bot.ctx, "probe:") == {}
    finally:
        await stop_bot(bot)
