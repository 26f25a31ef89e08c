"""Escalation: calling people in when an incident goes quiet or stays unmitigated.

Two kinds. Missed prompts: after ``escalate_after`` unanswered reminders the
communications lead is called in in the incident channel and the announcements
channel is told (never for private incidents and drills), once per run of
missed prompts; the reminder job decides when. The severity's escalation
matrix: each step (after a time from the declaration, notify people or groups)
fires once while the incident is still investigating or identified. Its truth
is the declaration time and the steps already fired (``fired_steps``); the job
``escalation:<id>`` is armed at the earliest step not yet fired.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.config.durations import format_duration
from bot.config.settings import EscalationStep
from bot.context import BotContext
from bot.incidents.drills import calls_people_in
from bot.reminders.state import (
    EARLY_TOLERANCE,
    ESCALATION,
    RETRY_AFTER_FAILURE,
    readable,
    with_state,
)
from bot.runtime.scheduler import job_context, schedule, unschedule
from bot.slack.gateway import SlackCallFailed
from bot.slack.posting import tell_announcements, tell_channel
from storage import queries
from storage.models import Incident, Phase, Role

log = logging.getLogger(__name__)

BEFORE_MITIGATION = frozenset({Phase.INVESTIGATING, Phase.IDENTIFIED})
"""The phases in which the escalation matrix still calls people in."""


def step_key(step: EscalationStep) -> str:
    """Names a step by its time and people, so a step fires once even when the severity changes."""
    return f"{int(step.after.total_seconds())}:{','.join(step.notify)}"


def next_step_at(ctx: BotContext, *, severity: int, declared_at: datetime, fired: Sequence[str]) -> datetime | None:
    """When the earliest escalation step not yet fired is due (None: no step left)."""
    pending = [step for step in ctx.config.policy(severity).escalation if step_key(step) not in fired]
    return declared_at + pending[0].after if pending else None


def arm_step(ctx: BotContext, incident_id: int, at: datetime) -> None:
    """Arm the escalation job of an incident at ``at``."""
    schedule(ctx, f"{ESCALATION}{incident_id}", escalate, at, incident_id)


def arm_escalation(ctx: BotContext, incident: Incident, fired: Sequence[str]) -> None:
    """Arm the job for the next escalation step, or remove it when none is left."""
    assert incident.id is not None
    at = next_step_at(ctx, severity=incident.severity, declared_at=incident.declared_at, fired=fired)
    if at is None:
        unschedule(ctx, f"{ESCALATION}{incident.id}")
    else:
        arm_step(ctx, incident.id, at)


async def escalate(incident_id: int) -> None:
    """Job: fire the escalation steps now due, if the incident is not yet mitigated, then arm the next."""
    ctx = job_context()
    try:
        await _escalate_steps(ctx, incident_id)
    except Exception:
        # A failed run must not leave the remaining steps unarmed.
        log.exception("escalation for incident %s failed; trying again shortly", incident_id)
        arm_step(ctx, incident_id, ctx.clock.now() + RETRY_AFTER_FAILURE)


async def _escalate_steps(ctx: BotContext, incident_id: int) -> None:
    async with ctx.incident_locks[incident_id]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            found = await with_state(session, incident_id)
        if found is None:
            return
        incident, state = found
        if incident.channel_id is None:
            arm_step(ctx, incident_id, now + RETRY_AFTER_FAILURE)
            return
        fired = list(state.fired_steps)
        due = [step for step in ctx.config.policy(incident.severity).escalation
               if step_key(step) not in fired and incident.declared_at + step.after <= now + EARLY_TOLERANCE]
        for step in due:
            if incident.phase in BEFORE_MITIGATION:
                await _call_in(ctx, incident, step, now=now)
            fired.append(step_key(step))
            async with ctx.db.session() as session:
                state.fired_steps = list(fired)
                session.add(state)
        arm_escalation(ctx, incident, fired)


async def _call_in(ctx: BotContext, incident: Incident, step: EscalationStep, *, now: datetime) -> None:
    """Mention the step's people and groups in the channel, invite them, and log it.

    A drill only says whom the step would call, unless ``[drills] escalate`` lets it call them.
    """
    assert incident.id is not None and incident.channel_id is not None
    if not calls_people_in(ctx.config.drills, incident):
        await _name_only(ctx, incident, step, now=now)
        return
    failures: dict[str, str] = {}
    users = {who for who in step.notify if not who.startswith("S")}
    for group in (who for who in step.notify if who.startswith("S")):
        try:
            users |= await ctx.slack.usergroup_members(group)
        except SlackCallFailed as exc:
            failures[group] = exc.error
    failures |= await ctx.slack.invite(incident.channel_id, users)
    text = ctx.render.slack("escalation_step", incident=incident, notify=step.notify, called=True,
                            elapsed=readable(now - incident.declared_at), failures=sorted(failures.items()))
    await tell_channel(ctx, incident, text)
    called = ", ".join(f"<!subteam^{w}>" if w.startswith("S") else f"<@{w}>" for w in step.notify)
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="escalation_step", at=now,
            text=f"Escalation policy at T+{format_duration(step.after)}: called in {called}",
            data={"after": int(step.after.total_seconds()), "notify": list(step.notify), "failed": failures},
        )


async def _name_only(ctx: BotContext, incident: Incident, step: EscalationStep, *, now: datetime) -> None:
    """A drill's step: say in its channel whom the policy would call in, without mentioning or inviting them."""
    assert incident.id is not None
    text = ctx.render.slack("escalation_step", incident=incident, notify=step.notify, called=False,
                            elapsed=readable(now - incident.declared_at), failures=[])
    await tell_channel(ctx, incident, text)
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="escalation_step", at=now,
            text=(f"Escalation policy at T+{format_duration(step.after)}: would have called in "
                  f"{', '.join(step.notify)} (a drill calls nobody in: [drills] escalate = false)"),
            data={"after": int(step.after.total_seconds()), "notify": list(step.notify), "called": False},
        )


async def escalate_missed(
    ctx: BotContext, incident: Incident, roles: dict[Role, str], *, missed: int, now: datetime
) -> None:
    """Call in the communications lead in the incident channel, and tell the announcements channel.

    Without a communications lead the incident channel is asked to name one.
    Private incidents and drills stay in their own channel: nothing about them
    reaches the announcements channel.
    """
    assert incident.id is not None
    comms = roles.get(Role.COMMS)
    silent_for = readable(now - (incident.last_update_at or incident.declared_at))
    values = {"incident": incident, "comms": comms, "ic": roles.get(Role.IC), "missed": missed,
              "silent_for": silent_for}
    await tell_channel(ctx, incident, ctx.render.slack("reminder_escalated", **values))
    done = [f"called in <@{comms}> in the incident channel" if comms
            else "asked the incident channel for a communications lead"]
    if incident.private or incident.drill:
        done.append(f"kept out of the announcements channel ({'private incident' if incident.private else 'drill'})")
    else:
        problem = await tell_announcements(ctx, ctx.render.slack("reminder_escalated_announcement", **values))
        done.append("told the announcements channel" if problem is None
                    else f"could not tell the announcements channel: {problem}")
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="reminders_escalated", at=now,
            text=f"{missed} update reminders in a row went unanswered: {'; '.join(done)}",
            data={"missed": missed, "comms": comms},
        )
