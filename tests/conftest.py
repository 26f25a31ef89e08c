"""Fixtures: the local Slack, a fresh database per test, and the running bot."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import Clock
from bot.config.settings import IncidentConfig
from bot.local_slack.server import FakeSlack
from storage.db import migrate
from tests.support import (
    BOT_TOKEN,
    RunningBot,
    drop_postgres_schema,
    fresh_postgres_schema,
    populate_workspace,
    postgres_base_url,
    start_bot,
    stop_bot,
)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the latest schema, migrated once and copied for each test that needs one."""
    path = tmp_path_factory.mktemp("template") / "bot.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path) -> Iterator[str]:
    """Every database test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.

    A SQLite test gets its own copy of a migrated database (start-up finds it current
    instead of migrating anew); a PostgreSQL test gets a new, empty schema.
    """
    if request.param == "sqlite":
        shutil.copyfile(migrated_sqlite, tmp_path / "bot.db")
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("TEST_DATABASE_URL is not set")
    url, schema = fresh_postgres_schema(base)
    yield url
    drop_postgres_schema(base, schema)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(token=BOT_TOKEN)
    await fake.start()
    populate_workspace(fake)
    yield fake
    await fake.stop()


@pytest.fixture
def bot_config(tmp_path: Path) -> IncidentConfig:
    """The configuration the `bot` fixture starts with; override it in a test module.

    Post-mortems of resolved incidents go to the test's own directory, not the working one.
    """
    return IncidentConfig(postmortem_dir=tmp_path / "postmortems")


@pytest.fixture
def bot_clock() -> Clock | None:
    """The clock the `bot` and `make_bot` fixtures start bots with: the machine's (None).

    A test module that moves time by hand overrides it to return a
    ``tests.clock.FakeClock`` and calls ``await bot.advance(...)``.
    """
    return None


@pytest.fixture
async def bot(
    slack: FakeSlack, database_url: str, bot_config: IncidentConfig, bot_clock: Clock | None
) -> AsyncIterator[RunningBot]:
    running = await start_bot(slack, database_url, bot_config, clock=bot_clock)
    yield running
    await stop_bot(running)


@pytest.fixture
async def make_bot(slack: FakeSlack, database_url: str, bot_clock: Clock | None) -> AsyncIterator[Callable[..., Any]]:
    """Start bots with custom configuration (all on ``bot_clock``); all are stopped at the end of the test."""
    started: list[RunningBot] = []

    async def make(config: IncidentConfig | None = None, **env: str) -> RunningBot:
        running = await start_bot(slack, database_url, config, clock=bot_clock, **env)
        started.append(running)
        return running

    yield make
    for running in started:
        await stop_bot(running)


KINDS = ("unit", "integration", "process")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its kind, from the folder it lives in, so `-m unit` runs one kind."""
    for item in items:
        kind = item.path.parent.name
        if kind in KINDS:
            item.add_marker(getattr(pytest.mark, kind))
