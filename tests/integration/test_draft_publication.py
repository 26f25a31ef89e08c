"""Publishing approved drafts exactly once: crashes, replicas, and Statuspage (against a local stand-in)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.status import publication
from bot.config.settings import ConfigError, IncidentConfig, StatuspageConfig
from bot.slack.ids import Action
from storage import queries
from storage.db import Database
from storage.models import DraftState, ExternalState, ExternalStatusIncident, FollowUpWork, Role, utcnow
from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from tests.draft_support import (
    add_draft,
    assign,
    draft,
    get,
    has_buttons,
    message_of,
    press,
    publications_done,
    set_phase,
    status_posts,
    wait_drafts,
    wait_state,
)
from tests.resolving import resolve
from bot.local_slack.server import FakeSlack
from tests.statuspage_stub import FakeStatuspage
from tests.support import ALICE, BOB, DAVE, RunningBot, start_bot, stop_bot


@pytest.fixture
async def statuspage() -> AsyncIterator[FakeStatuspage]:
    async with FakeStatuspage() as fake:
        yield fake


def with_statuspage(fake: FakeStatuspage, *, attempts: int = 3) -> IncidentConfig:
    return IncidentConfig(statuspage=StatuspageConfig(
        page_id=fake.page_id, api_url=fake.api_url, component_ids=["cmp0checkout"], attempts=attempts,
        retry_delay=timedelta(milliseconds=50),
    ))


async def drafted(bot: RunningBot, phase: str = "identified", count: int = 1) -> tuple[Any, Any]:
    """A customer-facing incident (BOB its comms lead) with a pending draft from a phase change."""
    incident = await bot.declare("Checkout errors", customer_impact=True, services="checkout", responders=[BOB])
    await assign(bot, incident, Role.COMMS, BOB)
    await set_phase(bot, incident, phase)
    drafts = await wait_drafts(bot, incident.id, count)
    return incident, drafts[-1]


async def test_a_crash_while_posting_to_the_status_channel_never_posts_twice(
    slack: FakeSlack, database_url: str
) -> None:
    """The post reached Slack but its answer never reached the bot: it is found, not posted again,
    whether the stopping bot or the next start finishes the publication."""
    first = await start_bot(slack, database_url)
    try:
        _, pending = await drafted(first)
        status = slack.channel_by_name("status")
        assert status is not None
        slack.set_latency(30, "chat.postMessage")
        await press(first, pending, Action.DRAFT_APPROVE, user=BOB)
        await slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == status.id)
    finally:
        await stop_bot(first)
    slack.set_latency(0, "chat.postMessage")
    stopped = await draft_in(database_url, pending.id)
    assert stopped.lease_owner is None, "a stopping bot gives its lease back"

    second = await start_bot(slack, database_url)
    try:
        published = await wait_state(second, pending.id, DraftState.PUBLISHED)
        assert len(status_posts(second)) == 1 and published.status_post_ts == status_posts(second)[0].ts
    finally:
        await stop_bot(second)


async def approve_behind_the_bot(database_url: str, draft_id: int, incident_id: int, *,
                                 external: ExternalState = ExternalState.NONE) -> None:
    """Commit an approval and the publication that must follow it, as the bot does, from outside it."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            assert await queries.decide_draft(session=session, draft_id=draft_id, state=DraftState.APPROVED,
                                              actor=BOB, at=utcnow(), external=external)
            await queries.add_work(session=session, work=FollowUpWork(
                incident_id=incident_id, kind=Work.PUBLISH_STATUS_DRAFT.value, payload={"draft_id": draft_id},
                key=f"publish-draft:{draft_id}"))
    finally:
        await db.dispose()


async def draft_in(database_url: str, draft_id: int) -> Any:
    """Read a draft while no bot runs."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            return await queries.get_draft(session=session, draft_id=draft_id)
    finally:
        await db.dispose()


async def test_an_approval_whose_publisher_died_is_completed_at_start_up(slack: FakeSlack, database_url: str) -> None:
    first = await start_bot(slack, database_url)
    try:
        incident, pending = await drafted(first)
    finally:
        await stop_bot(first)
    # What a process that died right after committing the approval leaves behind: the decision
    # and the publication it must lead to, recorded together, and nothing published yet.
    await approve_behind_the_bot(database_url, pending.id, incident.id)
    assert not slack.channel_by_name("status").messages  # type: ignore[union-attr]

    second = await start_bot(slack, database_url)
    try:
        published = await wait_state(second, pending.id, DraftState.PUBLISHED)
        await second.wait_until(lambda: "the status page" in json.dumps(message_of(second, published).blocks))
        assert len(status_posts(second)) == 1
        assert not has_buttons(message_of(second, published))
    finally:
        await stop_bot(second)


async def test_two_replicas_publish_one_approval_once(make_bot: Any) -> None:
    one: RunningBot = await make_bot()
    two: RunningBot = await make_bot()
    incident, pending = await drafted(one)
    await approve_behind_the_bot(one.ctx.settings.database_url, pending.id, incident.id)
    one.ctx.work_ready.set()
    two.ctx.work_ready.set()
    await asyncio.gather(publication.publish_draft(one.ctx, pending.id), publication.publish_draft(two.ctx, pending.id),
                         return_exceptions=True)
    await wait_state(one, pending.id, DraftState.PUBLISHED)
    await one.settled()
    await two.settled()
    assert len(status_posts(one)) == 1


async def test_a_live_lease_keeps_others_out_until_it_lapses(bot: RunningBot) -> None:
    _, pending = await drafted(bot)
    await bot.settled()  # the bot's own lease on the draft, taken to post it, is released
    now = utcnow()
    async with bot.ctx.db.session() as session:
        args = {"session": session, "draft_id": pending.id, "state": DraftState.PENDING}
        assert await queries.claim_draft(**args, owner="a", until=now + timedelta(minutes=2), now=now)
        assert not await queries.claim_draft(**args, owner="b", until=now + timedelta(minutes=2), now=now)
        later = now + timedelta(minutes=3)
        assert await queries.claim_draft(**args, owner="b", until=later + timedelta(minutes=2), now=later)


async def test_an_unusable_status_channel_is_told_to_the_comms_lead(make_bot: Any) -> None:
    bot: RunningBot = await make_bot(IncidentConfig(status_channel="no-such-channel"))
    _, pending = await drafted(bot)
    await press(bot, pending, Action.DRAFT_APPROVE, user=BOB)
    published = await wait_state(bot, pending.id, DraftState.PUBLISHED)
    assert published.status_post_error and "channel_not_found" in published.status_post_error
    notice = [m for m in bot.slack.messages_in(pending.message_channel_id)
              if m.thread_ts == pending.message_ts and "could not be published" in m.text]
    assert len(notice) == 1 and f"<@{BOB}>" in notice[0].text
    assert (await get(bot, "/status.json")).json()["incidents"][0]["updates"][0]["text"] == published.text


async def test_statuspage_gets_each_approved_update_in_order(make_bot: Any, statuspage: FakeStatuspage) -> None:
    bot: RunningBot = await make_bot(with_statuspage(statuspage), STATUSPAGE_API_KEY=statuspage.api_key)
    incident, first = await drafted(bot)
    await press(bot, first, Action.DRAFT_APPROVE, user=BOB)
    await bot.wait_until(lambda: _external(bot, first.id, ExternalState.DONE))
    [created] = statuspage.incidents.values()
    assert (created["name"], created["status"], created["impact"]) == ("Checkout errors", "identified", "major")
    assert statuspage.components["cmp0checkout"] == "partial_outage"
    await bot.wait_until(lambda: "and Statuspage" in json.dumps(message_of(bot, first).blocks))

    await set_phase(bot, incident, "monitoring")
    second = (await wait_drafts(bot, incident.id, 2))[-1]
    await press(bot, second, Action.DRAFT_APPROVE, user=BOB)
    await bot.wait_until(lambda: _external(bot, second.id, ExternalState.DONE))
    await resolve(bot, incident, summary="Rolled back.")
    resolution = (await wait_drafts(bot, incident.id, 3))[-1]
    await press(bot, resolution, Action.DRAFT_APPROVE, user=BOB)
    await bot.wait_until(lambda: _external(bot, resolution.id, ExternalState.DONE))

    assert len(statuspage.incidents) == 1
    assert [u["status"] for u in created["incident_updates"]] == ["identified", "monitoring", "resolved"]
    assert created["incident_updates"][-1]["body"] == (await draft(bot, resolution.id)).text
    assert statuspage.components["cmp0checkout"] == "operational"
    assert [c.method for c in statuspage.writes()] == ["POST", "PATCH", "PATCH"]


async def _external(bot: RunningBot, draft_id: int, state: ExternalState) -> bool:
    return (await draft(bot, draft_id)).external_state == state


async def test_an_unreachable_statuspage_is_retried_reported_and_retried_on_request(
    make_bot: Any, statuspage: FakeStatuspage
) -> None:
    bot: RunningBot = await make_bot(with_statuspage(statuspage, attempts=2), STATUSPAGE_API_KEY=statuspage.api_key)
    _, pending = await drafted(bot)
    statuspage.fail_next(2, status=503)
    await press(bot, pending, Action.DRAFT_APPROVE, user=BOB)
    await bot.wait_until(lambda: _external(bot, pending.id, ExternalState.FAILED))
    failed = await draft(bot, pending.id)
    assert failed.state == DraftState.PUBLISHED and "HTTP 503" in (failed.external_error or "")
    assert [c.status for c in statuspage.calls] == [503, 503] and not statuspage.incidents
    # The bot's own page and the status channel have it all the same.
    assert len(status_posts(bot)) == 1
    assert (await get(bot, "/status.json")).json()["incidents"][0]["updates"][0]["text"] == failed.text

    def notices() -> list[Any]:
        return [m for m in bot.slack.messages_in(pending.message_channel_id)
                if m.thread_ts == pending.message_ts and "could not be published to Statuspage" in m.text]

    await bot.wait_until(notices)
    [notice] = notices()
    assert f"<@{BOB}>" in notice.text and "status_draft_retry_external" in json.dumps(notice.blocks)
    await bot.wait_until(lambda: "Statuspage: HTTP 503" in json.dumps(message_of(bot, failed).blocks))

    async def press_retry(user: str) -> str:
        url = bot.slack.new_response_url(channel_id=pending.message_channel_id, message_ts=notice.ts)
        await bot.requests.block_actions(user_id=user, action_id=Action.DRAFT_RETRY_EXTERNAL, value=str(pending.id),
                                         channel_id=pending.message_channel_id, message_ts=notice.ts,
                                         response_url=url)
        return url

    refused = await press_retry(DAVE)
    assert "Only the communications lead" in (await bot.slack.wait_for_response(refused))[0]["text"]
    await press_retry(BOB)
    await bot.wait_until(lambda: _external(bot, pending.id, ExternalState.DONE))
    await publications_done(bot)
    assert len(statuspage.incidents) == 1
    nothing_left = await press_retry(ALICE)
    assert "Nothing to retry" in (await bot.slack.wait_for_response(nothing_left))[0]["text"]


async def test_a_lost_statuspage_create_is_adopted_not_repeated(make_bot: Any, statuspage: FakeStatuspage) -> None:
    bot: RunningBot = await make_bot(with_statuspage(statuspage), STATUSPAGE_API_KEY=statuspage.api_key)
    incident, pending = await drafted(bot)
    # Statuspage created the incident with this update, but the bot died before saving its id.
    async with bot.ctx.db.session() as session:
        await queries.decide_draft(session=session, draft_id=pending.id, state=DraftState.APPROVED, actor=BOB,
                                   at=utcnow(), external=ExternalState.PENDING)
        stored = await queries.get_draft(session=session, draft_id=pending.id)
        assert stored is not None
        stored.external_attempts = 1
        session.add_all([stored, ExternalStatusIncident(incident_id=incident.id, create_started=True)])
    statuspage.incidents["inc000000099"] = {
        "id": "inc000000099", "name": "Checkout errors", "status": "identified",
        "incident_updates": [{"body": pending.text, "status": "identified", "created_at": utcnow().isoformat()}],
    }
    async with bot.ctx.db.session() as session:
        await follow_with(bot.ctx, session, Work.SEND_TO_STATUSPAGE, incident_id=incident.id)
    await bot.wait_until(lambda: _external(bot, pending.id, ExternalState.DONE))
    assert list(statuspage.incidents) == ["inc000000099"] and statuspage.writes() == []


async def test_retry_resends_only_failures_newer_than_the_last_success(bot: RunningBot) -> None:
    incident, _ = await drafted(bot)
    states = [ExternalState.FAILED, ExternalState.DONE, ExternalState.FAILED]
    ids = []
    for state in states:
        draft_id = await add_draft(bot, incident.id, f"text {state.value}")
        async with bot.ctx.db.session() as session:
            stored = await queries.get_draft(session=session, draft_id=draft_id)
            assert stored is not None
            stored.external_state = state
            session.add(stored)
        ids.append(draft_id)
    async with bot.ctx.db.session() as session:
        assert await queries.retry_failed_external(session=session, incident_id=incident.id) == 1
    assert [(await draft(bot, i)).external_state for i in ids] == [
        ExternalState.FAILED, ExternalState.DONE, ExternalState.PENDING]


async def test_a_statuspage_table_without_its_key_stops_start_up(slack: FakeSlack, database_url: str,
                                                                statuspage: FakeStatuspage) -> None:
    with pytest.raises(ConfigError, match="STATUSPAGE_API_KEY"):
        await start_bot(slack, database_url, with_statuspage(statuspage))
