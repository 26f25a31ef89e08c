"""Each reminder prompt round is claimed in the database before it is posted: two schedulers, or a
replica that died half-way, never make two prompts of one round."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.reminders.prompting import CLAIM_LAPSES
from bot.runtime.runner import RECONCILERS
from bot.runtime.scheduler import (
    run_due_jobs,
    start_scheduler,
    stop_scheduler,
)
from storage import queries
from tests.clock import FakeClock
from tests.reminding import (
    CADENCE,
    SECOND,
    prompt_calls,
    prompted_at,
    reminder_job,
    state,
)
from tests.support import RunningBot

@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock()


async def test_two_schedulers_never_post_the_same_prompt_round(make_bot: Callable[..., Any]) -> None:
    leader: RunningBot = await make_bot()
    incident = await leader.declare(severity=2)
    # A second replica that still believes it leads (its lock lost a moment ago) runs the same jobs.
    stale: RunningBot = await make_bot()
    assert not stale.ctx.scheduler_leader
    assert await start_scheduler(stale.ctx, reconcile=RECONCILERS, still_leader=lambda: True)
    try:
        assert reminder_job(stale, incident.id) is not None
        leader.slack.set_latency(0.3, "chat.postMessage")
        leader.clock.advance(CADENCE)
        await asyncio.gather(run_due_jobs(leader.ctx), run_due_jobs(stale.ctx))
        leader.slack.set_latency(0, "chat.postMessage")
        assert len(prompt_calls(leader.slack, incident.channel_id)) == 1
        current = await state(leader, incident.id)
        assert current.prompt_rounds == 1 and current.unanswered == 1 and not current.posting

        await leader.advance(CLAIM_LAPSES)
        await asyncio.gather(stale.advance(), leader.advance())
        assert len(prompt_calls(leader.slack, incident.channel_id)) == 1, "the one that lost only looks again"
        await leader.advance(CADENCE - CLAIM_LAPSES)
        await stale.advance()
        assert len(prompt_calls(leader.slack, incident.channel_id)) == 2
    finally:
        await stop_scheduler(stale.ctx)


async def test_a_prompt_round_claimed_by_a_replica_that_died_is_taken_over_once_the_claim_lapses(
    bot: RunningBot
) -> None:
    incident = await bot.declare(severity=2)
    await bot.advance(CADENCE - 30 * SECOND)
    async with bot.ctx.db.session() as session:
        assert await queries.claim_prompt_round(session=session, incident_id=incident.id, prompt_round=0,
                                                at=bot.clock.now(), lapsed_before=bot.clock.now())
    await bot.advance(30 * SECOND)
    assert prompt_calls(bot.slack, incident.channel_id) == [], "another worker is posting that round"
    await bot.advance(CLAIM_LAPSES - SECOND)
    assert prompt_calls(bot.slack, incident.channel_id) == []
    await bot.advance(SECOND)
    assert len(prompt_calls(bot.slack, incident.channel_id)) == 1
    assert await prompted_at(bot, incident.id) == incident.declared_at + CADENCE + CLAIM_LAPSES
    current = await state(bot, incident.id)
    assert current.prompt_rounds == 1 and not current.posting


async def test_a_prompt_posted_by_a_replica_that_died_before_recording_it_is_adopted(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    assert incident.channel_id is not None
    await bot.advance(CADENCE - 30 * SECOND)
    async with bot.ctx.db.session() as session:
        assert await queries.claim_prompt_round(session=session, incident_id=incident.id, prompt_round=0,
                                                at=bot.clock.now(), lapsed_before=bot.clock.now())
    posted = bot.slack.add_message(incident.channel_id, bot.slack.bot_user_id, "time for an update")
    posted.metadata = {"event_type": "incident_update_prompt",
                       "event_payload": {"incident_id": incident.id, "round": 0}}
    await bot.advance(30 * SECOND)
    assert prompt_calls(bot.slack, incident.channel_id) == [], "not posted a second time"
    current = await state(bot, incident.id)
    assert (current.prompt_ts, current.prompt_rounds, current.unanswered, current.posting) == (posted.ts, 1, 1, False)
    assert (await bot.incident(incident.id)).next_update_due == incident.declared_at + 2 * CADENCE
