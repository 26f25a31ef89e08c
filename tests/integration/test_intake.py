"""The intake: which Slack requests are acked at the door, what a forged one changes, and stopping."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_bolt.async_app import AsyncBoltRequest

from bot.config.settings import IncidentConfig
from bot.slack.ids import Action, Callback
from bot.runtime.intake import acks_early
from storage import queries
from storage.db import Database
from tests.channel_commands import event_payload, quiet
from tests.processes import BotProcess
from tests.resolving import open_resolve_modal, submit_resolve
from bot.local_slack.requests import SignedRequests
from bot.local_slack.server import FakeSlack
from tests.support import ALICE, SIGNING_SECRET, RunningBot, declare_values, start_bot, stop_bot


def _interaction(kind: str, **fields: Any) -> AsyncBoltRequest:
    body = urlencode({"payload": json.dumps({"type": kind, **fields})})
    return AsyncBoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"})


@pytest.mark.parametrize(
    ("request_", "early"),
    [
        (AsyncBoltRequest(body="command=%2Fincident&text=help&response_url=x",
                          headers={"content-type": "application/x-www-form-urlencoded"}), True),
        (_interaction("block_actions", actions=[{"action_id": "a"}]), True),
        (_interaction("message_action", callback_id="c"), True),
        (_interaction("shortcut", callback_id="c"), True),
        (_interaction("view_closed", view={"callback_id": "c"}), True),
        (AsyncBoltRequest(body=json.dumps({"type": "event_callback", "event": {"type": "app_home_opened"}}),
                          headers={"content-type": "application/json"}), True),
        # Their ack carries the answer: field errors, options, the challenge, the SSL check.
        (_interaction("view_submission", view={"callback_id": "c"}), False),
        (_interaction("block_suggestion", action_id="a"), False),
        (AsyncBoltRequest(body=json.dumps({"type": "url_verification", "challenge": "x"}),
                          headers={"content-type": "application/json"}), False),
        (AsyncBoltRequest(body="ssl_check=1&token=x", headers={"content-type": "application/x-www-form-urlencoded"}),
         False),
    ],
    ids=["command", "button", "message-shortcut", "global-shortcut", "view-closed", "event", "view-submission",
         "options", "url-verification", "ssl-check"],
)
def test_only_requests_whose_ack_says_nothing_are_acked_at_the_door(request_: AsyncBoltRequest, early: bool) -> None:
    assert acks_early(request_) is early


async def test_forged_requests_of_every_kind_get_401_and_change_nothing(bot: RunningBot) -> None:
    incident = await bot.declare("Forgery target")
    await quiet(bot)
    calls_before = len(bot.slack.calls)
    incidents_before = len(await bot.all_incidents())
    forger = SignedRequests(bot_url=bot.url, signing_secret="not-the-signing-secret", slack=bot.slack)
    try:
        channel = incident.channel_id
        assert channel is not None
        replies = [
            await forger.command("declare Forged", user_id=ALICE, channel_id=channel),
            await forger.command("sev 1", user_id=ALICE, channel_id=channel),
            await forger.block_actions(user_id=ALICE, action_id=Action.POST_UPDATE, channel_id=channel,
                                       message_ts=incident.summary_ts),
            await forger.event(event_payload("reaction_added", user=ALICE, reaction="pushpin",
                                             item={"type": "message", "channel": channel, "ts": incident.summary_ts})),
            await forger.view_submission(callback_id=Callback.DECLARE, user_id=ALICE, view_id="VFORGED",
                                         values=declare_values(title="Forged", severity=1, commander=ALICE)),
        ]
    finally:
        await forger.aclose()
    unreadable = await bot.requests.raw(b"command=%2Fincident&text=help", content_type="application/x-www-form-urlencoded",
                                        timestamp="soon")
    replies.append(unreadable)
    assert [r.status_code for r in replies] == [401] * len(replies)
    await quiet(bot)
    assert len(bot.slack.calls) == calls_before
    assert len(await bot.all_incidents()) == incidents_before
    assert (await bot.incident(incident.id)).severity == incident.severity  # type: ignore[arg-type]


async def test_a_graceful_stop_finishes_what_was_acknowledged(slack: FakeSlack, database_url: str) -> None:
    running = await start_bot(slack, database_url)
    general = slack.channel_by_name("general")
    assert general is not None
    url = slack.new_response_url(channel_id=general.id)
    slack.set_latency(1.0, "views.open")  # the work outlasts the ack by a second
    acked = await running.requests.command("declare " + "x" * 120, user_id=ALICE, channel_id=general.id,
                                           response_url=url)
    assert acked.status_code == 200 and not acked.content
    await stop_bot(running)
    # The form was opened and the declarer told the title was cut, before the stop returned.
    assert len(slack.calls_to("views.open")) == 1
    assert any("at most 80" in reply.get("text", "") for reply in slack.responses_to(url))


async def test_a_graceful_stop_lets_the_job_alignment_end_between_rounds(slack: FakeSlack, database_url: str) -> None:
    """Cancelled inside a database call, a loop can leave SQLite's driver closing its connection for ever."""
    running = await start_bot(slack, database_url)
    [alignment] = [task for task in running.ctx.background if task.get_name() == "align-scheduled-jobs"]
    await stop_bot(running)
    assert alignment.done() and not alignment.cancelled(), "it ended by itself, not by cancellation"


async def test_a_graceful_stop_finishes_a_submitted_form(slack: FakeSlack, database_url: str, tmp_path: Any) -> None:
    running = await start_bot(slack, database_url, IncidentConfig(postmortem_dir=tmp_path))
    incident = await running.declare("Cache stampede")
    opened = await open_resolve_modal(running, incident)
    slack.set_latency(1.0, "files.completeUploadExternal")  # the post-mortem, the resolve's last Slack call
    submitted = await submit_resolve(running, opened)
    assert submitted.status_code == 200 and not submitted.content
    await stop_bot(running)
    database = Database(database_url)
    try:
        async with database.session() as session:
            kinds = [e.kind for e in await queries.timeline(session=session, incident_id=incident.id)]
    finally:
        await database.dispose()
    assert "resolved" in kinds and kinds[-1] == "postmortem_generated"


async def test_sigterm_finishes_acknowledged_work_then_exits_cleanly(
    slack: FakeSlack, database_url: str, tmp_path: Any
) -> None:
    process = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log")
    await process.start()
    requests = SignedRequests(bot_url=process.url, signing_secret=SIGNING_SECRET, slack=slack)
    try:
        general = slack.channel_by_name("general")
        assert general is not None
        url = slack.new_response_url(channel_id=general.id)
        slack.set_latency(1.0, "views.open")
        acked = await requests.command("declare " + "x" * 120, user_id=ALICE, channel_id=general.id,
                                       response_url=url)
        assert acked.status_code == 200 and not acked.content
        assert await process.terminate() == 0, process.log()
    finally:
        await requests.aclose()
        process.stop()
    assert len(slack.calls_to("views.open")) == 1
    assert any("at most 80" in reply.get("text", "") for reply in slack.responses_to(url))


async def _in_progress(bot: RunningBot) -> float:
    async with httpx.AsyncClient(base_url=bot.url) as client:
        text = (await client.get("/metrics")).text
    [line] = [line for line in text.splitlines() if line.startswith("incident_bot_slack_requests_in_progress ")]
    return float(line.split()[1])


async def test_metrics_count_the_acknowledged_requests_still_in_progress(bot: RunningBot) -> None:
    general = bot.slack.channel_by_name("general")
    assert general is not None
    assert await _in_progress(bot) == 0
    bot.slack.set_latency(1.0, "views.open")
    await bot.requests.command("declare Slow modal", user_id=ALICE, channel_id=general.id)
    assert await _in_progress(bot) == 1

    async def finished() -> bool:
        return await _in_progress(bot) == 0

    await bot.wait_until(finished, timeout=5)
    assert len(bot.slack.calls_to("views.open")) == 1
