"""Escalation: calling people in when an incident goes quiet or stays unmitigated.

Two kinds. Missed prompts: after ``escalate_after`` unanswered reminders the
communications lead is called in in the incident channel and the announcements
channel is told (never for private incidents and drills), once per run of
missed prompts; the reminder job decides when, and records it with its prompt.
The severity's escalation matrix: each step (after a time from the declaration, notify people or groups)
fires once while the incident is still investigating or identified. Its truth
is the declaration time and the steps already fired (``fired_steps``); the job
``escalation:<id>`` is armed at the earliest step not yet fired.

Jobs only decide: a step is marked fired in the same transaction that records
the calling-in as follow-up work, which the worker performs (and retries).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.durations import format_duration
from bot.config.settings import EscalationStep
from bot.consequences.kinds import Work
from bot.consequences.messages import post_where_usable
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import SLACK_TRANSIENT_ERRORS, SlackCallFailed
from bot.incidents.drills import calls_people_in
from bot.incidents.records import load_incident
from bot.reminders.state import (
    EARLY_TOLERANCE,
    ESCALATION,
    RETRY_AFTER_FAILURE,
    readable,
    with_state,
)
from bot.runtime.scheduler import job_context, schedule, unschedule
from storage import queries
from storage.models import FollowUpWork, Incident, Phase, Role

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
    """Decide which steps are due and record them fired, with the calling-in that follows, in one transaction."""
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
                    await _record_step(ctx, session, incident, step, now=now)
                fired.append(step_key(step))
            state.fired_steps = list(fired)
            session.add(state)
        arm_escalation(ctx, incident, fired)


async def _record_step(
    ctx: BotContext, session: AsyncSession, incident: Incident, step: EscalationStep, *, now: datetime
) -> None:
    """Record what a due step does: call its people in, or, in a drill, only say whom it would call."""
    assert incident.id is not None
    elapsed = readable(now - incident.declared_at)
    if calls_people_in(ctx.config.drills, incident):
        await follow_with(ctx, session, Work.CALL_IN, incident_id=incident.id, payload={
            "after": int(step.after.total_seconds()), "notify": list(step.notify),
            "elapsed": int(elapsed.total_seconds())})
        return
    text = ctx.render.slack("escalation_step", incident=incident, notify=step.notify, called=False,
                            elapsed=elapsed, failures=[])
    await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident.id, payload={"text": text})
    await queries.add_timeline(
        session=session, incident_id=incident.id, kind="escalation_step", at=now,
        text=(f"Escalation policy at T+{format_duration(step.after)}: would have called in "
              f"{', '.join(step.notify)} (a drill calls nobody in: [drills] escalate = false)"),
        data={"after": int(step.after.total_seconds()), "notify": list(step.notify), "called": False},
    )


async def call_in(ctx: BotContext, work: FollowUpWork) -> None:
    """Invite a step's people and the members of its groups, then mention them in the channel, once.

    Safe to run again: inviting someone already in the channel is harmless and
    the message is posted once. Slack refusing one person or group is shown in
    the message and on the timeline; a hiccup makes the whole piece try again.
    """
    assert work.incident_id is not None
    incident = await load_incident(ctx, work.incident_id)
    if incident.channel_id is None:
        return
    notify = [str(who) for who in work.payload["notify"]]
    after = timedelta(seconds=int(work.payload["after"]))
    failures: dict[str, str] = {}
    users = {who for who in notify if not who.startswith("S")}
    for group in (who for who in notify if who.startswith("S")):
        try:
            users |= await ctx.slack.usergroup_members(group)
        except SlackCallFailed as exc:
            if exc.transient:
                raise
            failures[group] = exc.error
    refused = await ctx.slack.invite(incident.channel_id, users)
    if hiccup := next((error for error in refused.values() if error in SLACK_TRANSIENT_ERRORS), None):
        raise SlackCallFailed("conversations.invite", hiccup)
    failures |= refused
    text = ctx.render.slack("escalation_step", incident=incident, notify=notify, called=True,
                            elapsed=timedelta(seconds=int(work.payload["elapsed"])),
                            failures=sorted(failures.items()))
    await post_where_usable(ctx, work, incident.channel_id, text)
    called = ", ".join(f"<!subteam^{w}>" if w.startswith("S") else f"<@{w}>" for w in notify)
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="escalation_step", at=ctx.clock.now(),
            text=f"Escalation policy at T+{format_duration(after)}: called in {called}",
            data={"after": int(after.total_seconds()), "notify": notify, "failed": failures},
        )


async def record_missed_escalation(
    ctx: BotContext, session: AsyncSession, incident: Incident, roles: dict[Role, str], *, missed: int,
    now: datetime,
) -> None:
    """Record calling in the communications lead in the incident channel, and telling the announcements channel.

    Called in the transaction that records the prompt which made the run of
    missed prompts long enough. Without a communications lead the incident
    channel is asked to name one. Private incidents and drills stay in their
    own channel: nothing about them reaches the announcements channel.
    """
    assert incident.id is not None
    comms = roles.get(Role.COMMS)
    silent_for = readable(now - (incident.last_update_at or incident.declared_at))
    values = {"incident": incident, "comms": comms, "ic": roles.get(Role.IC), "missed": missed,
              "silent_for": silent_for}
    await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident.id,
                      payload={"text": ctx.render.slack("reminder_escalated", **values)})
    done = [f"calling in <@{comms}> in the incident channel" if comms
            else "asking the incident channel for a communications lead"]
    if incident.private or incident.drill:
        why = "private incident" if incident.private else "drill"
        done.append(f"keeping it out of the announcements channel ({why})")
    else:
        done.append("telling the announcements channel")
        await follow_with(ctx, session, Work.ANNOUNCE, incident_id=incident.id, payload={
            "text": ctx.render.slack("reminder_escalated_announcement", **values),
            "on_failure": {"kind": "announcement_failed",
                           "text": "Could not tell the announcements channel that updates were missed: {problem}"},
        })
    await queries.add_timeline(
        session=session, incident_id=incident.id, kind="reminders_escalated", at=now,
        text=f"{missed} update reminders in a row went unanswered: {'; '.join(done)}",
        data={"missed": missed, "comms": comms},
    )
