"""A SQLite database serves one bot process: a second is refused with a clear message, a restart is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.local_slack.server import FakeSlack
from tests.processes import BotProcess

pytestmark = pytest.mark.asyncio


async def exit_of(bot: BotProcess, timeout: float = 30.0) -> int:
    """Start a bot that is expected to refuse to run; its exit code."""
    with pytest.raises(AssertionError, match="bot exited"):
        await bot.start(timeout=timeout)
    assert bot.process is not None
    return bot.process.returncode


async def test_a_second_process_on_the_same_file_is_refused_until_the_first_is_gone(
    slack: FakeSlack, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    first = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "first.log")
    await first.start()
    try:
        second = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "second.log")
        assert await exit_of(second) == 2
        refusal = second.log()
        assert str(tmp_path / "bot.db.lock") in refusal
        assert "SQLite serves one bot process" in refusal and "PostgreSQL" in refusal
        assert "Traceback" not in refusal
        assert first.process is not None and first.process.poll() is None, "the first bot kept running"
    finally:
        first.kill()  # SIGKILL: the kernel must release the lock without our code running

    restarted = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "restarted.log")
    await restarted.start()
    assert await restarted.terminate() == 0
    again = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "again.log")
    await again.start()
    again.stop()


async def test_another_database_file_in_the_same_directory_is_not_affected(slack: FakeSlack, tmp_path: Path) -> None:
    bots = [BotProcess(api_url=slack.api_url, database_url=f"sqlite:///{tmp_path / name}",
                       log_path=tmp_path / f"{name}.log") for name in ("one.db", "two.db")]
    for bot in bots:
        await bot.start()
    for bot in bots:
        bot.stop()

