"""What follows a change survives Slack stumbling: each consequence happens, exactly once.

Each test makes the local Slack fail some calls (errors, dropped connections) in the
middle of a declare, an update, a draft approval or a resolve, and then checks that
every consequence of the change was done once: no message missing, none doubled.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.consequences.kinds import Work
from bot.slack.ids import Action
from storage import queries
from storage.models import DraftState, Role, WorkState
from tests.draft_support import assign, press, status_posts, wait_drafts, wait_state
from tests.reminding import opened_modal, submit_update
from tests.resolving import resolve
from tests.support import BOB, RunningBot

pytestmark = pytest.mark.asyncio


async def work_of(bot: RunningBot, incident_id: int) -> list[Any]:
    async with bot.ctx.db.session() as session:
        return list(await queries.work_for_incident(session=session, incident_id=incident_id))


async def all_done(bot: RunningBot, incident_id: int, timeout: float = 15.0) -> list[Any]:
    """Wait until every recorded piece of work of the incident is done; return them."""

    async def done() -> bool:
        return all(w.state == WorkState.DONE for w in await work_of(bot, incident_id))

    await bot.wait_until(done, timeout=timeout)
    return await work_of(bot, incident_id)


def posts_with(bot: RunningBot, channel_id: str, words: str) -> list[Any]:
    return [m for m in bot.slack.messages_in(channel_id) if words in m.text + json.dumps(m.blocks or [])]


async def customer_facing(bot: RunningBot) -> Any:
    incident = await bot.declare("Checkout errors", customer_impact=True, services="checkout", responders=[BOB])
    await assign(bot, incident, Role.COMMS, BOB)
    await bot.settled()
    return await bot.incident(incident.id)


async def post_update(bot: RunningBot, incident: Any, what: str) -> None:
    before = len(bot.slack.calls_to("views.open"))
    reply = await bot.requests.command("update", user_id=incident.declared_by, channel_id=incident.channel_id)
    assert reply.status_code == 200
    opened = await opened_modal(bot, before)
    answer = await submit_update(bot, opened, what=what, phase="identified", customer_facing="yes")
    assert answer.status_code == 200 and not answer.content, answer.text


async def test_a_declare_whose_posts_fail_at_first_ends_complete_and_posts_once(bot: RunningBot) -> None:
    bot.slack.fail_next("chat.postMessage", "internal_error", times=2)
    bot.slack.drop_connection_next("pins.add", after_effect=False)
    incident = await bot.declare("Payments down", wait=False)
    await all_done(bot, incident.id)
    incident = await bot.incident(incident.id)
    assert incident.summary_pinned and incident.announced and incident.declarer_told and incident.topic_set
    summaries = [m for m in bot.slack.messages_in(incident.channel_id) if m.ts == incident.summary_ts]
    assert len(summaries) == 1
    announcements = bot.slack.channel_by_name("incidents")
    assert announcements is not None
    announced = [m for m in bot.slack.messages_in(announcements.id)
                 if (m.metadata or {}).get("event_payload", {}).get("incident_id") == incident.id]
    assert len(announced) == 1


async def test_an_update_whose_summary_refresh_fails_still_posts_and_drafts_once(bot: RunningBot) -> None:
    incident = await customer_facing(bot)
    bot.slack.fail_next("chat.update", "internal_error", times=2)
    await post_update(bot, incident, "Rolled back the bad deploy")
    await all_done(bot, incident.id)
    assert len(posts_with(bot, incident.channel_id, "Rolled back the bad deploy")) >= 1
    [draft] = await wait_drafts(bot, incident.id, 1)
    assert "Rolled back the bad deploy" in draft.what_changed
    updates = [m for m in bot.slack.messages_in(incident.channel_id)
               if (m.metadata or {}).get("event_type") == "incident_follow_up" and "Rolled back" in m.text]
    assert len(updates) == 1, "the update message is posted exactly once"


async def test_a_lost_answer_during_approval_publishes_once(bot: RunningBot) -> None:
    incident = await customer_facing(bot)
    await post_update(bot, incident, "Found the bad deploy")
    [pending] = await wait_drafts(bot, incident.id, 1)
    bot.slack.drop_connection_next("chat.postMessage", after_effect=True)
    await press(bot, pending, Action.DRAFT_APPROVE, user=BOB)
    await wait_state(bot, pending.id, DraftState.PUBLISHED, timeout=15)
    await all_done(bot, incident.id)
    assert len(status_posts(bot)) == 1


async def test_a_resolve_whose_summary_refresh_fails_still_drafts_and_plans_the_review(bot: RunningBot) -> None:
    incident = await customer_facing(bot)
    bot.slack.fail_next("chat.update", "internal_error", times=2)
    await resolve(bot, incident, summary="Rolled back release 42")
    work = await all_done(bot, incident.id)
    kinds = [w.kind for w in work]
    for kind in (Work.PROPOSE_STATUS_DRAFT, Work.PLAN_FOLLOWUPS, Work.REFRESH_SUMMARY, Work.PUBLISH_POSTMORTEM):
        assert kind.value in kinds
    drafts = await wait_drafts(bot, incident.id, 1)
    assert [d.phase for d in drafts] == ["resolved"]
    assert len(posts_with(bot, incident.channel_id, "Rolled back release 42")) >= 1


async def test_a_refused_post_is_on_the_timeline_and_told_to_whoever_asked(bot: RunningBot) -> None:
    incident = await bot.declare("Search slow")
    bot.slack.fail_next("chat.postMessage", "msg_too_long", times=1)
    url = bot.slack.new_response_url(channel_id=incident.channel_id)
    await bot.requests.command("sev 1", user_id=incident.declared_by, channel_id=incident.channel_id,
                               response_url=url)

    async def reported() -> list[Any]:
        async with bot.ctx.db.session() as session:
            return [e for e in await queries.timeline(session=session, incident_id=incident.id)
                    if e.kind == "work_failed"]

    await bot.wait_until(reported)
    assert any(w.state == WorkState.FAILED for w in await work_of(bot, incident.id))
    [entry] = await reported()
    assert "Slack refused chat.postMessage: msg_too_long" in entry.text
    await bot.wait_until(lambda: any("did not work" in m.text and m.channel == incident.channel_id
                                     for m in bot.slack.ephemerals_for(incident.declared_by)))
    assert (await bot.incident(incident.id)).severity == 1, "the change itself stands"
