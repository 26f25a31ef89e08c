"""Security rules of SPEC §5, one test each, through the running bot."""

from __future__ import annotations

import json
import logging
import re

import pytest

from tests.support import BOT_TOKEN, SIGNING_SECRET, RunningBot

pytestmark = pytest.mark.asyncio


def everything_posted(bot: RunningBot) -> str:
    posted = [(m.text, m.blocks) for c in bot.slack.channels.values() for m in c.messages]
    responses = [r for bodies in bot.slack.responses.values() for r in bodies]
    return json.dumps([posted, responses, [c.topic for c in bot.slack.channels.values()]])


async def test_tokens_and_secrets_are_never_logged(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await bot.declare("Log me", description="debug everything")
    general = bot.slack.channel_by_name("general").id
    await bot.requests.command("list", user_id="U0ALICE", channel_id=general)
    await bot.requests.command("nonsense", user_id="U0ALICE", channel_id=general)
    logged = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert logged, "debug logging produced records"
    assert BOT_TOKEN not in logged
    assert SIGNING_SECRET not in logged


async def test_user_text_is_never_evaluated_as_a_template(bot: RunningBot) -> None:
    incident = await bot.declare("{{ 7*7 }} {% if true %}x{% endif %}", description="{{ config }}")
    text = everything_posted(bot)
    assert "{{ 7*7 }}" in text
    shown = re.sub(r"<!date\^[^>]*>", "", text.replace(incident.channel_id or "", ""))  # times may hold a 49
    assert "49" not in shown
    assert "{{ config }}" in text


@pytest.mark.parametrize("attack", ["@channel", "@here", "<!everyone>", "<!subteam^S0ONCALL>", "<!channel>"])
async def test_broadcasts_in_user_text_are_neutralised(bot: RunningBot, attack: str) -> None:
    await bot.declare(f"DB down {attack}", description=f"ping {attack}", services=f"{attack} api")
    text = everything_posted(bot)
    for forbidden in ("@channel", "@here", "<!everyone>", "<!subteam^S0ONCALL>", "<!channel>"):
        assert forbidden not in text
