"""Leader election: exactly one holder, and a prompt takeover when it goes away."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.runtime.leader import ADVISORY_LOCK_CLASS, Leadership, lock_conninfo, lock_for
from bot.runtime.scheduler import schedule
from tests.support import RunningBot

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


def postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the advisory lock lives on PostgreSQL")


async def cut_the_lock_connection(database_url: str, *, then_hold_the_lock: bool) -> psycopg.AsyncConnection:
    """What an operator (or a dying network) does: end the leader's lock session on the server.

    With ``then_hold_the_lock``, this connection queues for the lock first, so
    the replica cannot win it back and stays a follower.
    """
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    cursor = await connection.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s::oid"
        " AND objid = hashtext(current_database() || '.' || current_schema())::oid",
        (ADVISORY_LOCK_CLASS,),
    )
    (pid,) = await cursor.fetchone() or pytest.fail("nobody holds the leader lock")
    await connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
    if then_hold_the_lock:
        await connection.execute(
            "SELECT pg_advisory_lock(%s, hashtext(current_database() || '.' || current_schema()))",
            (ADVISORY_LOCK_CLASS,),
        )
    return connection


async def test_a_cut_lock_connection_demotes_the_leader_within_one_poll(database_url: str) -> None:
    postgres_only(database_url)
    events = Recorder()
    leadership = Leadership(lock_for(database_url), on_elected=events.elected, on_demoted=events.demoted,
                            poll_seconds=1.0)
    task = asyncio.create_task(leadership.run())
    try:
        await wait_for(lambda: leadership.is_leader)
        operator = await cut_the_lock_connection(database_url, then_hold_the_lock=True)
        await wait_for(lambda: not leadership.still_leader(), timeout=0.5)
        await wait_for(lambda: events.events == ["elected", "demoted"], timeout=1.5)
        await asyncio.sleep(1.5)
        assert not leadership.is_leader, "the lock is held elsewhere now"
        await operator.close()
        await wait_for(lambda: leadership.is_leader, timeout=3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


probe_runs: list[int] = []


async def probe(number: int) -> None:
    """A scheduled job that only records that it ran."""
    probe_runs.append(number)


async def test_a_leader_that_lost_its_lock_runs_no_job_while_it_waits_to_be_demoted(bot: RunningBot) -> None:
    postgres_only(bot.ctx.settings.database_url)
    leadership = bot.runtime.leadership
    assert leadership.still_leader()
    schedule(bot.ctx, "probe:1", probe, datetime.now(UTC) + timedelta(seconds=0.3), 1)
    operator = await cut_the_lock_connection(bot.ctx.settings.database_url, then_hold_the_lock=True)
    try:
        await asyncio.sleep(1.0)  # past the job's time, before the next scheduled poll of the lock
        assert probe_runs == [], "a replica that lost the lock ran a job"
        assert not leadership.is_leader and not bot.ctx.scheduler_leader
    finally:
        await operator.close()


async def test_the_lock_connection_asks_both_ends_for_keepalives(database_url: str) -> None:
    postgres_only(database_url)
    async with await psycopg.AsyncConnection.connect(lock_conninfo(database_url), autocommit=True) as connection:
        client = connection.info.get_parameters()
        assert client["keepalives"] == "1" and int(client["keepalives_idle"]) <= 10
        assert int(client["tcp_user_timeout"]) > 0
        rows = await (await connection.execute(
            "SELECT name, setting FROM pg_settings WHERE name LIKE 'tcp%%'")).fetchall()
        schema = (await (await connection.execute("SELECT current_schema()")).fetchone() or ("",))[0]
    assert dict(rows) == {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3",
                          "tcp_user_timeout": "5000"}, "seconds, and milliseconds for the user timeout"
    assert f"search_path={schema}" in make_url(database_url).query["options"], "the URL's own options are kept"
