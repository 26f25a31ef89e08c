"""What the local Slack's own tests share: a small workspace and the Block Kit they send it.

The tests of the stand-in itself (its Web API and its signed requests) start it with their own
people rather than the bot's test workspace, so each check names exactly who is involved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.local_slack import FakeSlack

TOKEN = "xoxb-test"
BOT = "U0BOT"
ALICE = "U0ALICE"
BOB = "U0BOB"
SECRET = "signing-secret-for-tests"

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value", "max_length": 80},
        }
    ],
}


@asynccontextmanager
async def running_slack() -> AsyncIterator[FakeSlack]:
    """The local Slack, started, with the bot, Alice (in Paris) and Bob."""
    stub = FakeSlack(token=TOKEN, bot_user_id=BOT)
    stub.add_user(ALICE, "alice", tz="Europe/Paris")
    stub.add_user(BOB, "bob")
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()
