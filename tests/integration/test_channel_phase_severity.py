"""`/incident status` and `/incident sev` in an incident channel, end to end against the local Slack."""

from __future__ import annotations

import pytest

from bot.errors import IncidentError
from bot.incidents.phases import TRANSITIONS, change_phase, check_transition
from storage.models import Incident, Phase
from tests.channel_commands import (
    CHANGES, answer, ask, calls, kinds, posts, quiet, run, summary, timeline, wait_for_post, wait_for_summary,
)
from tests.support import ALICE, BOB, RunningBot



def test_the_transition_table_covers_every_phase_and_never_leaves_resolved() -> None:
    assert set(TRANSITIONS) == set(Phase)
    assert TRANSITIONS[Phase.RESOLVED] == frozenset()
    for phase, targets in TRANSITIONS.items():
        assert phase not in targets
        if phase is not Phase.RESOLVED:
            assert Phase.RESOLVED in targets


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (Phase.IDENTIFIED, Phase.IDENTIFIED, "already identified"),
        (Phase.RESOLVED, Phase.INVESTIGATING, "/incident reopen"),
    ],
)
def test_refused_transitions_say_why(old: Phase, new: Phase, problem: str) -> None:
    incident = Incident(id=7, request_key="k", title="t", severity=2, declared_by=ALICE, phase=old)
    with pytest.raises(IncidentError, match=problem):
        check_transition(incident, new)


async def test_status_moves_through_the_phases_and_keeps_the_summary_true(bot: RunningBot) -> None:
    incident = await bot.declare("Checkout errors", severity=2)
    channel = incident.channel_id
    for phase, shown in [("identified", "Identified"), ("monitoring", "Monitoring"), ("investigating", "Investigating")]:
        await run(bot, f"status {phase}", channel, user=BOB)
        await wait_for_post(bot, channel, f"to *{shown}*")
        await wait_for_summary(bot, incident, f"*Status:* {shown}")
        assert (await bot.incident(incident.id)).phase == Phase(phase)
    assert "Monitoring* to *Investigating" in posts(bot, channel)[-1]
    assert f"<@{BOB}>" in posts(bot, channel)[-1]
    assert bot.slack.channels[channel].topic.startswith("SEV-2 | Investigating")
    changes = [e for e in await timeline(bot, incident) if e.kind == "phase_changed"]
    assert [(e.data["from"], e.data["to"], e.actor) for e in changes] == [
        ("investigating", "identified", BOB), ("identified", "monitoring", BOB), ("monitoring", "investigating", BOB),
    ]
    assert all(e.at >= incident.declared_at for e in changes)
    assert bot.slack.channel_by_name("incidents").messages[1:] == [], "phase changes are not announced publicly"


async def test_the_same_phase_again_is_refused_and_changes_nothing(bot: RunningBot) -> None:
    incident = await bot.declare("Search slow")
    await quiet(bot)
    before = calls(bot, *CHANGES)
    url = await run(bot, "status investigating", incident.channel_id)
    assert "already investigating" in await answer(bot, url)
    assert calls(bot, *CHANGES) == before
    assert "phase_changed" not in await kinds(bot, incident)


async def test_status_never_resolves_by_itself(bot: RunningBot) -> None:
    incident = await bot.declare("Queue backlog")
    with pytest.raises(IncidentError, match="/incident resolve"):
        await change_phase(bot.ctx, incident, Phase.RESOLVED, actor=ALICE)
    assert (await bot.incident(incident.id)).phase is Phase.INVESTIGATING
    assert "phase_changed" not in await kinds(bot, incident)


async def test_unknown_phase_and_wrong_channel_get_the_usage(bot: RunningBot) -> None:
    incident = await bot.declare("Login failures")
    acked = await ask(bot, "status fixed", incident.channel_id)
    assert "`fixed` is not a phase" in acked and "/incident status <investigating|" in acked
    general = bot.slack.channel_by_name("general").id
    await quiet(bot)
    before = calls(bot, *CHANGES)
    url = await run(bot, "status identified", general)
    reply = await answer(bot, url)
    assert "works only in an incident channel" in reply and "/incident status" in reply
    assert calls(bot, *CHANGES) == before
    assert (await bot.incident(incident.id)).phase is Phase.INVESTIGATING


@pytest.mark.parametrize("spelling", ["sev 1", "sev1", "SEV-1", "severity 1"])
async def test_escalation_updates_the_summary_and_is_announced(bot: RunningBot, spelling: str) -> None:
    incident = await bot.declare("Payments down", severity=3)
    announcements = bot.slack.channel_by_name("incidents")
    await run(bot, spelling, incident.channel_id, user=BOB)
    await wait_for_post(bot, incident.channel_id, "escalated")
    await wait_for_summary(bot, incident, "*Severity:* SEV-1")
    assert (await bot.incident(incident.id)).severity == 1
    await bot.wait_until(lambda: len(announcements.messages) == 2)
    escalation = announcements.messages[-1]
    assert "escalated to SEV-1" in escalation.text and "was SEV-3" in escalation.text
    assert f"<#{incident.channel_id}>" in escalation.text and f"<@{BOB}>" in escalation.text
    assert bot.slack.channels[incident.channel_id].topic.startswith("SEV-1")
    entries = await timeline(bot, incident)
    change = next(e for e in entries if e.kind == "severity_changed")
    assert (change.data, change.actor) == ({"from": 3, "to": 1}, BOB)
    await bot.wait_until(lambda: _has_kind(bot, incident, "escalation_announced"))


async def _has_kind(bot: RunningBot, incident: Incident, kind: str) -> bool:
    return kind in await kinds(bot, incident)


async def test_deescalation_is_posted_in_the_channel_only(bot: RunningBot) -> None:
    incident = await bot.declare("Slow dashboards", severity=2)
    await run(bot, "sev 4", incident.channel_id)
    await wait_for_post(bot, incident.channel_id, "lowered")
    await wait_for_summary(bot, incident, "*Severity:* SEV-4")
    assert len(bot.slack.channel_by_name("incidents").messages) == 1, "only the declare announcement"
    assert "escalation_announced" not in await kinds(bot, incident)


@pytest.mark.parametrize("flags", [{"private": True}, {"drill": True}])
async def test_private_incidents_and_drills_escalate_quietly(bot: RunningBot, flags: dict[str, bool]) -> None:
    incident = await bot.declare("Quiet one", severity=4, **flags)
    await run(bot, "sev 1", incident.channel_id)
    await wait_for_post(bot, incident.channel_id, "escalated")
    await wait_for_summary(bot, incident, "*Severity:* SEV-1")
    assert bot.slack.channel_by_name("incidents").messages == []


async def test_bad_or_unchanged_severity_changes_nothing(bot: RunningBot) -> None:
    incident = await bot.declare("Disk filling", severity=2)
    await quiet(bot)
    before = calls(bot, *CHANGES)
    acked = await ask(bot, "sev 9", incident.channel_id)
    assert "`9` is not a severity" in acked and "/incident sev <1-4>" in acked
    url = await run(bot, "SEV-2", incident.channel_id)
    assert "already SEV-2" in await answer(bot, url)
    assert calls(bot, *CHANGES) == before
    assert (await bot.incident(incident.id)).severity == 2
    assert "severity_changed" not in await kinds(bot, incident)
    assert "SEV-2" in summary(bot, incident)


async def test_missing_announcements_channel_does_not_stop_an_escalation(make_bot) -> None:
    from bot.config.settings import IncidentConfig

    bot = await make_bot(IncidentConfig(announcements_channel="nowhere"))
    incident = await bot.declare("Escalate me", severity=3)
    await run(bot, "sev 2", incident.channel_id)
    await wait_for_summary(bot, incident, "*Severity:* SEV-2")
    await bot.wait_until(lambda: _has_kind(bot, incident, "announcement_failed"))
    assert (await bot.incident(incident.id)).severity == 2
