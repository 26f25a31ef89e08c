"""Who an escalation reaches: missed updates call in the comms lead and tell the announcements channel;
a drill is labelled in everything it posts and calls in nobody from outside its channel unless configured to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.config.settings import IncidentConfig
from storage.models import Incident
from tests.clock import FakeClock
from tests.reminding import prompt_calls, timeline_of
from tests.support import ALICE, BOB, CAROL, DAVE, RunningBot

CADENCE = timedelta(minutes=30)
"""SEV-2's update cadence in the playbook."""
MINUTE = timedelta(minutes=1)


@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock()


def config(**values: Any) -> IncidentConfig:
    return IncidentConfig.model_validate(values)


def posted(bot: RunningBot, channel_id: str | None, words: str) -> list[str]:
    assert channel_id is not None
    return [m.text for m in bot.slack.messages_in(channel_id) if words in m.text]


def announced(bot: RunningBot, incident: Incident) -> list[str]:
    announcements = bot.slack.channel_by_name("incidents")
    assert announcements is not None
    return [m.text for m in announcements.messages if "has had no update" in m.text and incident.reference in m.text]


async def make_comms(bot: RunningBot, incident: Incident, person: str) -> None:
    await bot.requests.command(f"role comms <@{person}>", user_id=ALICE, channel_id=incident.channel_id or "")
    await bot.idle()


async def test_missed_updates_call_in_the_comms_lead_and_tell_the_announcements_channel(bot: RunningBot) -> None:
    public = await bot.declare("Checkout down", severity=2)
    private = await bot.declare("Leaked credentials", severity=2, private=True)
    drill = await bot.declare("Game day", severity=2, drill=True)
    for incident in (public, private, drill):
        await make_comms(bot, incident, BOB)

    await bot.advance(2 * CADENCE)
    assert posted(bot, public.channel_id, "has had no update") == [] == announced(bot, public)
    await bot.advance(CADENCE)

    (called,) = posted(bot, public.channel_id, "has had no update")
    assert called.startswith(f":rotating_light: <@{BOB}>") and "2 reminders" in called
    (told,) = announced(bot, public)
    assert f"<#{public.channel_id}>" in told and "communications lead has been called in" in told
    assert f"<@{BOB}>" not in told, "the comms lead is mentioned once, where the work is"
    (entry,) = [e for e in await timeline_of(bot, public.id) if e.kind == "reminders_escalated"]
    assert "in the incident channel" in entry.text and "the announcements channel" in entry.text

    for quiet in (private, drill):
        (called,) = posted(bot, quiet.channel_id, "has had no update")
        assert f"<@{BOB}>" in called
        assert announced(bot, quiet) == [], "private incidents and drills stay in their own channel"
    assert posted(bot, drill.channel_id, "has had no update")[0].startswith("[DRILL] ")


async def test_without_a_comms_lead_the_channel_is_asked_for_one_and_the_announcements_channel_told(
    bot: RunningBot,
) -> None:
    incident = await bot.declare("Search slow", severity=2)
    await bot.advance(3 * CADENCE)
    (asked,) = posted(bot, incident.channel_id, "has had no update")
    assert "no communications lead" in asked and "/incident role comms" in asked
    (told,) = announced(bot, incident)
    assert "no communications lead yet" in told


STEPS = {"SEV-1": {"update_every": "60m", "escalation": [{"after": "10m", "notify": [CAROL, "S0LEADS"]}]}}


async def test_a_drill_is_labelled_everywhere_and_calls_nobody_in_by_default(
    make_bot: Callable[..., Any],
) -> None:
    bot: RunningBot = await make_bot(config(severities=STEPS))
    bot.slack.add_usergroup("S0LEADS", "squad-leads", [DAVE])
    drill = await bot.declare("Game day: kill the primary", severity=1, drill=True, commander=ALICE)
    members_before = set(bot.slack.channels[drill.channel_id].members)

    await bot.advance(10 * MINUTE)
    (step,) = posted(bot, drill.channel_id, "escalation policy")
    assert step.startswith("[DRILL] ") and f"`{CAROL}`" in step and "`S0LEADS`" in step
    assert f"<@{CAROL}>" not in step and "<!subteam^S0LEADS>" not in step, "nobody outside is mentioned"
    assert bot.slack.channels[drill.channel_id].members == members_before, "nobody is invited"
    assert not bot.slack.calls_to("usergroups.users.list")
    (entry,) = [e for e in await timeline_of(bot, drill.id) if e.kind == "escalation_step"]
    assert "would have called in" in entry.text

    await bot.advance(60 * MINUTE)
    (prompt,) = prompt_calls(bot.slack, drill.channel_id)
    assert prompt.params["text"].startswith("[DRILL] ")
    drill_messages = bot.slack.messages_in(drill.channel_id or "")
    assert all(m.text.startswith("[DRILL]") for m in drill_messages if m.user == bot.slack.bot_user_id), [
        m.text[:60] for m in drill_messages if not m.text.startswith("[DRILL]")]
    outside = [m.text for name in ("incidents", "general", "status")
               for m in bot.slack.channel_by_name(name).messages]  # type: ignore[union-attr]
    assert not any(drill.reference in text for text in outside)


async def test_a_drill_calls_people_in_when_configured_to_and_says_it_is_a_drill(
    make_bot: Callable[..., Any],
) -> None:
    bot: RunningBot = await make_bot(config(severities=STEPS, drills={"escalate": True}))
    bot.slack.add_usergroup("S0LEADS", "squad-leads", [DAVE])
    drill = await bot.declare("Game day: kill the primary", severity=1, drill=True, commander=ALICE)
    await bot.advance(10 * MINUTE)
    (step,) = posted(bot, drill.channel_id, "escalation policy")
    assert step.startswith("[DRILL] ") and f"<@{CAROL}>" in step and "<!subteam^S0LEADS>" in step
    assert {CAROL, DAVE} <= bot.slack.channels[drill.channel_id].members
