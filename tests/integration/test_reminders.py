"""Update reminders end to end: prompts on time, their buttons, escalation, re-planning and restarts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.config.settings import IncidentConfig
from bot.slack.ids import Action, Callback
from bot.incidents.phases import change_phase
from bot.runtime.scheduler import scheduled
from storage import queries
from storage.db import Database, create_sync_engine
from storage.models import Incident, Phase, Role, utcnow
from tests.processes import BotProcess
from tests.reminding import (
    button_ids,
    message,
    press,
    prompt_calls,
    refusal,
    reminder_job,
    state,
    timeline_of,
    wait_for_prompts,
    wall_time,
)
from bot.local_slack.requests import SignedRequests
from bot.local_slack.server import FakeSlack
from tests.support import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    SIGNING_SECRET,
    RunningBot,
    declare_values,
    stop_bot,
)

CADENCE = 2.0


def config(**severities: dict[str, Any]) -> IncidentConfig:
    """The playbook defaults with some severities' tables replaced, as a TOML file would."""
    return IncidentConfig.model_validate({"severities": {k.replace("_", "-"): v for k, v in severities.items()}})


@pytest.fixture
def bot_config() -> IncidentConfig:
    return config(SEV_2={"update_every": f"{int(CADENCE)}s"})


def seconds_since_declared(incident: Incident, at: float) -> float:
    return at - incident.declared_at.timestamp()


async def test_prompts_arrive_on_time_keep_coming_and_the_old_one_loses_its_buttons(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2, commander=ALICE)
    first = (await wait_for_prompts(bot.slack, incident.channel_id, 1))[0]
    assert CADENCE - 0.2 <= seconds_since_declared(incident, wall_time(first)) <= CADENCE + 1.5
    assert f"<@{ALICE}>" in first.params["text"]
    assert "every 2s" in first.params["text"] and "since it was declared" in first.params["text"]
    assert button_ids(first.params["blocks"]) == {Action.REMINDER_POST_UPDATE, Action.REMINDER_NO_CHANGE,
                                                   Action.REMINDER_SNOOZE}

    calls = await wait_for_prompts(bot.slack, incident.channel_id, 2)
    assert CADENCE - 0.3 <= wall_time(calls[1]) - wall_time(calls[0]) <= CADENCE + 1.5
    assert "1 earlier reminder went unanswered" in calls[1].params["text"]
    first_ts = first.response["ts"]
    await bot.wait_until(lambda: not button_ids(message(bot.slack, incident.channel_id, first_ts).blocks))
    assert "newer reminder" in message(bot.slack, incident.channel_id, first_ts).text

    stored = await bot.incident(incident.id)
    assert stored.next_update_due is not None
    assert abs(stored.next_update_due.timestamp() - (wall_time(calls[1]) + CADENCE)) < 1.0
    job = await reminder_job(bot, incident.id)
    assert job is not None and abs((job.run_at - stored.next_update_due).total_seconds()) < 1.0
    due = str(int(stored.next_update_due.timestamp()))
    await bot.wait_until(lambda: due in json.dumps(message(bot.slack, incident.channel_id, incident.summary_ts).blocks))


async def test_no_change_logs_it_and_restarts_the_delay(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    prompt = (await wait_for_prompts(bot.slack, incident.channel_id, 1))[0]
    pressed_at = time.time()
    await press(bot, incident, Action.REMINDER_NO_CHANGE, prompt.response["ts"])
    await bot.wait_until(lambda: "no change" in message(bot.slack, incident.channel_id, prompt.response["ts"]).text)
    closed = message(bot.slack, incident.channel_id, prompt.response["ts"])
    assert not button_ids(closed.blocks) and f"<@{ALICE}>" in closed.text

    kinds = [e.kind for e in await timeline_of(bot, incident.id)]
    assert kinds.count("no_change") == 1
    current = await state(bot, incident.id)
    assert current.prompt_ts is None and current.unanswered == 0
    stored = await bot.incident(incident.id)
    assert stored.next_update_due is not None
    assert abs(stored.next_update_due.timestamp() - (pressed_at + CADENCE)) < 1.0

    second = (await wait_for_prompts(bot.slack, incident.channel_id, 2))[1]
    assert wall_time(second) - pressed_at >= CADENCE - 0.3, "a fixed delay from the answer"
    assert "earlier" not in second.params["text"], "the answer cleared the unanswered count"


async def test_snooze_asks_again_in_fifteen_minutes(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    prompt = (await wait_for_prompts(bot.slack, incident.channel_id, 1))[0]
    await press(bot, incident, Action.REMINDER_SNOOZE, prompt.response["ts"])
    await bot.wait_until(lambda: "snoozed" in message(bot.slack, incident.channel_id, prompt.response["ts"]).text)
    stored = await bot.incident(incident.id)
    assert stored.next_update_due is not None
    assert abs((stored.next_update_due - utcnow()) - timedelta(minutes=15)) < timedelta(seconds=5)
    job = await reminder_job(bot, incident.id)
    assert job is not None and abs((job.run_at - stored.next_update_due).total_seconds()) < 1.0
    await asyncio.sleep(CADENCE)
    assert len(prompt_calls(bot.slack, incident.channel_id)) == 1
    assert [e.kind for e in await timeline_of(bot, incident.id)].count("reminder_snoozed") == 1


async def test_an_old_prompt_answers_the_current_one_and_nothing_is_answered_twice(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    old, new = await wait_for_prompts(bot.slack, incident.channel_id, 2)
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
    prompt = (await wait_for_prompts(bot.slack, incident.channel_id, 1))[0]
    urls = [bot.slack.new_response_url(), bot.slack.new_response_url()]
    await asyncio.gather(*(press(bot, incident, Action.REMINDER_NO_CHANGE, prompt.response["ts"], response_url=u)
                           for u in urls))
    await bot.wait_until(lambda: sum(len(bot.slack.responses_to(u)) for u in urls) == 1)
    assert [e.kind for e in await timeline_of(bot, incident.id)].count("no_change") == 1


async def test_outsiders_and_resolved_incidents_cannot_answer(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)
    prompt = (await wait_for_prompts(bot.slack, incident.channel_id, 1))[0]

    url = bot.slack.new_response_url()
    await press(bot, incident, Action.REMINDER_NO_CHANGE, prompt.response["ts"], user=DAVE, response_url=url)
    assert "Only members" in await refusal(bot, url)
    after = await state(bot, incident.id)
    assert after.prompt_ts is not None and after.unanswered >= 1, "still waiting for an answer"
    assert "no_change" not in [e.kind for e in await timeline_of(bot, incident.id)]
    assert await reminder_job(bot, incident.id) is not None, "the timer stays armed"

    from tests.resolving import open_resolve_modal, submit_resolve

    await submit_resolve(bot, await open_resolve_modal(bot, incident))
    async def disarmed() -> bool:
        return await reminder_job(bot, incident.id) is None

    await bot.wait_until(disarmed)
    last = prompt_calls(bot.slack, incident.channel_id)[-1].response["ts"]
    await bot.wait_until(lambda: "reminders stopped" in message(bot.slack, incident.channel_id, last).text)
    assert await reminder_job(bot, incident.id) is None
    url = bot.slack.new_response_url()
    await press(bot, incident, Action.REMINDER_SNOOZE, last, response_url=url)
    assert "was resolved" in await refusal(bot, url)
    assert "reminder_snoozed" not in [e.kind for e in await timeline_of(bot, incident.id)]
    assert (await bot.incident(incident.id)).next_update_due is None
    assert prompt_calls(bot.slack, incident.channel_id)[-1].response["ts"] == last, "no prompt after resolving"


async def test_missed_prompts_call_in_the_comms_lead_or_else_the_announcements_channel(
    make_bot: Callable[..., Any]
) -> None:
    bot: RunningBot = await make_bot(config(SEV_2={"update_every": "1s"}))
    with_comms = await bot.declare("Checkout down", severity=2)
    without = await bot.declare("Search slow", severity=2)
    async with bot.ctx.db.session() as session:
        await queries.assign_role(session=session, incident_id=with_comms.id, role=Role.COMMS, user_id=BOB,
                                  assigned_by=ALICE)
    announcements = bot.slack.channel_by_name("incidents")
    assert announcements is not None

    def escalations(channel_id: str | None, about: Incident) -> list[str]:
        assert channel_id is not None
        return [m.text for m in bot.slack.messages_in(channel_id)
                if "has had no update for" in m.text and about.reference in m.text]

    for incident, where in ((with_comms, with_comms.channel_id), (without, announcements.id)):
        calls = await wait_for_prompts(bot.slack, incident.channel_id, 4)
        await bot.wait_until(lambda incident=incident, where=where: len(escalations(where, incident)) == 1)
        text = escalations(where, incident)[0]
        assert (f"<@{BOB}>" in text) is (incident is with_comms)
        assert "2 reminders" in text, "after escalate_after (2) missed prompts"
        kinds = [e.kind for e in await timeline_of(bot, incident.id)]
        assert kinds.count("reminders_escalated") == 1, "once per run of missed prompts"

        await press(bot, incident, Action.REMINDER_NO_CHANGE, calls[-1].response["ts"])
        await bot.wait_until(lambda incident=incident: _state_cleared(bot, incident.id))


async def _state_cleared(bot: RunningBot, incident_id: int) -> bool:
    current = await state(bot, incident_id)
    return current.unanswered == 0 and current.escalated_at is None


async def test_the_escalation_matrix_calls_people_in_once_each_until_mitigated(
    make_bot: Callable[..., Any], slack: FakeSlack
) -> None:
    slack.add_usergroup("S0LEADS", "squad-leads", [CAROL])
    steps = [{"after": "2s", "notify": [BOB]}, {"after": "3s", "notify": ["S0LEADS"]}]
    bot: RunningBot = await make_bot(config(SEV_1={"update_every": "60m", "escalation": steps}))
    incident = await bot.declare(severity=1, commander=ALICE)
    mitigated = await bot.declare("Search is slow", severity=1, commander=ALICE)
    await change_phase(bot.ctx, mitigated, Phase.MONITORING, actor=ALICE)

    def called(channel_id: str | None) -> list[str]:
        assert channel_id is not None
        return [m.text for m in slack.messages_in(channel_id) if "escalation policy" in m.text]

    await bot.wait_until(lambda: len(called(incident.channel_id)) == 2, timeout=8)
    first, second = called(incident.channel_id)
    assert f"<@{BOB}>" in first and "<!subteam^S0LEADS>" in second
    assert {BOB, CAROL} <= slack.channels[incident.channel_id].members
    await asyncio.sleep(1.0)
    assert len(called(incident.channel_id)) == 2, "each step fires once"
    kinds = [e.kind for e in await timeline_of(bot, incident.id)]
    assert kinds.count("escalation_step") == 2

    # The second incident was declared a little later, so its last step falls due a little later.
    async def mitigated_steps_done() -> bool:
        return len((await state(bot, mitigated.id)).fired_steps) == 2

    await bot.wait_until(mitigated_steps_done, timeout=5)
    assert called(mitigated.channel_id) == [], "not once the incident is being monitored"
    assert CAROL not in slack.channels[mitigated.channel_id].members


async def test_a_severity_change_replans_the_next_prompt(make_bot: Callable[..., Any]) -> None:
    bot: RunningBot = await make_bot(config(SEV_1={"update_every": "2s"}))
    incident = await bot.declare(severity=3)

    async def armed() -> bool:
        return await reminder_job(bot, incident.id) is not None

    await bot.wait_until(armed)
    job = await reminder_job(bot, incident.id)
    assert job is not None
    assert abs((job.run_at - incident.declared_at) - timedelta(minutes=60)) < timedelta(seconds=1)

    reply = await bot.requests.command("sev 1", user_id=ALICE, channel_id=incident.channel_id)
    assert reply.status_code == 200
    prompt = (await wait_for_prompts(bot.slack, incident.channel_id, 1, timeout=6))[0]
    assert seconds_since_declared(incident, wall_time(prompt)) < 5, "last update + 2s, or now if that passed"
    assert "every 2s" in prompt.params["text"]

    reply = await bot.requests.command("sev 3", user_id=ALICE, channel_id=incident.channel_id)
    assert reply.status_code == 200

    async def replanned() -> bool:
        job = await reminder_job(bot, incident.id)
        return job is not None and job.run_at.timestamp() - time.time() > 3000

    await bot.wait_until(replanned)
    last_prompt = wall_time(prompt_calls(bot.slack, incident.channel_id)[-1])
    stored = await bot.incident(incident.id)
    assert stored.next_update_due is not None
    assert abs(stored.next_update_due.timestamp() - (last_prompt + 3600)) < 2, "last prompt + the new cadence"


async def test_start_up_arms_missing_jobs_and_drops_those_of_resolved_incidents(
    make_bot: Callable[..., Any], database_url: str
) -> None:
    policy = config(SEV_2={"update_every": "30m", "escalation": [{"after": "45m", "notify": [BOB]}]})
    first: RunningBot = await make_bot(policy)
    kept = await first.declare("Checkout down", severity=2)
    closed = await first.declare("Search slow", severity=2)
    await stop_bot(first)
    engine = create_sync_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM apscheduler_jobs WHERE id IN (:reminder, :escalation)"),
                           {"reminder": f"reminder:{kept.id}", "escalation": f"escalation:{kept.id}"})
    engine.dispose()
    async with first.ctx.db.session() as session:
        stored = await queries.get_incident(session=session, incident_id=closed.id)
        assert stored is not None
        stored.resolved_at = utcnow()
        session.add(stored)
    await first.ctx.db.dispose()

    second: RunningBot = await make_bot(policy)
    job = await reminder_job(second, kept.id)
    assert job is not None and kept.next_update_due is not None
    assert abs((job.run_at - kept.next_update_due).total_seconds()) < 1
    assert await reminder_job(second, closed.id) is None
    escalations = await scheduled(second.ctx, "escalation:")
    assert set(escalations) == {f"escalation:{kept.id}"}
    assert escalations[f"escalation:{kept.id}"].run_at == kept.declared_at + timedelta(minutes=45)


async def test_a_reminder_due_while_stopped_is_sent_once_at_start_then_a_cadence_later(
    make_bot: Callable[..., Any]
) -> None:
    cadence = config(SEV_2={"update_every": "2s"})
    first: RunningBot = await make_bot(cadence)
    incident = await first.declare(severity=2)
    await stop_bot(first)
    assert prompt_calls(first.slack, incident.channel_id) == []
    await asyncio.sleep(max(0.0, incident.declared_at.timestamp() + 3 - time.time()))

    started = time.time()
    second: RunningBot = await make_bot(cadence)
    prompt = (await wait_for_prompts(second.slack, incident.channel_id, 1))[0]
    assert wall_time(prompt) - started < 5
    await asyncio.sleep(1.2)
    assert len(prompt_calls(second.slack, incident.channel_id)) == 1, "never a burst of catch-up prompts"
    following = (await wait_for_prompts(second.slack, incident.channel_id, 2))[1]
    assert wall_time(following) - wall_time(prompt) >= 1.7, "the next one a full cadence later"


async def test_a_real_restart_of_the_bot_process_sends_exactly_one_prompt(
    slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    config_file = tmp_path / "incident-bot.toml"
    config_file.write_text('[severities.SEV-2]\nupdate_every = "4s"\n')
    process = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log",
                         config_path=config_file)
    await process.start()
    requests = SignedRequests(bot_url=process.url, signing_secret=SIGNING_SECRET, slack=slack)
    values = declare_values(title="Payments failing", severity=2, commander=ALICE)
    reply = await requests.view_submission(callback_id=Callback.DECLARE, user_id=ALICE, values=values,
                                           view_id="VRESTART", private_metadata=json.dumps({}))
    await requests.aclose()
    assert reply.status_code == 200
    engine = create_sync_engine(database_url)

    def armed() -> bool:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM apscheduler_jobs WHERE id LIKE 'reminder:%'")).scalar() == 1

    deadline = time.time() + 10
    while not armed():
        assert time.time() < deadline, process.log()
        await asyncio.sleep(0.05)
    engine.dispose()
    process.kill()
    db = Database(database_url)
    try:
        async with db.session() as session:
            (incident,) = await queries.open_incidents(session=session)
    finally:
        await db.dispose()
    assert prompt_calls(slack, incident.channel_id) == [], process.log()
    await asyncio.sleep(max(0.0, incident.declared_at.timestamp() + 6 - time.time()))

    restarted = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=tmp_path / "bot.log",
                           config_path=config_file)
    await restarted.start()
    healthy = time.time()
    try:
        prompt = (await wait_for_prompts(slack, incident.channel_id, 1, timeout=10))[0]
        assert wall_time(prompt) - healthy < 5, restarted.log()
        await asyncio.sleep(2.5)
        assert len(prompt_calls(slack, incident.channel_id)) == 1, restarted.log()
    finally:
        restarted.stop()
