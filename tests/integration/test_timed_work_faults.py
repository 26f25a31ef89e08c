"""What a timed job decides survives Slack stumbling: escalations, missed-update call-ins,
the post-mortem review reminder and the channel archive each happen exactly once.

A job only decides and records; the follow-up worker does the Slack calls and
retries them. Each test makes the local Slack fail or drop the calls a job's
decision leads to, lets the test clock run, and counts what reached Slack.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import IncidentConfig
from storage import queries
from storage.models import WorkState
from tests.clock import FakeClock
from tests.reminding import timeline_of
from tests.resolving import resolve
from tests.support import ALICE, BOB, CAROL, RunningBot

MINUTE = timedelta(minutes=1)
CADENCE = timedelta(minutes=30)
"""SEV-2's update cadence in the playbook."""


@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock()


def posted(bot: RunningBot, channel_id: str | None, words: str) -> list[str]:
    assert channel_id is not None
    return [m.text for m in bot.slack.messages_in(channel_id) if words in m.text]


async def entries(bot: RunningBot, incident_id: int, kind: str) -> list[str]:
    return [e.text for e in await timeline_of(bot, incident_id) if e.kind == kind]


async def test_an_escalation_step_calls_people_in_once_through_failed_and_dropped_calls(
    make_bot: Callable[..., Any],
) -> None:
    steps = [{"after": "10m", "notify": [BOB, "S0LEADS"]}]
    bot: RunningBot = await make_bot(IncidentConfig.model_validate(
        {"severities": {"SEV-1": {"update_every": "60m", "escalation": steps}}}))
    bot.slack.add_usergroup("S0LEADS", "squad-leads", [CAROL])
    incident = await bot.declare(severity=1, commander=ALICE)
    await bot.settled()

    bot.slack.fail_next("usergroups.users.list", "internal_error")
    bot.slack.fail_next("conversations.invite", "service_unavailable")
    bot.slack.drop_connection_next("chat.postMessage", after_effect=True)
    await bot.advance(10 * MINUTE)
    await bot.advance(MINUTE)  # past every retry's backoff

    (called,) = posted(bot, incident.channel_id, "escalation policy")
    assert f"<@{BOB}>" in called and "<!subteam^S0LEADS>" in called and "Could not invite" not in called
    assert {BOB, CAROL} <= bot.slack.channels[incident.channel_id].members
    (entry,) = await entries(bot, incident.id, "escalation_step")
    assert "called in" in entry
    assert len(bot.slack.calls_to("usergroups.users.list")) == 2, "the group was looked up again after the error"


async def test_missed_updates_call_in_the_comms_lead_once_when_the_announcement_fails_at_first(
    bot: RunningBot,
) -> None:
    incident = await bot.declare("Checkout down", severity=2)
    await bot.requests.command(f"role comms <@{BOB}>", user_id=ALICE, channel_id=incident.channel_id or "")
    await bot.advance(2 * CADENCE)
    announcements = bot.slack.channel_by_name("incidents")
    assert announcements is not None

    # The bot has left the announcements channel: the escalation must join it again, and joining fails at first.
    announcements.members.discard(bot.slack.bot_user_id)
    bot.slack.fail_next("conversations.join", "internal_error")
    await bot.advance(CADENCE)
    await bot.advance(MINUTE)  # past the retry's backoff

    (called,) = posted(bot, incident.channel_id, "has had no update")
    assert called.startswith(f":rotating_light: <@{BOB}>")
    told = [m for m in posted(bot, announcements.id, "has had no update") if incident.reference in m]
    assert len(told) == 1
    assert len(bot.slack.calls_to("conversations.join")) == 2
    (entry,) = await entries(bot, incident.id, "reminders_escalated")
    assert "telling the announcements channel" in entry
    assert await entries(bot, incident.id, "announcement_failed") == []


async def test_an_unusable_announcements_channel_is_noted_on_the_timeline(
    make_bot: Callable[..., Any],
) -> None:
    bot: RunningBot = await make_bot(IncidentConfig(announcements_channel="no-such-channel"))
    incident = await bot.declare("Checkout down", severity=2)
    await bot.advance(3 * CADENCE)
    assert posted(bot, incident.channel_id, "has had no update"), "the channel is still told"
    (problem,) = [e for e in await entries(bot, incident.id, "announcement_failed") if "updates were missed" in e]
    assert "channel_not_found" in problem


def with_followups(tmp_path: Path, archive_after: str = "3d") -> IncidentConfig:
    return IncidentConfig.model_validate({"postmortem_dir": str(tmp_path / "postmortems"),
                                          "archive_after": archive_after})


async def resolved_by_bob(bot: RunningBot, title: str) -> Any:
    """A SEV-2 incident with BOB as IC, resolved, everything that follows the resolution done."""
    incident = await bot.declare(title, severity=2, commander=BOB)
    await resolve(bot, incident)
    await bot.settled()
    return incident


async def test_the_review_reminder_and_the_archive_happen_once_through_slack_hiccups(
    make_bot: Callable[..., Any], tmp_path: Path,
) -> None:
    bot: RunningBot = await make_bot(with_followups(tmp_path))
    incident = await resolved_by_bob(bot, "Follow-ups")

    bot.slack.drop_connection_next("chat.postMessage", after_effect=True)
    await bot.advance(timedelta(hours=48))
    await bot.advance(MINUTE)
    (reminder,) = posted(bot, incident.channel_id, "post-mortem review of")
    assert f"<@{BOB}>" in reminder
    assert await entries(bot, incident.id, "postmortem_reminder") == ["Post-mortem review reminder sent"]

    bot.slack.fail_next("conversations.archive", "internal_error", times=2)
    await bot.advance(timedelta(days=1))
    await bot.advance(MINUTE)
    assert bot.slack.channels[incident.channel_id].is_archived
    assert len(posted(bot, incident.channel_id, "this channel is archived")) == 1, "the reason is given once"
    assert await entries(bot, incident.id, "channel_archived") == ["Channel archived"]
    assert len(bot.slack.calls_to("conversations.archive")) == 3


async def test_the_review_reminder_reaches_the_ic_directly_once_the_channel_is_archived(
    make_bot: Callable[..., Any], tmp_path: Path,
) -> None:
    bot: RunningBot = await make_bot(with_followups(tmp_path, archive_after="1d"))
    incident = await resolved_by_bob(bot, "Archived first")
    await bot.advance(timedelta(days=1))
    assert bot.slack.channels[incident.channel_id].is_archived

    await bot.advance(timedelta(days=1))
    assert posted(bot, incident.channel_id, "post-mortem review of") == []
    direct = [c for c in bot.slack.calls_to("chat.postMessage")
              if c.params.get("channel") == BOB and "post-mortem review of" in c.params.get("text", "")]
    assert len(direct) == 1
    assert await entries(bot, incident.id, "postmortem_reminder") == [
        "Post-mortem review reminder sent to the IC directly"]


async def test_a_job_records_its_decision_and_the_worker_does_the_rest(
    make_bot: Callable[..., Any], tmp_path: Path,
) -> None:
    """While Slack refuses everything, the decision stands and waits; once Slack is back, it is done."""
    bot: RunningBot = await make_bot(with_followups(tmp_path))
    incident = await resolved_by_bob(bot, "Slack outage")

    bot.slack.fail_next("chat.postMessage", "service_unavailable", times=6)
    await bot.advance(timedelta(hours=48))
    stored = await bot.incident(incident.id)
    assert stored.review_reminded_at is not None, "decided once, at its time"
    assert posted(bot, incident.channel_id, "post-mortem review of") == []
    async with bot.ctx.db.session() as session:
        pending = [w for w in await queries.work_for_incident(session=session, incident_id=incident.id)
                   if w.state == WorkState.PENDING]
    assert [w.kind for w in pending] == ["resolution.remind_review"]

    await bot.advance(timedelta(hours=1))
    assert len(posted(bot, incident.channel_id, "post-mortem review of")) == 1
