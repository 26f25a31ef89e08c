"""The database engine, sessions and start-up migrations.

Operators give one SQLAlchemy URL (``sqlite:///incident-bot.db`` or
``postgresql://…``); the bot derives the async driver for its own queries and
the sync driver that Alembic and APScheduler's job store need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


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
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """Owns the async engine; hands out sessions that commit or roll back as a unit."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        target = async_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if target.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(target, **kwargs)
        if target.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _tune_sqlite)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> bool:
        """True when the database answers a trivial query (for /healthz)."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_sync_engine(url: str) -> Engine:
    """A blocking engine on the same database, for APScheduler's job store.

    SQLite gets the same WAL and busy-timeout tuning as the async engine, so
    the job store and the bot's sessions can write the one file concurrently.
    """
    target = sync_url(url)
    if target.get_backend_name() != "sqlite":
        return create_engine(target, pool_pre_ping=True)
    engine = create_engine(target, connect_args={"timeout": 30})
    event.listen(engine, "connect", _tune_sqlite)
    return engine


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic configuration pointed at our migrations and the given database."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["sqlalchemy_url"] = sync_url(url)
    return config


def migrate(url: str) -> None:
    """Bring the schema up to date; blocking, so it runs before the event loop serves."""
    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), "head")


def _ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
