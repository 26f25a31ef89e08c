"""The database engine, sessions and start-up migrations.

Operators give one SQLAlchemy URL (``sqlite:///incident-bot.db`` or
``postgresql://…``); the bot derives the async driver for its own queries and
the sync driver that Alembic and APScheduler's job store need.

Transactions on SQLite follow SQLAlchemy's documented recipe: the driver's own
transaction handling is switched off and the engine emits ``BEGIN`` itself, so
a transaction covers its reads and a savepoint belongs to its transaction
(with the driver's handling, a savepoint that came first committed on its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}

BUSY_TIMEOUT_SECONDS = 30
"""How long a SQLite connection waits for another's write lock before giving up."""

READ_ONLY = "incident_bot_read_only"
"""Execution option marking the engine that hands out read-only sessions (SQLite)."""

# An arbitrary, fixed 32-bit class naming "incident-bot migrations" among advisory locks;
# the second half of the key names the database and schema, as the leader election's does.
MIGRATION_LOCK_CLASS = 0x1C1DE7B1


class DatabaseURLError(ValueError):
    """DATABASE_URL names a database this bot does not support."""


def _with_driver(url: str, drivers: dict[str, str]) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise DatabaseURLError(
            f"DATABASE_URL: unsupported database {backend!r}; use sqlite:///… or postgresql://…"
        )
    return parsed.set(drivername=drivers[backend])


def async_url(url: str) -> URL:
    """The URL with the driver the bot's async sessions use."""
    return _with_driver(url, _ASYNC_DRIVERS)


def sync_url(url: str) -> URL:
    """The URL with the blocking driver Alembic and the job store use."""
    return _with_driver(url, _SYNC_DRIVERS)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL and a busy timeout let the web handlers and the scheduler write concurrently."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_transactions_by_engine(dbapi_connection: Any, record: Any) -> None:
    """Stop the driver from beginning (and half-beginning) transactions; :func:`_begin_sqlite` does it."""
    dbapi_connection.isolation_level = None
    _tune_sqlite(dbapi_connection, record)


def _begin_sqlite(connection: Connection) -> None:
    """Begin every transaction explicitly: IMMEDIATE for sessions that may write, deferred for readers.

    ``BEGIN IMMEDIATE`` takes SQLite's one write lock up front (waiting up to
    the busy timeout for it), so a session that reads and then writes never
    fails half-way because another connection committed in between, and a row
    read "for update" really is locked: SQLite ignores ``FOR UPDATE``, but no
    other writer can start until this transaction ends. Readers begin deferred,
    see one snapshot, and run alongside the writer (WAL); ``query_only`` makes
    a write in a read-only session fail loudly instead of racing.
    """
    read_only = bool(connection.get_execution_options().get(READ_ONLY))
    remembered = connection.connection.info  # lives as long as the driver's connection
    if remembered.get(READ_ONLY) != read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
        remembered[READ_ONLY] = read_only
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """Owns the async engine; hands out sessions that commit or roll back as a unit."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        target = async_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if target.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_SECONDS}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(target, **kwargs)
        if target.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_transactions_by_engine)
            event.listen(self.engine.sync_engine, "begin", _begin_sqlite)
            reading = self.engine.execution_options(**{READ_ONLY: True})
        else:
            reading = self.engine.execution_options(postgresql_readonly=True)
        self._writers = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._readers = async_sessionmaker(reading, class_=AsyncSession, expire_on_commit=False)
        self._reading_engine = reading

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        ``write=True`` (the default): the session may write. On SQLite it holds
        the database's write lock from its first statement to its end, so keep
        it short and never await Slack or another session inside it; that lock
        is also what makes ``incident_for_update`` exclusive on SQLite (on
        PostgreSQL ``FOR UPDATE`` locks the row).

        ``write=False``: a read-only transaction (PostgreSQL ``READ ONLY``,
        SQLite ``query_only``) that waits for no writer; any write in it fails.
        """
        sessions = self._writers if write else self._readers
        async with sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> bool:
        """True when the database answers a trivial query (for /healthz); never waits for a writer."""
        try:
            async with self._reading_engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_sync_engine(url: str) -> Engine:
    """A blocking engine on the same database, for tools and tests that write beside a running bot.

    SQLite gets the same WAL and busy-timeout tuning as the async engine, so
    such a writer and the bot's sessions can write the one file concurrently.
    """
    target = sync_url(url)
    if target.get_backend_name() != "sqlite":
        return create_engine(target, pool_pre_ping=True)
    engine = create_engine(target, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _tune_sqlite)
    return engine


def alembic_config(url: str, connection: Connection | None = None) -> AlembicConfig:
    """An Alembic configuration pointed at our migrations and the given database (or open connection)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["sqlalchemy_url"] = sync_url(url)
    config.attributes["connection"] = connection
    return config


def migrate(url: str) -> None:
    """Bring the schema up to date; blocking, so it runs before the event loop serves.

    Replicas starting together all call this: on PostgreSQL they queue on an
    advisory lock, so one upgrades and the others find the schema current.
    """
    _ensure_sqlite_dir(url)
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _take_migration_lock(connection)
            command.upgrade(alembic_config(url, connection), "head")
    finally:
        engine.dispose()


def _take_migration_lock(connection: Connection) -> None:
    """On PostgreSQL, wait for the migration advisory lock of this database and schema.

    The lock belongs to the connection's session, so it lasts until
    :func:`migrate` closes the connection, whatever the upgrade did.
    """
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        text("SELECT pg_advisory_lock(:lock_class, hashtext(current_database() || '.' || current_schema()))"),
        {"lock_class": MIGRATION_LOCK_CLASS},
    )
    connection.commit()  # Alembic must find the connection outside a transaction to run its own


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
