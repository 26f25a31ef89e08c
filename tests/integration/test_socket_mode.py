"""Socket Mode: the real bot connected to the local Slack's WebSocket, through the same intake as HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.config.settings import IncidentConfig, load_settings
from bot.local_slack.server import FakeSlack
from bot.local_slack.socket_mode import link_url
from bot.local_slack.socket_requests import SocketModeRequests
from bot.runtime.runner import Runtime, StartupError
from bot.runtime.socket_mode import SocketModeConnection
from bot.slack.ids import Action, Callback, DeclareField
from storage import queries
from storage.models import Incident
from tests.support import ALICE, BOT_TOKEN, SIGNING_SECRET, declare_values


@dataclass
class SocketBot:
    """The bot running in Socket Mode, with Slack's side of the socket."""

    runtime: Runtime
    connection: SocketModeConnection
    slack: FakeSlack
    requests: SocketModeRequests

    async def incidents(self) -> list[Incident]:
        async with self.runtime.ctx.db.session() as session:
            return list(await queries.open_incidents(session=session))


def _runtime(slack: FakeSlack, database_url: str, tmp_path: Path, app_token: str) -> Runtime:
    settings = load_settings({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": app_token,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url,
    })
    return Runtime(settings, IncidentConfig(postmortem_dir=tmp_path / "postmortems"))


async def start_socket_bot(slack: FakeSlack, database_url: str, tmp_path: Path) -> SocketBot:
    runtime = _runtime(slack, database_url, tmp_path, slack.app_token)
    await runtime.start()
    connection = runtime.socket_mode_connection()
    await connection.connect()
    await slack.socket_mode.wait_for_connections(1)
    return SocketBot(runtime, connection, slack, SocketModeRequests(slack))


async def stop_socket_bot(bot: SocketBot) -> None:
    await bot.connection.close()
    await bot.runtime.stop()


@pytest.fixture
async def socket_bot(slack: FakeSlack, database_url: str, tmp_path: Path) -> AsyncIterator[SocketBot]:
    running = await start_socket_bot(slack, database_url, tmp_path)
    yield running
    await stop_socket_bot(running)


async def _declare(bot: SocketBot, title: str) -> Incident:
    """Slash command, modal, submission, all over the socket; the incident once its channel has its
    summary and its people (the declare's steps run side by side)."""
    general = bot.slack.channel_by_name("general")
    assert general is not None
    acked = await bot.requests.command(f"declare {title}", user_id=ALICE, channel_id=general.id)
    assert acked.payload is None, "a command is acknowledged at the door, with nothing in the ack"
    [opened] = await bot.slack.wait_for("views.open")
    assert opened.ok
    submitted = await bot.requests.view_submission(
        callback_id=Callback.DECLARE, user_id=ALICE, view_id=opened.response["view"]["id"],
        values=declare_values(title=title, severity=2, commander=ALICE),
    )
    assert submitted.payload is None, submitted
    [created] = await bot.slack.wait_for("conversations.create")
    assert created.ok
    for _ in range(250):
        [incident] = await bot.incidents()
        if incident.summary_ts is not None and incident.members_invited:
            assert incident.channel_id == created.response["channel"]["id"]
            return incident
        await asyncio.sleep(0.02)
    raise AssertionError("the summary was never posted or the people never invited")


async def test_a_declare_over_the_socket_opens_the_modal_and_creates_the_channel(socket_bot: SocketBot) -> None:
    incident = await _declare(socket_bot, "Checkout API returning 500s")
    assert incident.title == "Checkout API returning 500s"
    assert socket_bot.slack.channels[incident.channel_id].name.endswith("-checkout-api-returning-500s")
    # Every request came over the socket, and each was acknowledged well within Slack's 3 seconds.
    acks = socket_bot.slack.socket_mode.acks.values()
    assert len(acks) == 2 and all(ack.after < 1.0 for ack in acks)


async def test_a_refused_form_comes_back_in_the_ack(socket_bot: SocketBot) -> None:
    general = socket_bot.slack.channel_by_name("general")
    assert general is not None
    await socket_bot.requests.command("declare", user_id=ALICE, channel_id=general.id)
    [opened] = await socket_bot.slack.wait_for("views.open")
    acked = await socket_bot.requests.view_submission(
        callback_id=Callback.DECLARE, user_id=ALICE, view_id=opened.response["view"]["id"],
        values=declare_values(title="", severity=2, commander=ALICE),
    )
    assert acked.payload == {"response_action": "errors", "errors": {DeclareField.TITLE: "Give the incident a title."}}
    assert await socket_bot.incidents() == []


async def test_a_command_that_fails_after_its_ack_still_answers_the_person(socket_bot: SocketBot) -> None:
    general = socket_bot.slack.channel_by_name("general")
    assert general is not None
    url = socket_bot.slack.new_response_url(channel_id=general.id)
    acked = await socket_bot.requests.command("sev 1", user_id=ALICE, channel_id=general.id, response_url=url)
    assert acked.payload is None
    [reply] = await socket_bot.slack.wait_for_response(url)
    assert "works only in an incident channel" in reply["text"]


async def test_a_button_press_over_the_socket_opens_its_modal(socket_bot: SocketBot) -> None:
    incident = await _declare(socket_bot, "Replica lag")
    assert incident.channel_id is not None and incident.summary_ts is not None
    acked = await socket_bot.requests.block_actions(user_id=ALICE, action_id=Action.POST_UPDATE,
                                                   channel_id=incident.channel_id, message_ts=incident.summary_ts)
    assert acked.payload is None
    [_, update_form] = await socket_bot.slack.wait_for("views.open", count=2)
    assert update_form.ok and update_form.params["view"]["callback_id"] == Callback.UPDATE


async def test_an_event_over_the_socket_is_worked_on(socket_bot: SocketBot) -> None:
    acked = await socket_bot.requests.event({"type": "app_home_opened", "user": ALICE, "tab": "home",
                                             "channel": "D0HOME", "event_ts": "1700000000.000100"})
    assert acked.payload is None
    await socket_bot.slack.wait_for("views.publish")
    assert socket_bot.slack.home_view(ALICE) is not None


async def test_the_bot_reconnects_when_slack_asks_for_a_refresh(socket_bot: SocketBot) -> None:
    slack = socket_bot.slack
    await slack.socket_mode.disconnect("refresh_requested")
    await slack.socket_mode.wait_for_connections(2)
    assert [call.ok for call in slack.calls_to("apps.connections.open")] == [True, True]
    general = slack.channel_by_name("general")
    assert general is not None
    url = slack.new_response_url(channel_id=general.id)
    await socket_bot.requests.command("help", user_id=ALICE, channel_id=general.id, response_url=url)
    [reply] = await slack.wait_for_response(url)
    assert "/incident declare" in reply["text"]
    assert slack.socket_mode.envelopes[-1]["envelope_id"] in slack.socket_mode.acks


async def test_a_stop_finishes_what_was_acknowledged_over_the_socket(
    slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    running = await start_socket_bot(slack, database_url, tmp_path)
    general = slack.channel_by_name("general")
    assert general is not None
    url = slack.new_response_url(channel_id=general.id)
    slack.set_latency(1.0, "views.open")  # the work outlasts the ack by a second
    acked = await running.requests.command("declare " + "x" * 120, user_id=ALICE, channel_id=general.id,
                                           response_url=url)
    assert acked.payload is None and acked.after < 1.0
    await stop_socket_bot(running)
    # The form was opened and the declarer told the title was cut, before the stop returned.
    assert len(slack.calls_to("views.open")) == 1
    assert any("at most 80" in reply.get("text", "") for reply in slack.responses_to(url))
    assert not slack.socket_mode.open_connections


async def test_a_refused_app_token_stops_start_up_naming_it(slack: FakeSlack, database_url: str, tmp_path: Path) -> None:
    runtime = _runtime(slack, database_url, tmp_path, "xapp-1-A0TEST-1-revoked")
    with pytest.raises(StartupError, match="SLACK_APP_TOKEN \\(invalid_auth\\)"):
        await runtime.serve_socket_mode(host="127.0.0.1", port=0)
    assert not slack.socket_mode.connections


async def test_the_local_slack_takes_each_token_only_where_slack_does(slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session:

        async def call(method: str, token: str | None) -> str:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with session.post(f"{slack.api_url}{method}", headers=headers) as response:
                body = await response.json()
            return "ok" if body["ok"] else body["error"]

        assert await call("apps.connections.open", slack.app_token) == "ok"
        assert await call("apps.connections.open", slack.token) == "not_allowed_token_type"
        assert await call("apps.connections.open", "xapp-1-A0TEST-1-unknown") == "invalid_auth"
        assert await call("apps.connections.open", None) == "not_authed"
        assert await call("auth.test", slack.app_token) == "not_allowed_token_type"
        assert await call("auth.test", slack.token) == "ok"


async def test_a_socket_url_works_once(slack: FakeSlack) -> None:
    used = link_url(slack.base_url, ticket=slack.workspace.new_socket_ticket(), app_id=slack.workspace.app_id)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(used) as socket:
            hello = await socket.receive_json()
            assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == slack.workspace.app_id
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(used)
