"""The local Slack's signed requests, read by a real Bolt app: what Slack sends the bot.

If these pass, requests built by :class:`~bot.local_slack.SignedRequests` are what Bolt
expects, signed as Slack signs them, and refused when they are not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.local_slack import FakeSlack, SignedRequests
from tests.local_slack_support import ALICE, BOT, MODAL, SECRET, SECTION, TOKEN, running_slack
from tests.support import free_port


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with running_slack() as stub:
        yield stub


BoltApp = tuple[str, dict[str, list[Any]]]
"""URL of the test Bolt app and what each of its listeners received."""


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait for something a listener does after Bolt has already answered."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest_asyncio.fixture
async def bolt_url(slack: FakeSlack) -> AsyncIterator[BoltApp]:
    """A minimal Bolt app on the stub: it records what it parsed and opens modals."""
    seen: dict[str, list[Any]] = {"command": [], "view": [], "action": [], "shortcut": [], "event": []}
    app = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=slack.api_url))

    @app.command("/incident")
    async def on_command(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        seen["command"].append(body)
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        await respond(text="opening the form")

    @app.view("declare")
    async def on_view(ack: Any, view: dict[str, Any]) -> None:
        seen["view"].append(view)
        await ack()

    @app.action("ack_button")
    async def on_action(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        seen["action"].append(body)
        await respond(replace_original=True, text="acknowledged")

    @app.shortcut("add_to_timeline")
    async def on_shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        seen["shortcut"].append(shortcut)
        await ack()

    @app.event("reaction_added")
    async def on_reaction(event: dict[str, Any]) -> None:
        seen["event"].append(event)

    port = free_port()
    runner = web.AppRunner(app.web_app(path="/slack/events", port=port), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_bolt_accepts_signed_requests(slack: FakeSlack, bolt_url: BoltApp) -> None:
    url, seen = bolt_url
    channel = slack.add_channel("inc-4", members=[BOT, ALICE])
    async with SignedRequests(bot_url=url, signing_secret=SECRET, slack=slack) as send:
        assert (await send.command("declare DB down", user_id=ALICE, channel_id=channel)).status_code == 200
        (opened,) = await slack.wait_for("views.open", where=lambda c: c.ok)
        (reply,) = await slack.wait_for_response(seen["command"][0]["response_url"])
        assert reply["text"] == "opening the form" and seen["command"][0]["channel_name"] == "inc-4"

        values = {"title": {"value": {"type": "plain_text_input", "value": "DB down"}}}
        view_id = opened.response["view"]["id"]
        submitted = await send.view_submission(callback_id="declare", user_id=ALICE, values=values, view_id=view_id)
        assert submitted.status_code == 200
        assert seen["view"][0]["state"]["values"] == values and seen["view"][0]["blocks"] == MODAL["blocks"]

        prompt = slack.add_message(channel, BOT, "Update due", blocks=[SECTION])
        pressed = await send.block_actions(
            user_id=ALICE, action_id="ack_button", value="1", channel_id=channel, message_ts=prompt.ts
        )
        assert pressed.status_code == 200
        await slack.wait_for_response(seen["action"][0]["response_url"])
        assert slack.messages_in(channel)[0].text == "acknowledged"

        human = slack.add_message(channel, ALICE, "the disk is full")
        await send.message_shortcut(
            callback_id="add_to_timeline",
            user_id=ALICE,
            channel_id=channel,
            message={"ts": human.ts, "user": ALICE, "text": human.text},
        )
        assert seen["shortcut"][0]["message"]["text"] == "the disk is full"

        item = {"type": "message", "channel": channel, "ts": human.ts}
        event = {"type": "reaction_added", "user": ALICE, "reaction": "pushpin", "item": item, "event_ts": human.ts}
        assert (await send.event(event, retry_num=1, retry_reason="http_timeout")).status_code == 200
        await until(lambda: bool(seen["event"]))  # Bolt acks events before running listeners
        assert seen["event"][0]["reaction"] == "pushpin"


async def test_bolt_refuses_bad_and_stale_signatures(slack: FakeSlack, bolt_url: BoltApp) -> None:
    url, seen = bolt_url
    body = json.dumps({"type": "event_callback", "event": {"type": "reaction_added"}}).encode()
    async with SignedRequests(bot_url=url, signing_secret=SECRET, slack=slack) as send:
        assert (await send.raw(body, content_type="application/json", signature="v0=deadbeef")).status_code == 401
        stale = await send.raw(body, content_type="application/json", timestamp=1_600_000_000)
        assert stale.status_code == 401
    assert seen["event"] == []
