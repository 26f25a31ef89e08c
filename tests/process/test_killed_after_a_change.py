"""Killing the bot after a change is recorded but before what follows it is done loses nothing.

The resolution is committed with its follow-up work; a kill -9 while Slack is slow to take
the first of those posts leaves the work in the database, and the next process does all of
it, each piece once.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.slack.ids import Callback
from bot.local_slack.requests import SignedRequests
from bot.local_slack.server import FakeSlack
from storage import queries
from storage.db import Database
from storage.models import WorkState
from tests.processes import BotProcess, stored_incidents
from tests.resolving import resolve_values
from tests.support import ALICE, BOB, SIGNING_SECRET, declare_values

pytestmark = pytest.mark.asyncio

HOLD = 60.0


async def wait_for(condition, what: str, process: BotProcess, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"{what}\n{process.log()}"
        await asyncio.sleep(0.1)


async def work_states(database_url: str, incident_id: int) -> list[tuple[str, WorkState]]:
    db = Database(database_url)
    try:
        async with db.session() as session:
            return [(w.kind, w.state) for w in await queries.work_for_incident(session=session, incident_id=incident_id)]
    finally:
        await db.dispose()


async def test_killed_mid_resolve_finishes_every_consequence_once(
    slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    first = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log")
    await first.start()
    requests = SignedRequests(bot_url=first.url, signing_secret=SIGNING_SECRET, slack=slack)
    values = declare_values(title="Primary database down", severity=1, commander=ALICE, responders=[BOB])
    await requests.view_submission(callback_id=Callback.DECLARE, user_id=ALICE, values=values, view_id="VKILL",
                                   private_metadata=json.dumps({"response_url": slack.new_response_url()}))

    async def declared() -> bool:
        incidents = await stored_incidents(database_url)
        return bool(incidents) and all(state == WorkState.DONE for _, state in
                                       await work_states(database_url, incidents[0].id))  # type: ignore[arg-type]

    await wait_for(declared, "the declare did not finish", first)
    (incident,) = await stored_incidents(database_url)
    assert incident.id is not None and incident.channel_id is not None

    slack.set_latency(HOLD, "chat.postMessage")
    reply = await requests.view_submission(
        callback_id=Callback.RESOLVE, user_id=ALICE, view_id="VRESOLVE",
        values=resolve_values(summary="Failed over to the replica", root_cause="Disk full"),
        private_metadata=json.dumps({"incident_id": incident.id}),
    )
    assert reply.status_code == 200 and not reply.content, reply.text
    await slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == incident.channel_id,
                         timeout=15)
    first.kill()
    await requests.aclose()
    pending = [kind for kind, state in await work_states(database_url, incident.id) if state == WorkState.PENDING]
    assert pending, "the resolution's follow-up work was waiting when the bot died"

    slack.set_latency(0, "chat.postMessage")
    second = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log")
    await second.start()
    try:
        async def finished() -> bool:
            return all(state == WorkState.DONE for _, state in await work_states(database_url, incident.id))

        await wait_for(finished, "the resolution's follow-up work was not finished", second)
    finally:
        second.stop()

    channel = slack.channels[incident.channel_id]
    resolutions = [m for m in channel.messages if "Failed over to the replica" in m.text]
    assert len(resolutions) == 1, [m.text for m in resolutions]
    uploads = [c for c in slack.calls_to("files.completeUploadExternal") if c.ok]
    assert len(uploads) == 1
    (resolved,) = await stored_incidents(database_url)
    assert resolved.resolved_at is not None
