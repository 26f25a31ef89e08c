"""Update reminders: the IC is prompted at the severity's cadence until someone answers.

The database holds the truth: ``Incident.next_update_due`` is when the next
prompt is due, and :class:`ReminderState` where the current prompt stands.
Scheduler jobs mirror it: ``reminder:<id>`` at ``next_update_due`` and
``escalation:<id>`` at the next step of the severity's escalation matrix.
Every change writes the truth first and re-arms the job after, and the
start-up reconciliation re-aligns the jobs with the truth, so a crash at any
moment never leaves an open incident without an armed reminder.

This module is what the lifecycle hooks and the scheduler call; answering a
prompt from its buttons lives in :mod:`bot.reminders.prompts`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.slack import blocks
from bot.config.settings import EscalationStep
from bot.context import BotContext
from bot.config.durations import format_duration
from bot.slack.gateway import SlackCallFailed
from bot.slack.posting import tell_announcements, tell_channel
from bot.runtime.scheduler import after_job, job_context, next_runs, schedule, unschedule
from bot.incidents.summary import refresh_summary
from storage import queries
from storage.models import Incident, Phase, ReminderState, Role, utcnow

log = logging.getLogger(__name__)

REMINDER = "reminder:"
ESCALATION = "escalation:"
EARLY_TOLERANCE = timedelta(seconds=1)
"""A job this close to its incident's due time counts as due (clocks and timers are not exact)."""
RETRY_AFTER_FAILURE = timedelta(minutes=1)
BEFORE_MITIGATION = frozenset({Phase.INVESTIGATING, Phase.IDENTIFIED})
"""The phases in which the escalation matrix still calls people in."""

PromptOutcome = Literal["no_change", "snoozed", "updated", "superseded", "stopped"]


def cadence(ctx: BotContext, incident: Incident) -> timedelta:
    return ctx.config.policy(incident.severity).update_every


def step_key(step: EscalationStep) -> str:
    """Names a step by its time and people, so a step fires once even when the severity changes."""
    return f"{int(step.after.total_seconds())}:{','.join(step.notify)}"


def next_step_at(ctx: BotContext, *, severity: int, declared_at: datetime, fired: Sequence[str]) -> datetime | None:
    """When the earliest escalation step not yet fired is due (None: no step left)."""
    pending = [step for step in ctx.config.policy(severity).escalation if step_key(step) not in fired]
    return declared_at + pending[0].after if pending else None


def readable(duration: timedelta) -> timedelta:
    """A duration as people read it in a reminder: whole minutes once past a minute."""
    seconds = int(duration.total_seconds())
    return timedelta(seconds=seconds if seconds < 60 else seconds - seconds % 60)


# -- arming -------------------------------------------------------------------


async def arm(ctx: BotContext, incident_id: int, at: datetime) -> None:
    """(Re)arm the incident's reminder job; the caller has stored ``at`` as next_update_due."""
    await schedule(ctx, f"{REMINDER}{incident_id}", remind, at, incident_id)


async def arm_escalation(ctx: BotContext, incident: Incident, fired: Sequence[str]) -> None:
    """Arm the job for the next escalation step, or remove it when none is left."""
    assert incident.id is not None
    at = next_step_at(ctx, severity=incident.severity, declared_at=incident.declared_at, fired=fired)
    if at is None:
        await unschedule(ctx, f"{ESCALATION}{incident.id}")
    else:
        await schedule(ctx, f"{ESCALATION}{incident.id}", escalate, at, incident.id)


async def _with_state(
    session: AsyncSession, incident_id: int, *, open_only: bool = True
) -> tuple[Incident, ReminderState] | None:
    """An incident and its reminder state; None when either is gone, or (``open_only``) it is closed."""
    incident = await queries.get_incident(session=session, incident_id=incident_id)
    state = await queries.reminder_state(session=session, incident_id=incident_id)
    if incident is None or state is None or (open_only and not incident.is_open):
        return None
    return incident, state


async def arm_new_incident(ctx: BotContext, incident_id: int) -> None:
    """After a declare: the first prompt a cadence after the declaration, and the escalation matrix."""
    async with ctx.incident_locks[incident_id]:
        async with ctx.db.session() as session:
            if (found := await _with_state(session, incident_id)) is None:
                return
            incident, state = found
            if incident.next_update_due is None:
                incident.next_update_due = state.counted_from + cadence(ctx, incident)
                session.add(incident)
        await arm(ctx, incident_id, incident.next_update_due)
        await arm_escalation(ctx, incident, state.fired_steps)


async def replan(ctx: BotContext, incident_id: int) -> None:
    """After a severity change: the next prompt a new cadence after the last update, or now if that passed."""
    async with ctx.incident_locks[incident_id]:
        now = utcnow()
        async with ctx.db.session() as session:
            if (found := await _with_state(session, incident_id)) is None:
                return
            incident, state = found
            due = max(state.counted_from + cadence(ctx, incident), now)
            incident.next_update_due = due
            session.add(incident)
        await arm(ctx, incident_id, due)
        await arm_escalation(ctx, incident, state.fired_steps)


async def disarm_reminders(ctx: BotContext, incident_id: int) -> None:
    """After a resolve: no more prompts or escalations; the waiting prompt loses its buttons."""
    async with ctx.incident_locks[incident_id]:
        await unschedule(ctx, f"{REMINDER}{incident_id}")
        await unschedule(ctx, f"{ESCALATION}{incident_id}")
        async with ctx.db.session() as session:
            if (found := await _with_state(session, incident_id, open_only=False)) is None:
                return
            incident, state = found
            waiting, state.prompt_ts = state.prompt_ts, None
            session.add(state)
            if not incident.is_open and incident.next_update_due is not None:
                incident.next_update_due = None
                session.add(incident)
    if waiting is not None:
        await close_prompt(ctx, incident, waiting, outcome="stopped")


async def rearm_reopened(ctx: BotContext, incident_id: int) -> None:
    """After a reopen: prompts start over from now, as if just declared."""
    async with ctx.incident_locks[incident_id]:
        now = utcnow()
        async with ctx.db.session() as session:
            if (found := await _with_state(session, incident_id)) is None:
                return
            incident, state = found
            state.counted_from, state.unanswered, state.escalated_at = now, 0, None
            session.add(state)
            if incident.next_update_due is None or incident.next_update_due < now:
                incident.next_update_due = now + cadence(ctx, incident)
                session.add(incident)
        await arm(ctx, incident_id, incident.next_update_due)
        await arm_escalation(ctx, incident, state.fired_steps)


def mark_updated(incident: Incident, state: ReminderState, *, at: datetime, every: timedelta) -> str | None:
    """Record a posted update on the caller's rows: the delay restarts and the waiting prompt is answered.

    Returns the ts of the prompt it answered, whose buttons the caller removes.
    """
    answered = state.prompt_ts
    state.prompt_ts, state.unanswered, state.escalated_at, state.counted_from = None, 0, None, at
    incident.last_update_at = at
    incident.next_update_due = at + every
    return answered


async def reconcile_reminders(ctx: BotContext) -> None:
    """Arm every open incident's jobs as the database says, and drop the jobs of closed ones.

    Runs at start-up before the scheduler takes jobs (and may run again on a
    leader to pick up what other replicas recorded). Jobs that already match
    are left alone and nothing is unpickled: a pass over ten thousand open
    incidents is a few narrow reads, and the escalation matrix is read only
    when one is configured. The jobs are listed before the incidents, so a job
    armed meanwhile for a new incident is never taken for a stale one.
    """
    reminders = await next_runs(ctx, REMINDER)
    escalations = await next_runs(ctx, ESCALATION)
    with_matrix = any(ctx.config.policy(severity).escalation for severity in range(1, 5))
    async with ctx.db.session() as session:
        dues = await queries.open_update_dues(session=session)
        plans = await queries.open_escalation_plans(session=session) if with_matrix else []
    armed = 0
    stale: list[str] = []
    for incident_id, due in dues.items():
        existing = reminders.pop(f"{REMINDER}{incident_id}", None)
        if due is None:
            async with ctx.incident_locks[incident_id]:
                due = await _first_due(ctx, incident_id)
        if due is None:
            stale += [f"{REMINDER}{incident_id}"] if existing is not None else []  # closed meanwhile
        elif _differs(existing, due):
            await arm(ctx, incident_id, due)
            armed += 1
    for plan in plans:
        key = f"{ESCALATION}{plan.incident_id}"
        existing = escalations.pop(key, None)
        step_at = next_step_at(ctx, severity=plan.severity, declared_at=plan.declared_at, fired=plan.fired_steps)
        if step_at is None:
            stale += [key] if existing is not None else []  # every step done
        elif _differs(existing, step_at):
            await schedule(ctx, key, escalate, step_at, plan.incident_id)
            armed += 1
    stale += [*reminders, *escalations]  # jobs of incidents no longer open
    for job_id in stale:
        await unschedule(ctx, job_id)
    log.log(logging.INFO if armed or stale else logging.DEBUG,
            "reminders reconciled: %d open incidents, %d jobs armed, %d stale jobs removed",
            len(dues), armed, len(stale))


async def _first_due(ctx: BotContext, incident_id: int) -> datetime | None:
    """Give an open incident without a due time one: a cadence after the last update, prompt or declaration."""
    async with ctx.db.session() as session:
        if (found := await _with_state(session, incident_id)) is None:
            return None
        incident, state = found
        if incident.next_update_due is None:
            incident.next_update_due = state.counted_from + cadence(ctx, incident)
            session.add(incident)
        return incident.next_update_due


def _differs(run_at: datetime | None, at: datetime) -> bool:
    return run_at is None or abs(run_at - at) >= timedelta(seconds=1)


# -- the reminder job ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Prompted:
    """A prompt just posted and recorded (the next one already armed), and what still follows it."""

    incident: Incident
    roles: dict[Role, str]
    previous: str | None
    missed: int
    escalate: bool
    at: datetime


async def remind(incident_id: int) -> None:
    """Job: prompt in the incident channel if the update is due, then arm the next prompt."""
    ctx = job_context()
    try:
        prompted = await _prompt(ctx, incident_id)
    except Exception:
        # A reminder job that dies before re-arming would silence the incident until
        # the next restart; whatever went wrong, try again shortly.
        log.exception("update reminder for incident %s failed; trying again shortly", incident_id)
        await arm(ctx, incident_id, utcnow() + RETRY_AFTER_FAILURE)
        return
    if prompted is None:
        return
    incident = prompted.incident
    after_job(_tidy_up(ctx, incident, prompted.previous), name=f"reminder-tidy-up-{incident_id}")
    if prompted.escalate:
        await _escalate_missed(ctx, incident, prompted.roles, missed=prompted.missed, now=prompted.at)


async def _prompt(ctx: BotContext, incident_id: int) -> _Prompted | None:
    """Post the prompt if it is due, record it and arm the next one; None when nothing was posted."""
    async with ctx.incident_locks[incident_id]:
        now = utcnow()
        async with ctx.db.session() as session:
            if (found := await _with_state(session, incident_id)) is None:
                return None
            incident, state = found
            roles = await queries.current_roles(session=session, incident_id=incident_id)
        due = incident.next_update_due
        if due is not None and due > now + EARLY_TOLERANCE:
            await arm(ctx, incident_id, due)
            return None
        every = cadence(ctx, incident)
        missed, previous = state.unanswered, state.prompt_ts
        marker = {"event_type": "incident_update_prompt",
                  "event_payload": {"incident_id": incident_id, "round": state.prompt_rounds}}
        posted = None
        if state.posting and incident.channel_id is not None:
            # The last attempt stopped between posting and recording (a crash, a
            # leader that died): adopt its prompt rather than post a second one.
            posted = await ctx.slack.find_own_message(incident.channel_id, marker)
        if posted is None:
            async with ctx.db.session() as session:
                state.posting = True
                session.add(state)
            posted = await _post_prompt(ctx, incident, ic=roles.get(Role.IC), missed=missed, every=every,
                                        now=now, metadata=marker)
        escalate_now = posted is not None and missed >= ctx.config.escalate_after and state.escalated_at is None
        async with ctx.db.session() as session:
            stored = await queries.get_incident(session=session, incident_id=incident_id)
            assert stored is not None
            stored.next_update_due = now + every
            session.add(stored)
            state.posting = False
            if posted is not None:
                state.prompt_ts, state.prompted_at, state.counted_from = posted, now, now
                state.prompt_rounds += 1
                state.unanswered += 1
                state.escalated_at = now if escalate_now else state.escalated_at
                session.add(state)
        await arm(ctx, incident_id, now + every)
    if posted is None:
        return None
    return _Prompted(incident=incident, roles=roles, previous=previous, missed=missed, escalate=escalate_now, at=now)


async def _tidy_up(ctx: BotContext, incident: Incident, previous: str | None) -> None:
    """After a prompt: the one before loses its buttons, the summary shows the new due time.

    Both are chat.update calls, which Slack rate-limits far harder than new
    messages, so they run beside the reminder jobs rather than inside them.
    """
    assert incident.id is not None
    if previous is not None:
        await close_prompt(ctx, incident, previous, outcome="superseded")
    await refresh_summary(ctx, incident.id, topic=False)


async def _post_prompt(
    ctx: BotContext, incident: Incident, *, ic: str | None, missed: int, every: timedelta, now: datetime,
    metadata: dict[str, Any],
) -> str | None:
    """Post the prompt; returns its ts, or None when there is no channel yet or Slack refused."""
    if incident.channel_id is None:
        return None
    assert incident.id is not None
    last = incident.last_update_at or incident.declared_at
    text = ctx.render.slack("reminder_prompt", incident=incident, ic=ic, last_update_at=incident.last_update_at,
                            since=readable(now - last), cadence=every, missed=missed)
    try:
        posted = await ctx.slack.post_message(incident.channel_id, text=text, metadata=metadata,
                                              blocks=blocks.reminder_prompt(text, incident_id=incident.id))
    except SlackCallFailed as exc:
        log.warning("could not post the update reminder for %s: %s", incident.reference, exc)
        return None
    return posted.ts


async def close_prompt(
    ctx: BotContext, incident: Incident, ts: str, *, outcome: PromptOutcome, actor: str | None = None,
    next_due: datetime | None = None,
) -> None:
    """Replace a prompt's buttons by how it ended, so it cannot be answered again."""
    if incident.channel_id is None:
        return
    text = ctx.render.slack("reminder_closed", incident=incident, outcome=outcome, actor=actor, next_due=next_due)
    try:
        await ctx.slack.update_message(incident.channel_id, ts, text=text, blocks=blocks.message(text))
    except SlackCallFailed as exc:
        log.info("could not close the update reminder %s of %s: %s", ts, incident.reference, exc)


async def _escalate_missed(
    ctx: BotContext, incident: Incident, roles: dict[Role, str], *, missed: int, now: datetime
) -> None:
    """Call in the communications lead, or the announcements channel when there is none.

    Private incidents and drills never reach the announcements channel: without
    a communications lead the call goes to the incident channel itself.
    """
    assert incident.id is not None
    comms = roles.get(Role.COMMS)
    silent_for = readable(now - (incident.last_update_at or incident.declared_at))
    text = ctx.render.slack("reminder_escalated", incident=incident, comms=comms, ic=roles.get(Role.IC),
                            missed=missed, silent_for=silent_for)
    if comms:
        await tell_channel(ctx, incident, text)
        where = f"<@{comms}>"
    elif incident.private or incident.drill:
        await tell_channel(ctx, incident, text)
        where = "the incident channel (no communications lead; never announced publicly)"
    elif (problem := await tell_announcements(ctx, text)) is None:
        where = "the announcements channel (no communications lead)"
    else:
        await tell_channel(ctx, incident, text)
        where = f"the incident channel (no communications lead; the announcements channel failed: {problem})"
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="reminders_escalated", at=now,
            text=f"{missed} update reminders in a row went unanswered; called in {where}",
            data={"missed": missed, "comms": comms},
        )


# -- the escalation matrix job ----------------------------------------------------------


async def escalate(incident_id: int) -> None:
    """Job: fire the escalation steps now due, if the incident is not yet mitigated, then arm the next."""
    ctx = job_context()
    try:
        await _escalate_steps(ctx, incident_id)
    except Exception:
        # As for reminders: a failed run must not leave the remaining steps unarmed.
        log.exception("escalation for incident %s failed; trying again shortly", incident_id)
        await schedule(ctx, f"{ESCALATION}{incident_id}", escalate, utcnow() + RETRY_AFTER_FAILURE, incident_id)


async def _escalate_steps(ctx: BotContext, incident_id: int) -> None:
    async with ctx.incident_locks[incident_id]:
        now = utcnow()
        async with ctx.db.session() as session:
            found = await _with_state(session, incident_id)
        if found is None:
            return
        incident, state = found
        if incident.channel_id is None:
            await schedule(ctx, f"{ESCALATION}{incident_id}", escalate, now + RETRY_AFTER_FAILURE, incident_id)
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
        await arm_escalation(ctx, incident, fired)


async def _call_in(ctx: BotContext, incident: Incident, step: EscalationStep, *, now: datetime) -> None:
    """Mention the step's people and groups in the channel, invite them, and log it."""
    assert incident.id is not None and incident.channel_id is not None
    failures: dict[str, str] = {}
    users = {who for who in step.notify if not who.startswith("S")}
    for group in (who for who in step.notify if who.startswith("S")):
        try:
            users |= await ctx.slack.usergroup_members(group)
        except SlackCallFailed as exc:
            failures[group] = exc.error
    failures |= await ctx.slack.invite(incident.channel_id, users)
    text = ctx.render.slack("escalation_step", incident=incident, notify=step.notify,
                            elapsed=readable(now - incident.declared_at), failures=sorted(failures.items()))
    await tell_channel(ctx, incident, text)
    called = ", ".join(f"<!subteam^{w}>" if w.startswith("S") else f"<@{w}>" for w in step.notify)
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="escalation_step", at=now,
            text=f"Escalation policy at T+{format_duration(step.after)}: called in {called}",
            data={"after": int(step.after.total_seconds()), "notify": list(step.notify), "failed": failures},
        )
