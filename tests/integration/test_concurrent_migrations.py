"""Replicas starting together on a fresh PostgreSQL schema: one migrates, the others wait and find it done."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Event

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.db import alembic_config, create_sync_engine, migrate

REPLICAS = 4


def migrate_when_told(database_url: str, go: Event) -> None:
    """One replica's start-up: everything imported and ready, then migrate at the same moment as the others."""
    go.wait(60)
    migrate(database_url)


def test_replicas_migrating_at_once_leave_one_schema_at_head(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serves one process; replicas share PostgreSQL")
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Event()
    replicas = [spawn.Process(target=migrate_when_told, args=(database_url, go)) for _ in range(REPLICAS)]
    for replica in replicas:
        replica.start()
    go.set()
    for replica in replicas:
        replica.join(120)
    assert [replica.exitcode for replica in replicas] == [0] * REPLICAS, "a replica failed to migrate"

    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    engine = create_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        engine.dispose()
    assert versions == [head]
