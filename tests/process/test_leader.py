"""Leader election: exactly one holder, and a prompt takeover when it goes away."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.runtime.leader import Leadership, lock_for

pytestmark = pytest.mark.asyncio


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def elected(self) -> None:
        self.events.append("elected")

    async def demoted(self) -> None:
        self.events.append("demoted")


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_one_leader_at_a_time_and_takeover(database_url: str) -> None:
    a, b = Recorder(), Recorder()
    first = Leadership(lock_for(database_url), on_elected=a.elected, on_demoted=a.demoted, poll_seconds=0.1)
    second = Leadership(lock_for(database_url), on_elected=b.elected, on_demoted=b.demoted, poll_seconds=0.1)
    first_task = asyncio.create_task(first.run())
    await wait_for(lambda: first.is_leader)
    second_task = asyncio.create_task(second.run())
    await asyncio.sleep(0.5)
    assert first.is_leader and not second.is_leader
    first_task.cancel()
    await asyncio.gather(first_task, return_exceptions=True)
    assert a.events == ["elected", "demoted"]
    await wait_for(lambda: second.is_leader)
    assert b.events == ["elected"]
    second_task.cancel()
    await asyncio.gather(second_task, return_exceptions=True)


async def test_file_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    one, two = lock_for(url), lock_for(url)
    assert await one.try_acquire()
    assert not await two.try_acquire()
    await one.release()
    assert await two.try_acquire()
    await two.release()
