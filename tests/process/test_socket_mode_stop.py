"""A real `incident-bot` process in Socket Mode finishes what it acknowledged over the socket when stopped."""

from __future__ import annotations

from pathlib import Path

from bot.local_slack.server import FakeSlack
from bot.local_slack.socket_requests import SocketModeRequests
from tests.processes import BotProcess
from tests.support import ALICE


async def test_sigterm_in_socket_mode_finishes_acknowledged_work_then_exits_cleanly(
    slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    process = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log",
                         extra_env={"SLACK_APP_TOKEN": slack.app_token}, command="run")
    await process.start()
    try:
        await slack.socket_mode.wait_for_connections(1)
        general = slack.channel_by_name("general")
        assert general is not None
        url = slack.new_response_url(channel_id=general.id)
        slack.set_latency(1.0, "views.open")  # the work outlasts the ack by a second
        acked = await SocketModeRequests(slack).command("declare " + "x" * 120, user_id=ALICE,
                                                        channel_id=general.id, response_url=url)
        assert acked.payload is None
        assert await process.terminate() == 0, process.log()
    finally:
        process.stop()
    assert len(slack.calls_to("views.open")) == 1, process.log()
    assert any("at most 80" in reply.get("text", "") for reply in slack.responses_to(url)), process.log()
    assert "Traceback" not in process.log()
