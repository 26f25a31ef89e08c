"""Update reminders end to end: prompts on time, their buttons, escalation, re-planning and restarts.

The bot runs on a test clock: ``await bot.advance(...)`` lets time pass and
runs each reminder as it falls due, so the cadences are the playbook's own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.config.settings import IncidentConfig
from bot.incidents.phases import change_phase
from bot.reminders.cadence import arm, reconcile_reminders
from bot.runtime.scheduler import (
    scheduled,
)
from bot.slack.ids import Action
from storage import queries
from storage.models import Incident, Phase, Role
from tests.clock import FakeClock
from tests.reminding import (
    CADENCE,
    MINUTE,
    SECOND,
    answer_prompt,
    button_ids,
    message,
    press,
    prompt_calls,
    prompted_at,
    refusal,
    reminder_job,
    state,
    timeline_of,
)
from tests.support import ALICE, BOB, CAROL, DAVE, RunningBot, stop_bot

def config(**severities: dict[str, Any]) -> IncidentConfig:
    """The playbook defaults with some severities' tables replaced, as a TOML file would."""
    return IncidentConfig.model_validate({"severities": {k.replace("_", "-"): v for k, v in severities.items()}})


@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock()


async def test_prompts_arrive_on_time_keep_coming_and_the_old_one_loses_its_buttons(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2, commander=ALICE)
    await bot.advance(CADENCE - SECOND)
    assert prompt_calls(bot.slack, incident.channel_id) == [], "not before the update is due"
    await bot.advance(SECOND)
    (first,) = prompt_calls(bot.slack, incident.channel_id)
    assert await prompted_at(bot, incident.id) == incident.declared_at + CADENCE
    assert f"<@{ALICE}>" in first.params["text"]
    assert "every 30m" in first.params["text"] and "since it was declared 30m ago" in first.params["text"]
    assert button_ids(first.params["blocks"]) == {Action.REMINDER_POST_UPDATE, Action.REMINDER_NO_CHANGE,
                                                   Action.REMINDER_SNOOZE}

    await bot.advance(CADENCE)
    calls = prompt_calls(bot.slack, incident.channel_id)
    assert len(calls) == 2 and await prompted_at(bot, incident.id) == incident.declared_at + 2 * CADENCE
    assert "1 earlier reminder went unanswered" in calls[1].params["text"]
    first_ts = first.response["ts"]
    await bot.wait_until(lambda: not button_ids(message(bot.slack, incident.channel_id, first_ts).blocks))
    assert "newer reminder" in message(bot.slack, incident.channel_id, first_ts).text

    stored = await bot.incident(incident.id)
    assert stored.next_update_due == incident.declared_at + 3 * CADENCE
    job = reminder_job(bot, incident.id)
    assert job is not None and job.run_at == stored.next_update_due
    due = str(int(stored.next_update_due.timestamp()))
    await bot.wait_until(lambda: due in json.dumps(message(bot.slack, incident.channel_id, incident.summary_ts).blocks))


async def test_no_change_logs_it_and_restarts_the_delay(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    await bot.advance(5 * MINUTE)
    pressed_at = await answer_prompt(bot, incident, Action.REMINDER_NO_CHANGE, prompt, shows="no change")
    closed = message(bot.slack, incident.channel_id, prompt.response["ts"])
    assert not button_ids(closed.blocks) and f"<@{ALICE}>" in closed.text

    kinds = [e.kind for e in await timeline_of(bot, incident.id)]
    assert kinds.count("no_change") == 1
    current = await state(bot, incident.id)
    assert current.prompt_ts is None and current.unanswered == 0
    stored = await bot.incident(incident.id)
    assert stored.next_update_due == pressed_at + CADENCE

    await bot.advance(CADENCE - SECOND)
    assert len(prompt_calls(bot.slack, incident.channel_id)) == 1, "a fixed delay from the answer"
    await bot.advance(SECOND)
    second = prompt_calls(bot.slack, incident.channel_id)[1]
    assert await prompted_at(bot, incident.id) == pressed_at + CADENCE
    assert "earlier" not in second.params["text"], "the answer cleared the unanswered count"


async def test_snooze_asks_again_in_fifteen_minutes(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    await bot.advance(2 * MINUTE)
    pressed_at = await answer_prompt(bot, incident, Action.REMINDER_SNOOZE, prompt, shows="snoozed")
    stored = await bot.incident(incident.id)
    assert stored.next_update_due == pressed_at + timedelta(minutes=15)
    job = reminder_job(bot, incident.id)
    assert job is not None and job.run_at == stored.next_update_due
    assert [e.kind for e in await timeline_of(bot, incident.id)].count("reminder_snoozed") == 1

    await bot.advance(timedelta(minutes=15) - SECOND)
    assert len(prompt_calls(bot.slack, incident.channel_id)) == 1
    await bot.advance(SECOND)
    assert len(prompt_calls(bot.slack, incident.channel_id)) == 2, "asked again fifteen minutes after the snooze"


async def test_the_snooze_is_as_long_as_the_configuration_says(make_bot: Callable[..., Any]) -> None:
    bot = await make_bot(IncidentConfig(snooze="5m"))
    incident = await bot.declare(severity=2)
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    labels = [e["text"]["text"] for b in prompt.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "Snooze 5m" in labels
    pressed_at = await answer_prompt(bot, incident, Action.REMINDER_SNOOZE, prompt, shows="snoozed")
    assert (await bot.incident(incident.id)).next_update_due == pressed_at + timedelta(minutes=5)


async def test_an_old_prompt_answers_the_current_one_and_nothing_is_answered_twice(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    await bot.advance(2 * CADENCE)
    old, new = prompt_calls(bot.slack, incident.channel_id)
    await press(bot, incident, Action.REMINDER_NO_CHANGE, old.response["ts"])
    for ts in (old.response["ts"], new.response["ts"]):
        await bot.wait_until(lambda ts=ts: "no change" in message(bot.slack, incident.channel_id, ts).text)
        assert not button_ids(message(bot.slack, incident.channel_id, ts).blocks)

    url = bot.slack.new_response_url()
    await press(bot, incident, Action.REMINDER_NO_CHANGE, new.response["ts"], response_url=url)
    assert "already answered" in await refusal(bot, url)
    assert [e.kind for e in await timeline_of(bot, incident.id)].count("no_change") == 1


async def test_a_double_click_answers_once(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    urls = [bot.slack.new_response_url(), bot.slack.new_response_url()]
    await asyncio.gather(*(press(bot, incident, Action.REMINDER_NO_CHANGE, prompt.response["ts"], response_url=u)
                           for u in urls))
    await bot.wait_until(lambda: sum(len(bot.slack.responses_to(u)) for u in urls) == 1)
    assert [e.kind for e in await timeline_of(bot, incident.id)].count("no_change") == 1


async def test_the_incidents_own_people_may_answer_before_they_are_in_its_channel(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2, responders=[BOB])
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    bot.slack.channels[incident.channel_id].members.discard(BOB)  # invited, not yet joined (or left)
    url = bot.slack.new_response_url()
    await press(bot, incident, Action.REMINDER_NO_CHANGE, prompt.response["ts"], user=BOB, response_url=url)
    await bot.wait_until(lambda: "no change" in message(bot.slack, incident.channel_id, prompt.response["ts"]).text)
    assert "no_change" in [e.kind for e in await timeline_of(bot, incident.id)]


async def test_outsiders_and_resolved_incidents_cannot_answer(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)

    url = bot.slack.new_response_url()
    await press(bot, incident, Action.REMINDER_NO_CHANGE, prompt.response["ts"], user=DAVE, response_url=url)
    assert "Only members" in await refusal(bot, url)
    after = await state(bot, incident.id)
    assert after.prompt_ts is not None and after.unanswered == 1, "still waiting for an answer"
    assert "no_change" not in [e.kind for e in await timeline_of(bot, incident.id)]
    assert reminder_job(bot, incident.id) is not None, "the timer stays armed"

    from tests.resolving import open_resolve_modal, submit_resolve

    await submit_resolve(bot, await open_resolve_modal(bot, incident))
    await bot.wait_until(lambda: reminder_job(bot, incident.id) is None)
    last = prompt_calls(bot.slack, incident.channel_id)[-1].response["ts"]
    await bot.wait_until(lambda: "reminders stopped" in message(bot.slack, incident.channel_id, last).text)
    url = bot.slack.new_response_url()
    await press(bot, incident, Action.REMINDER_SNOOZE, last, response_url=url)
    assert "was resolved" in await refusal(bot, url)
    assert "reminder_snoozed" not in [e.kind for e in await timeline_of(bot, incident.id)]
    assert (await bot.incident(incident.id)).next_update_due is None
    await bot.advance(2 * CADENCE)
    assert prompt_calls(bot.slack, incident.channel_id)[-1].response["ts"] == last, "no prompt after resolving"


async def test_missed_prompts_call_in_the_comms_lead_and_tell_the_announcements_channel(bot: RunningBot) -> None:
    with_comms = await bot.declare("Checkout down", severity=2)
    without = await bot.declare("Search slow", severity=2)
    async with bot.ctx.db.session() as session:
        await queries.assign_role(session=session, incident_id=with_comms.id, role=Role.COMMS, user_id=BOB,
                                  assigned_by=ALICE, at=bot.clock.now())
    announcements = bot.slack.channel_by_name("incidents")
    assert announcements is not None

    def escalations(channel_id: str | None, about: Incident) -> list[str]:
        assert channel_id is not None
        return [m.text for m in bot.slack.messages_in(channel_id)
                if "has had no update for" in m.text and about.reference in m.text]

    await bot.advance(2 * CADENCE)
    assert escalations(with_comms.channel_id, with_comms) == [] == escalations(announcements.id, without)
    await bot.advance(2 * CADENCE)
    for incident, where in ((with_comms, with_comms.channel_id), (without, announcements.id)):
        calls = prompt_calls(bot.slack, incident.channel_id)
        assert len(calls) == 4
        text, = escalations(where, incident)
        assert (f"<@{BOB}>" in text) is (incident is with_comms)
        assert "2 reminders" in text, "after escalate_after (2) missed prompts"
        assert "no update for 1h 30m" in text, "called in with the third prompt"
        kinds = [e.kind for e in await timeline_of(bot, incident.id)]
        assert kinds.count("reminders_escalated") == 1, "once per run of missed prompts"

        await press(bot, incident, Action.REMINDER_NO_CHANGE, calls[-1].response["ts"])
        await bot.wait_until(lambda incident=incident: _state_cleared(bot, incident.id))


async def _state_cleared(bot: RunningBot, incident_id: int) -> bool:
    current = await state(bot, incident_id)
    return current.unanswered == 0 and current.escalated_at is None


async def test_the_escalation_matrix_calls_people_in_once_each_until_mitigated(
    make_bot: Callable[..., Any]
) -> None:
    steps = [{"after": "10m", "notify": [BOB]}, {"after": "20m", "notify": ["S0LEADS"]}]
    bot: RunningBot = await make_bot(config(SEV_1={"update_every": "60m", "escalation": steps}))
    bot.slack.add_usergroup("S0LEADS", "squad-leads", [CAROL])
    incident = await bot.declare(severity=1, commander=ALICE)
    mitigated = await bot.declare("Search is slow", severity=1, commander=ALICE)
    await change_phase(bot.ctx, mitigated, Phase.MONITORING, actor=ALICE)

    def called(channel_id: str | None) -> list[str]:
        assert channel_id is not None
        return [m.text for m in bot.slack.messages_in(channel_id) if "escalation policy" in m.text]

    await bot.advance(10 * MINUTE - SECOND)
    assert called(incident.channel_id) == []
    await bot.advance(SECOND)
    (first,) = called(incident.channel_id)
    assert f"<@{BOB}>" in first and "10m after it was declared" in first
    await bot.advance(10 * MINUTE)
    first, second = called(incident.channel_id)
    assert "<!subteam^S0LEADS>" in second and "20m after it was declared" in second
    assert {BOB, CAROL} <= bot.slack.channels[incident.channel_id].members
    await bot.advance(CADENCE)
    assert len(called(incident.channel_id)) == 2, "each step fires once"
    kinds = [e.kind for e in await timeline_of(bot, incident.id)]
    assert kinds.count("escalation_step") == 2

    assert len((await state(bot, mitigated.id)).fired_steps) == 2
    assert called(mitigated.channel_id) == [], "not once the incident is being monitored"
    assert CAROL not in bot.slack.channels[mitigated.channel_id].members


async def test_a_severity_change_replans_the_next_prompt(bot: RunningBot) -> None:
    incident = await bot.declare(severity=3)
    job = reminder_job(bot, incident.id)
    assert job is not None and job.run_at == incident.declared_at + timedelta(minutes=60)

    await bot.advance(20 * MINUTE)
    reply = await bot.requests.command("sev 1", user_id=ALICE, channel_id=incident.channel_id)
    assert reply.status_code == 200
    await bot.advance()
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    assert await prompted_at(bot, incident.id) == incident.declared_at + 20 * MINUTE, \
        "last update + SEV-1's 15m had passed: at once"
    assert "every 15m" in prompt.params["text"]

    await bot.advance(5 * MINUTE)
    reply = await bot.requests.command("sev 3", user_id=ALICE, channel_id=incident.channel_id)
    assert reply.status_code == 200
    await bot.advance()
    stored = await bot.incident(incident.id)
    assert stored.next_update_due == incident.declared_at + 80 * MINUTE, "last prompt + the new cadence"
    job = reminder_job(bot, incident.id)
    assert job is not None and job.run_at == stored.next_update_due


async def test_start_up_arms_every_job_from_the_database_and_the_alignment_drops_stale_ones(
    make_bot: Callable[..., Any], bot_clock: FakeClock
) -> None:
    policy = config(SEV_2={"update_every": "30m", "escalation": [{"after": "45m", "notify": [BOB]}]})
    first: RunningBot = await make_bot(policy)
    kept = await first.declare("Checkout down", severity=2)
    undated = await first.declare("Queue stuck", severity=2)
    closed = await first.declare("Search slow", severity=2)
    await stop_bot(first)
    async with first.ctx.db.session() as session:
        for incident_id in (closed.id, undated.id):
            stored = await queries.get_incident(session=session, incident_id=incident_id)
            assert stored is not None
            if incident_id == closed.id:
                stored.resolved_at = bot_clock.now()
            else:
                stored.next_update_due = None
            session.add(stored)
    await first.ctx.db.dispose()

    second: RunningBot = await make_bot(policy)
    job = reminder_job(second, kept.id)
    assert job is not None and kept.next_update_due is not None and job.run_at == kept.next_update_due
    job = reminder_job(second, undated.id)
    assert job is not None and job.run_at == undated.declared_at + CADENCE, "a cadence after the declaration"
    assert (await second.incident(undated.id)).next_update_due == job.run_at, "and stored as the truth"
    assert reminder_job(second, closed.id) is None
    escalations = scheduled(second.ctx, "escalation:")
    assert set(escalations) == {f"escalation:{kept.id}", f"escalation:{undated.id}"}
    assert escalations[f"escalation:{kept.id}"].run_at == kept.declared_at + timedelta(minutes=45)

    await arm(second.ctx, closed.id, bot_clock.now() + MINUTE)
    await arm(second.ctx, kept.id, bot_clock.now() + 3 * CADENCE)
    await reconcile_reminders(second.ctx)
    assert reminder_job(second, closed.id) is None, "no job for a closed incident"
    job = reminder_job(second, kept.id)
    assert job is not None and job.run_at == kept.next_update_due, "the database wins"


async def test_a_reminder_due_while_stopped_is_sent_once_at_start_then_a_cadence_later(
    make_bot: Callable[..., Any], bot_clock: FakeClock
) -> None:
    first: RunningBot = await make_bot()
    incident = await first.declare(severity=2)
    await stop_bot(first)
    bot_clock.advance(3 * CADENCE + 5 * MINUTE)

    second: RunningBot = await make_bot()
    restarted_at = bot_clock.now()
    assert prompt_calls(second.slack, incident.channel_id) == []
    await second.advance()
    (prompt,) = prompt_calls(second.slack, incident.channel_id)
    assert "declared 1h 35m ago" in prompt.params["text"]
    await second.advance(CADENCE - SECOND)
    assert len(prompt_calls(second.slack, incident.channel_id)) == 1, "never a burst of catch-up prompts"
    await second.advance(SECOND)
    assert len(prompt_calls(second.slack, incident.channel_id)) == 2
    assert await prompted_at(second, incident.id) == restarted_at + CADENCE, "the next one a full cadence later"
