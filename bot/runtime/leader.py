"""Who may run on the database: one process per SQLite file, one scheduler among replicas.

Several ``incident-bot serve`` processes may share one PostgreSQL database;
they all answer Slack, but only the holder of a session-level advisory lock
runs scheduled jobs. PostgreSQL releases the lock the moment the holder's
connection goes away: at once for a killed process, and within
:data:`SERVER_GIVES_UP_SECONDS` for a machine that vanished, thanks to TCP
keepalives on both ends of the lock's connection. The leader confirms its
lock every poll and stops acting on it well before the server could hand it
to another replica (see :meth:`Leadership.still_leader`), so two replicas
never run jobs at once.

SQLite serves one process: :class:`SoleProcess` holds an exclusive lock on
a file beside the database for the life of the process and refuses a second
one. Within the process an exclusive lock on another file beside the database
elects the one scheduler, as the advisory lock does among replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import select
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, ClassVar, Protocol

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# An arbitrary, fixed 32-bit class naming "the incident-bot scheduler" among advisory locks;
# the second half of the key names the database and schema.
ADVISORY_LOCK_CLASS = 0x1C1DE7B0

KEEPALIVE_IDLE_SECONDS = 5
KEEPALIVE_INTERVAL_SECONDS = 2
KEEPALIVE_COUNT = 3
UNACKNOWLEDGED_MS = 5000
"""How long sent data may stay unacknowledged before the connection is dropped (TCP_USER_TIMEOUT)."""
SERVER_GIVES_UP_SECONDS = KEEPALIVE_IDLE_SECONDS + KEEPALIVE_INTERVAL_SECONDS * KEEPALIVE_COUNT
"""How long after a leader's machine falls silent PostgreSQL ends its session and frees the lock."""
LEASE_SECONDS = 4.0
"""How long one confirmation of the lock lets the leader act; well under :data:`SERVER_GIVES_UP_SECONDS`."""
CONNECT_TIMEOUT_SECONDS = 5

_CLIENT_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
    "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
    "keepalives_count": KEEPALIVE_COUNT,
    "tcp_user_timeout": UNACKNOWLEDGED_MS,
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
}
_SERVER_KEEPALIVES = (
    f"-c tcp_keepalives_idle={KEEPALIVE_IDLE_SECONDS} -c tcp_keepalives_interval={KEEPALIVE_INTERVAL_SECONDS} "
    f"-c tcp_keepalives_count={KEEPALIVE_COUNT} -c tcp_user_timeout={UNACKNOWLEDGED_MS}"
)


class Lock(Protocol):
    """A lock that at most one holder has, and that is lost if the holder dies."""

    async def try_acquire(self) -> bool: ...
    async def still_held(self) -> bool: ...
    def looks_held(self) -> bool: ...
    async def release(self) -> None: ...


def lock_conninfo(database_url: str) -> str:
    """The URL as libpq connection parameters, with keepalives asked of both ends.

    The client's keepalives and user timeout make a leader cut off from the
    server notice it; the server's (its ``tcp_*`` settings, passed as options
    and merged with any the URL has) make the server end the session, and so
    free the lock, of a leader whose machine vanished.
    """
    url = make_url(database_url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    options = " ".join(filter(None, [conninfo_to_dict(conninfo).get("options"), _SERVER_KEEPALIVES]))
    return make_conninfo(conninfo, options=options, **_CLIENT_KEEPALIVES)


class PostgresAdvisoryLock:
    """``pg_try_advisory_lock`` on a connection of its own, held for as long as it lives."""

    def __init__(self, database_url: str, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self._conninfo = lock_conninfo(database_url)
        self._lease = lease_seconds
        self._connection: psycopg.AsyncConnection | None = None
        self._confirmed_at = float("-inf")
        self._asking = False

    async def try_acquire(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            # One lock per database and schema, so deployments sharing a server never block each other.
            row = await self._ask(
                "SELECT pg_try_advisory_lock(%s, hashtext(current_database() || '.' || current_schema()))",
                (ADVISORY_LOCK_CLASS,),
            )
        except psycopg.Error as exc:
            log.warning("leader election: database unreachable (%s)", exc)
            await self.release()
            return False
        return bool(row and row[0])

    async def still_held(self) -> bool:
        """A round trip on the lock's connection: the lock lives exactly as long as that session."""
        if self._connection is None or self._connection.closed:
            return False
        try:
            await self._ask("SELECT 1")
        except psycopg.Error as exc:
            log.warning("leader election: the lock's connection failed (%s)", exc)
            await self.release()
            return False
        return True

    async def _ask(self, query: str, params: tuple[object, ...] = ()) -> tuple[object, ...] | None:
        """Run one query on the lock's connection; an answer confirms the session, and so the lock."""
        assert self._connection is not None
        self._asking = True
        try:
            cursor = await self._connection.execute(query, params)
            row = await cursor.fetchone()
        finally:
            self._asking = False
        self._confirmed_at = time.monotonic()
        return row

    def looks_held(self) -> bool:
        """No round trip: False when the connection is gone, when the server wrote to it unasked
        (it does so only to end the session), or when the last confirmation is older than the lease."""
        connection = self._connection
        if connection is None or connection.closed:
            return False
        if time.monotonic() - self._confirmed_at > self._lease:
            return False
        return self._asking or not _readable(connection.fileno())

    async def release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.close()
            except psycopg.Error:
                pass
            self._connection = None
            self._confirmed_at = float("-inf")


def _readable(fd: int) -> bool:
    """Whether the socket has something to read (or hung up) right now; never waits."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _exclusive_flock(path: Path) -> IO[str] | None:
    """An open handle holding an exclusive ``flock`` on ``path``, or None when another holds it.

    The kernel drops the lock when the holder's process ends, however it ends.
    """
    handle = path.open("a")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _unlock(handle: IO[str]) -> None:
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    handle.close()


class FileLock:
    """An exclusive ``flock`` on a file: one holder, even among holders in one process."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[str] | None = None

    async def try_acquire(self) -> bool:
        self._handle = _exclusive_flock(self._path)
        return self._handle is not None

    async def still_held(self) -> bool:
        return self._handle is not None

    def looks_held(self) -> bool:
        return self._handle is not None

    async def release(self) -> None:
        if self._handle is not None:
            _unlock(self._handle)
            self._handle = None


def _sqlite_file(database_url: str) -> Path | None:
    """The SQLite database file, or None for PostgreSQL and in-memory databases."""
    url = make_url(database_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return Path(database).expanduser()


def lock_for(database_url: str) -> Lock:
    """The right kind of lock for electing the scheduler's runner on this database."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(database_url)
    database = _sqlite_file(database_url)
    if database is None:
        return FileLock(Path(f"/tmp/incident-bot-{os.getpid()}.leader"))
    return FileLock(database.with_suffix(".leader"))


class DatabaseInUse(Exception):
    """Another process already serves this SQLite database."""


class SoleProcess:
    """Keeps a second process off a SQLite database, for as long as this one runs.

    An exclusive ``flock`` on ``<database>.lock``, taken at start-up and held
    until the bot stops (the kernel drops it if the process is killed). Bots
    started within one process (the tests do) share the process's hold. A
    no-op for PostgreSQL, which serves replicas, and for in-memory SQLite.
    """

    _holds: ClassVar[dict[Path, tuple[IO[str], int]]] = {}

    def __init__(self, database_url: str) -> None:
        database = _sqlite_file(database_url)
        self._database = None if database is None else database.resolve()
        self._path = None if self._database is None else Path(f"{self._database}.lock")
        self._claimed = False
        self.alone = False
        """True when this bot took the SQLite file first in its process: no other worker can be alive."""

    def claim(self) -> None:
        """Take the database for this process, or raise :class:`DatabaseInUse` naming the lock file."""
        if self._path is None or self._claimed:
            return
        handle, holders = self._holds.get(self._path, (None, 0))
        if handle is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            handle = _exclusive_flock(self._path)
        if handle is None:
            raise DatabaseInUse(
                f"another process already serves the SQLite database {self._database} (it holds {self._path}). "
                "SQLite serves one bot process: stop the other one, or use PostgreSQL "
                "(DATABASE_URL=postgresql://…) to run several replicas."
            )
        self._holds[self._path] = (handle, holders + 1)
        self._claimed = True
        self.alone = holders == 0

    def release(self) -> None:
        if self._path is None or not self._claimed:
            return
        handle, holders = self._holds.pop(self._path)
        if holders > 1:
            self._holds[self._path] = (handle, holders - 1)
        else:
            _unlock(handle)
        self._claimed = False


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
        self._look_again = asyncio.Event()
        self.is_leader = False

    def still_leader(self) -> bool:
        """Whether this replica may act as leader right now: cheap enough to ask before every job.

        False from the moment the lock's connection visibly broke or its last
        confirmation is older than the lease, before the next poll demotes
        this replica; asking then makes that poll happen at once.
        """
        if not self.is_leader:
            return False
        if self._lock.looks_held():
            return True
        self._look_again.set()
        return False

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
                self._look_again.clear()
                await self.campaign_once()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._look_again.wait(), self._poll)
        finally:
            if self.is_leader:
                self.is_leader = False
                await self._on_demoted()
            await self._lock.release()
