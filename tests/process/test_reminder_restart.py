"""Reminders across a restart into a real bot process, in real time.

The integration tests move a test clock; this one proves the wiring they
cannot: a new process rebuilding its jobs from the database at start, and the
scheduler's own timer firing the next one. Where the jobs come from does not
depend on the database (the integration tests cover both), so it runs on SQLite.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.config.settings import IncidentConfig
from bot.local_slack.server import FakeSlack
from tests.processes import BotProcess
from tests.reminding import prompt_calls, wait_for_prompts, wall_time
from tests.support import ALICE, start_bot, stop_bot

pytestmark = pytest.mark.asyncio

CADENCE = 3.0


async def test_a_reminder_due_while_the_bot_was_down_is_sent_once_within_5s_of_start_then_on_time(
    slack: FakeSlack, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    cadence = {"severities": {"SEV-2": {"update_every": f"{int(CADENCE)}s"}}}
    first = await start_bot(slack, database_url, IncidentConfig.model_validate(cadence))
    incident = await first.declare(severity=2, commander=ALICE)
    await stop_bot(first)
    assert incident.next_update_due is not None
    assert prompt_calls(slack, incident.channel_id) == []
    await asyncio.sleep(max(0.0, incident.next_update_due.timestamp() + 0.2 - time.time()))

    config_file = tmp_path / "incident-bot.toml"
    config_file.write_text(f'[severities.SEV-2]\nupdate_every = "{int(CADENCE)}s"\n')
    process = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log",
                         config_path=config_file)
    await process.start()
    healthy = time.time()
    try:
        prompt = (await wait_for_prompts(slack, incident.channel_id, 1, timeout=10))[0]
        assert wall_time(prompt) - healthy < 5, process.log()
        following = (await wait_for_prompts(slack, incident.channel_id, 2, timeout=CADENCE + 5))[1]
        assert wall_time(following) - wall_time(prompt) >= CADENCE - 0.3, \
            "sent once at start, and the next one a full cadence later: " + process.log()
    finally:
        process.kill()
