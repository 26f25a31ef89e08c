"""The update modal end to end (from a prompt, the summary, the command), and its pure parts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.errors import FormError
from bot.slack.ids import Action, UpdateField
from bot.status.updates import read_form
from storage.models import Phase
from tests.clock import FakeClock
from tests.reminding import (
    button_ids,
    field_errors,
    message,
    opened_modal,
    press,
    prompt_calls,
    refusal,
    reminder_job,
    state,
    submit_update,
    timeline_of,
    update_values,
    updates_of,
)
from tests.support import ALICE, BOB, DAVE, RunningBot

LABELS = ["Phase", "What changed", "Next steps", "ETA", "Customer-facing"]


CADENCE = timedelta(minutes=30)
"""SEV-2's update cadence in the playbook."""


@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock()


def labels(view: dict[str, Any]) -> list[str]:
    return [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]


def initial(view: dict[str, Any], field: UpdateField) -> Any:
    element = next(b for b in view["blocks"] if b.get("block_id") == field)["element"]
    return element.get("initial_value", element.get("initial_option", {}).get("value"))


async def test_post_update_from_a_prompt_posts_stores_and_rearms(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2, commander=ALICE)
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    await bot.advance(timedelta(minutes=3))
    before = len(bot.slack.calls_to("views.open"))
    await press(bot, incident, Action.REMINDER_POST_UPDATE, prompt.response["ts"])
    opened = await opened_modal(bot, before)
    view = opened.params["view"]
    assert labels(view) == LABELS
    assert initial(view, UpdateField.PHASE) == "investigating"
    assert initial(view, UpdateField.CUSTOMER_FACING) == "no"

    reply = await submit_update(bot, opened, phase="identified", what="Rolled back deploy 42",
                                next_steps="Watch the error rate", eta="30m")
    assert field_errors(reply) == {}
    posted = await bot.slack.wait_for("chat.postMessage", where=lambda c: "Status update" in c.params.get("text", ""))
    text = posted[0].params["text"]
    for part in ("*Current status:* Identified (was investigating)", "*Progress:* Rolled back deploy 42",
                 "*Next steps:* Watch the error rate", "*ETA:* <!date^", "*Customer-facing:* No", f"<@{ALICE}>"):
        assert part in text, part

    (update,) = await updates_of(bot, incident.id)
    assert (update.phase, update.what_changed, update.eta, update.posted_by) == (
        Phase.IDENTIFIED, "Rolled back deploy 42", "30m", ALICE)
    assert update.posted_at == bot.clock.now() and update.eta_at == update.posted_at + timedelta(minutes=30)
    await bot.wait_until(lambda: "answered with an update" in message(bot.slack, incident.channel_id,
                                                                       prompt.response["ts"]).text)
    assert not button_ids(message(bot.slack, incident.channel_id, prompt.response["ts"]).blocks)

    await bot.wait_until(lambda: _phase_is(bot, incident.id, Phase.IDENTIFIED))
    stored = await bot.incident(incident.id)
    assert stored.last_update_at == update.posted_at
    assert stored.next_update_due == update.posted_at + CADENCE, "a cadence after the update"
    job = reminder_job(bot, incident.id)
    assert job is not None and job.run_at == stored.next_update_due
    assert (await state(bot, incident.id)).unanswered == 0, "answered"
    kinds = [e.kind for e in await timeline_of(bot, incident.id)]
    assert "update_posted" in kinds and "phase_changed" in kinds
    await bot.wait_until(lambda: "Identified" in json.dumps(
        message(bot.slack, incident.channel_id, incident.summary_ts).blocks))


async def test_the_summary_button_and_the_command_open_the_form_prefilled_from_the_last_update(
    bot: RunningBot,
) -> None:
    incident = await bot.declare(severity=3, customer_impact=True, responders=[BOB])
    before = len(bot.slack.calls_to("views.open"))
    reply = await bot.requests.command("update", user_id=BOB, channel_id=incident.channel_id)
    assert reply.status_code == 200
    opened = await opened_modal(bot, before)
    assert initial(opened.params["view"], UpdateField.CUSTOMER_FACING) == "yes"
    eta = (bot.clock.now() + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    reply = await submit_update(bot, opened, user=BOB, phase="monitoring", what="Fix deployed",
                                next_steps="Watch for an hour", eta=eta, customer_facing=True)
    assert field_errors(reply) == {}
    await bot.wait_until(lambda: _phase_is(bot, incident.id, Phase.MONITORING))

    before = len(bot.slack.calls_to("views.open"))
    await bot.requests.block_actions(user_id=ALICE, action_id=Action.POST_UPDATE, channel_id=incident.channel_id,
                                     message_ts=incident.summary_ts)
    view = (await opened_modal(bot, before)).params["view"]
    assert labels(view) == LABELS
    assert initial(view, UpdateField.PHASE) == "monitoring"
    assert initial(view, UpdateField.WHAT_CHANGED) == "Fix deployed"
    assert initial(view, UpdateField.NEXT_STEPS) == "Watch for an hour"
    assert initial(view, UpdateField.ETA) == eta
    assert initial(view, UpdateField.CUSTOMER_FACING) == "yes"

    url = bot.slack.new_response_url()
    await bot.requests.block_actions(user_id=DAVE, action_id=Action.POST_UPDATE, channel_id=incident.channel_id,
                                     message_ts=incident.summary_ts, response_url=url)
    assert "Only members" in await refusal(bot, url)


async def _phase_is(bot: RunningBot, incident_id: int, phase: Phase) -> bool:
    return (await bot.incident(incident_id)).phase is phase


async def test_bad_input_is_shown_under_its_field_and_changes_nothing(bot: RunningBot) -> None:
    private = await bot.declare("Leaked credentials", severity=3, private=True)
    before = len(bot.slack.calls_to("views.open"))
    await bot.requests.command("update", user_id=ALICE, channel_id=private.channel_id)
    opened = await opened_modal(bot, before)
    armed = reminder_job(bot, private.id)

    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"eta": "2001-01-01 10:00"}, UpdateField.ETA, "already past"),
        ({"what": "   "}, UpdateField.WHAT_CHANGED, "Say what changed"),
        ({"what": None}, UpdateField.WHAT_CHANGED, "Say what changed"),
        ({"phase": "resolved"}, UpdateField.PHASE, "/incident resolve"),
        ({"customer_facing": True}, UpdateField.CUSTOMER_FACING, "private incident"),
    ]
    for values, field, words in cases:
        errors = field_errors(await submit_update(bot, opened, **values))
        assert words in errors.get(field, ""), (values, errors)
    assert await updates_of(bot, private.id) == []
    assert reminder_job(bot, private.id) == armed, "the timer stays armed as it was"
    assert "update_posted" not in [e.kind for e in await timeline_of(bot, private.id)]

    assert field_errors(await submit_update(bot, opened, what="Rotated the keys")) == {}
    before = len(bot.slack.calls_to("views.open"))
    await bot.requests.command("update", user_id=ALICE, channel_id=private.channel_id)
    again = await opened_modal(bot, before)
    errors = field_errors(await submit_update(bot, again, what="Rotated the keys"))
    assert len(await updates_of(bot, private.id)) == 1, errors
    assert "what the last update said" in errors.get(UpdateField.WHAT_CHANGED, ""), errors
    assert len(await updates_of(bot, private.id)) == 1


async def test_the_eta_takes_what_people_type_and_keeps_words_as_written(bot: RunningBot) -> None:
    incident = await bot.declare(severity=2)

    async def post(what: str, eta: str) -> dict[str, str]:
        before = len(bot.slack.calls_to("views.open"))
        await bot.requests.command("update", user_id=ALICE, channel_id=incident.channel_id)
        return field_errors(await submit_update(bot, await opened_modal(bot, before), what=what, eta=eta))

    def posted(what: str) -> str:
        return next(m.text for m in bot.slack.messages_in(incident.channel_id) if f"*Progress:* {what}" in m.text)

    assert await post("Failing over", "1 hour") == {}
    assert await post("Failover done", "after the rollback") == {}
    assert await post("Rollback started", "EOD") == {}
    await bot.settled()
    first, second, third = await updates_of(bot, incident.id)
    assert first.eta == "1 hour" and first.eta_at == first.posted_at + timedelta(hours=1)
    assert f"*ETA:* <!date^{int(first.eta_at.timestamp())}^" in posted("Failing over")
    assert second.eta == "after the rollback" and second.eta_at is None
    assert "*ETA:* after the rollback" in posted("Failover done")
    assert third.eta == "EOD" and third.eta_at is not None and third.eta_at > third.posted_at

    errors = await post("Rollback finished", "2001-01-01 10:00")
    assert "already past" in errors[UpdateField.ETA]
    assert len(await updates_of(bot, incident.id)) == 3


async def test_an_update_for_an_incident_resolved_meanwhile_is_refused(bot: RunningBot) -> None:
    from tests.resolving import open_resolve_modal, submit_resolve

    incident = await bot.declare(severity=3)
    before = len(bot.slack.calls_to("views.open"))
    await bot.requests.command("update", user_id=ALICE, channel_id=incident.channel_id)
    opened = await opened_modal(bot, before)
    await submit_resolve(bot, await open_resolve_modal(bot, incident))
    await bot.wait_until(lambda: _resolved(bot, incident.id))
    errors = field_errors(await submit_update(bot, opened))
    assert "was resolved" in errors[UpdateField.WHAT_CHANGED]
    assert await updates_of(bot, incident.id) == []

    url = bot.slack.new_response_url()
    await bot.requests.command("update", user_id=ALICE, channel_id=incident.channel_id, response_url=url)
    assert "is resolved" in await refusal(bot, url)


async def _resolved(bot: RunningBot, incident_id: int) -> bool:
    return not (await bot.incident(incident_id)).is_open


async def test_a_repeated_submission_posts_one_update(bot: RunningBot) -> None:
    incident = await bot.declare(severity=3)
    before = len(bot.slack.calls_to("views.open"))
    await bot.requests.command("update", user_id=ALICE, channel_id=incident.channel_id)
    opened = await opened_modal(bot, before)
    for _ in range(2):
        assert field_errors(await submit_update(bot, opened, phase="investigating")) == {}
    await bot.slack.wait_for("chat.postMessage", where=lambda c: "Status update" in c.params.get("text", ""))
    await asyncio.sleep(0.5)
    assert len(await updates_of(bot, incident.id)) == 1
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if "Status update" in c.params.get("text", "")]
    assert len(posts) == 1


# -- pure parts ---------------------------------------------------------------------

NOW = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def test_the_form_reports_every_problem_at_once() -> None:
    values = update_values(phase=None, what="", eta="today 10:00", customer_facing=None)
    with pytest.raises(FormError) as raised:
        read_form(values, user_id=ALICE, view_id="V1", metadata={"incident_id": 1}, now=NOW, tz=BERLIN)
    assert set(raised.value.errors) == {UpdateField.PHASE, UpdateField.WHAT_CHANGED, UpdateField.ETA,
                                        UpdateField.CUSTOMER_FACING}


def test_the_form_reads_a_good_submission() -> None:
    request = read_form(update_values(what=" Restarted the pods ", eta=" in  2h "), user_id=ALICE, view_id="V9",
                        metadata={"incident_id": 7}, now=NOW, tz=BERLIN)
    assert (request.incident_id, request.request_key, request.what_changed, request.eta) == (
        7, "update:V9", "Restarted the pods", "in 2h")
    assert request.eta_at == NOW + timedelta(hours=2) and request.phase is Phase.IDENTIFIED


async def test_refusals_of_prompt_and_update_buttons_show_times_in_the_readers_zone(bot: RunningBot) -> None:
    from tests.resolving import resolve

    incident = await bot.declare(severity=2)
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    await press(bot, incident, Action.REMINDER_NO_CHANGE, prompt.response["ts"])
    await bot.idle()
    url = bot.slack.new_response_url()
    await press(bot, incident, Action.REMINDER_NO_CHANGE, prompt.response["ts"], response_url=url)
    due = (await bot.incident(incident.id)).next_update_due
    assert due is not None
    assert f"the next update is due <!date^{int(due.timestamp())}^" in await refusal(bot, url)

    resolved = await resolve(bot, incident)
    assert resolved.resolved_at is not None
    url = bot.slack.new_response_url()
    await bot.requests.block_actions(user_id=ALICE, action_id=Action.POST_UPDATE, channel_id=incident.channel_id,
                                     message_ts=incident.summary_ts, response_url=url)
    assert f"was resolved <!date^{int(resolved.resolved_at.timestamp())}^" in await refusal(bot, url)
