"""Killing the bot between declare steps never loses the incident nor duplicates anything."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.slack.ids import Callback
from storage.db import Database
from storage import queries
from tests.processes import BotProcess, stored_incidents
from bot.local_slack.requests import SignedRequests
from bot.local_slack.server import FakeSlack
from tests.support import ALICE, BOB, SIGNING_SECRET, declare_values

pytestmark = pytest.mark.asyncio

HOLD = 60.0  # seconds Slack "takes" to answer the held call: the bot is killed meanwhile


@pytest.mark.parametrize(
    ("method", "after_calls"),
    [
        ("conversations.create", 0),     # channel made, id never saved
        ("conversations.invite", 0),
        ("chat.postMessage", 0),         # summary posted, ts never saved
        ("pins.add", 0),
        ("conversations.setTopic", 0),
        ("chat.postMessage", 1),         # announcement posted, ts never saved
    ],
)
async def test_killed_mid_declare_is_finished_at_start_up_without_duplicates(
    slack: FakeSlack, database_url: str, tmp_path: Path, method: str, after_calls: int
) -> None:
    first = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log")
    await first.start()
    slack.set_latency(HOLD, method, after_calls=after_calls)
    requests = SignedRequests(bot_url=first.url, signing_secret=SIGNING_SECRET, slack=slack)
    values = declare_values(title="Primary database down", severity=1, commander=ALICE, responders=[BOB])
    reply = await requests.view_submission(callback_id=Callback.DECLARE, user_id=ALICE, values=values,
                                           view_id="VCRASH", private_metadata=json.dumps(
                                               {"response_url": slack.new_response_url()}))
    assert reply.status_code == 200
    await slack.wait_for(method, count=after_calls + 1, timeout=15)
    first.kill()
    await requests.aclose()
    assert len(await stored_incidents(database_url)) == 1, "the incident was stored before the ack"

    slack.set_latency(0, method)
    second = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log")
    await second.start()
    try:
        async def finished() -> bool:
            incidents = await stored_incidents(database_url)
            return bool(incidents) and all((incidents[0].declarer_told, incidents[0].summary_pinned,
                                            incidents[0].announced, incidents[0].topic_set,
                                            incidents[0].members_invited))

        deadline = 30.0
        while not await finished():
            deadline -= 0.1
            assert deadline > 0, second.log()
            await asyncio.sleep(0.1)
    finally:
        second.stop()

    (incident,) = await stored_incidents(database_url)
    ours = [c for c in slack.channels.values() if "primary-database-down" in c.name]
    assert len(ours) == 1, [c.name for c in ours]
    channel = ours[0]
    assert incident.channel_id == channel.id
    assert {ALICE, BOB} <= channel.members
    summaries = [m for m in channel.messages if (m.metadata or {}).get("event_payload", {}).get("step") == "summary"]
    assert len(summaries) == 1
    assert channel.pins == [summaries[0].ts]
    assert "SEV-1" in channel.topic
    announcements = slack.channel_by_name("incidents").messages
    assert len([m for m in announcements if f"<#{channel.id}>" in m.text]) == 1
    db = Database(database_url)
    try:
        async with db.session() as session:
            kinds = [e.kind for e in await queries.timeline(session=session, incident_id=incident.id)]
    finally:
        await db.dispose()
    assert kinds.count("channel_created") == 1
    assert kinds.count("announced") == 1
