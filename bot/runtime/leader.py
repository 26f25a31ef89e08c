"""Choosing the one replica that runs the reminder scheduler.

Several ``incident-bot serve`` processes may share one PostgreSQL database;
they all answer Slack, but only the holder of a session-level advisory lock
runs scheduled jobs. PostgreSQL releases the lock the moment the holder's
connection goes away (a killed process included), so a follower polling every
few seconds takes over well within 15 s. On SQLite, where replicas are not
supported, an exclusive lock on a file beside the database keeps a second
process on the same file from scheduling too.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Protocol

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# An arbitrary, fixed 32-bit class naming "the incident-bot scheduler" among advisory locks;
# the second half of the key names the database and schema.
ADVISORY_LOCK_CLASS = 0x1C1DE7B0


class Lock(Protocol):
    """A lock that at most one process holds, and that is lost if the holder dies."""

    async def try_acquire(self) -> bool: ...
    async def still_held(self) -> bool: ...
    async def release(self) -> None: ...


class PostgresAdvisoryLock:
    """``pg_try_advisory_lock`` on a connection of its own, held for as long as it lives."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._connection: psycopg.AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            # One lock per database and schema, so deployments sharing a server never block each other.
            cursor = await self._connection.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(current_database() || '.' || current_schema()))",
                (ADVISORY_LOCK_CLASS,),
            )
            row = await cursor.fetchone()
        except psycopg.Error as exc:
            log.warning("leader election: database unreachable (%s)", exc)
            await self.release()
            return False
        return bool(row and row[0])

    async def still_held(self) -> bool:
        if self._connection is None or self._connection.closed:
            return False
        try:
            await self._connection.execute("SELECT 1")
        except psycopg.Error:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.close()
            except psycopg.Error:
                pass
            self._connection = None


class FileLock:
    """An exclusive ``flock`` on a file; the kernel drops it when the process dies."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[str] | None = None

    async def try_acquire(self) -> bool:
        handle = self._path.open("a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    async def still_held(self) -> bool:
        return self._handle is not None

    async def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_for(database_url: str) -> Lock:
    """The right kind of lock for the database replicas share."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(database_url)
    database = url.database or ""
    if database in ("", ":memory:"):
        return FileLock(Path(f"/tmp/incident-bot-{os.getpid()}.leader"))
    return FileLock(Path(database).expanduser().with_suffix(".leader"))


class Leadership:
    """Polls for the lock; runs ``on_elected`` when won and ``on_demoted`` when lost."""

    def __init__(
        self,
        lock: Lock,
        *,
        on_elected: Callable[[], Awaitable[None]],
        on_demoted: Callable[[], Awaitable[None]],
        poll_seconds: float = 2.0,
    ) -> None:
        self._lock = lock
        self._on_elected = on_elected
        self._on_demoted = on_demoted
        self._poll = poll_seconds
        self.is_leader = False

    async def campaign_once(self) -> bool:
        """One round: notice a lost lock, or try to win a free one; returns whether we lead."""
        if self.is_leader and not await self._lock.still_held():
            log.warning("leader election: lost the lock; stopping the scheduler here")
            self.is_leader = False
            await self._on_demoted()
        if not self.is_leader and await self._lock.try_acquire():
            log.info("leader election: this replica now runs the scheduler")
            self.is_leader = True
            await self._on_elected()
        return self.is_leader

    async def run(self) -> None:
        """Campaign forever (until cancelled); the caller runs this as a background task."""
        try:
            while True:
                await self.campaign_once()
                await asyncio.sleep(self._poll)
        finally:
            if self.is_leader:
                self.is_leader = False
                await self._on_demoted()
            await self._lock.release()
