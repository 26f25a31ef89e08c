"""Keeping the local Slack's workspace in playground.db, beside the bot's own tables.

The bot's incidents name channels, messages and views of the local Slack, so both are
kept in one file and a restart finds them together; ``--reset`` deletes the file and
both start afresh. The workspace is one JSON row, written shortly after each change
(and at the end), with the standard library's sqlite3 in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

from bot.local_slack import FakeSlack, snapshot

log = logging.getLogger(__name__)

TABLE = "playground_workspace"
SETTLE_SECONDS = 1.0
"""Changes come in bursts (a declare makes a dozen calls); one write follows each burst."""
WAIT_SECONDS = 30.0


def reset(path: Path) -> bool:
    """Delete the database and SQLite's companion files; True when there was one."""
    existed = path.exists()
    for companion in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        companion.unlink(missing_ok=True)
    return existed


def _read(path: Path) -> Any:
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as connection:
        found = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
        ).fetchone()
        if found is None:
            return None
        row = connection.execute(f"SELECT data FROM {TABLE} WHERE id = 1").fetchone()
        return None if row is None else json.loads(row[0])


def _write(path: Path, data: str) -> None:
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as connection, connection:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT)")
        connection.execute(
            f"INSERT INTO {TABLE} (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (data,),
        )


async def restore(slack: FakeSlack, path: Path) -> bool:
    """Load the kept workspace into the local Slack; False when there is none to load."""
    if not path.exists():
        return False
    data = await asyncio.to_thread(_read, path)
    if not snapshot.can_load(slack.workspace, data):
        return False
    snapshot.load(slack.workspace, data)
    return True


async def save(slack: FakeSlack, path: Path) -> None:
    """Write the workspace as it is now (taken on the event loop, so it is consistent)."""
    data = json.dumps(snapshot.dump(slack.workspace))
    await asyncio.to_thread(_write, path, data)


async def keep(slack: FakeSlack, path: Path) -> None:
    """Save after every burst of changes, until cancelled."""
    saved = slack.changes.revision
    while True:
        await slack.changes.after(saved, WAIT_SECONDS)
        if slack.changes.revision == saved:
            continue
        await asyncio.sleep(SETTLE_SECONDS)
        saved = slack.changes.revision
        try:
            await save(slack, path)
        except sqlite3.Error:
            log.exception("could not save the playground's workspace; trying again after the next change")
