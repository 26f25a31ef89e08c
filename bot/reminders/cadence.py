"""Update reminders: the IC is prompted at the severity's cadence until someone answers.

The database holds the truth: ``Incident.next_update_due`` is when the next
prompt is due, and :class:`ReminderState` where the current prompt stands and
which escalation steps have fired. Scheduler jobs are derived from it:
``reminder:<id>`` at ``next_update_due`` and ``escalation:<id>`` at the next
step of the severity's escalation matrix. Every change writes the truth first
and re-arms the job after, and :func:`reconcile_reminders` arms every job from
the truth when this process becomes the leader and re-aligns them every few
seconds, so a crash or a lost job never leaves an open incident without
a reminder.

This module is what the lifecycle hooks call; the job itself is
:mod:`bot.reminders.prompting`, the escalations :mod:`bot.reminders.escalation`,
answering a prompt from its buttons :mod:`bot.reminders.prompts`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.context import BotContext
from bot.reminders.escalation import arm_escalation, arm_step, next_step_at
from bot.reminders.prompting import arm
from bot.reminders.state import ESCALATION, REMINDER, cadence, close_prompt, with_state
from bot.runtime.scheduler import scheduled, unschedule
from storage import queries
from storage.models import Incident, ReminderState

log = logging.getLogger(__name__)


async def arm_new_incident(ctx: BotContext, incident_id: int) -> None:
    """After a declare: the first prompt a cadence after the declaration, and the escalation matrix."""
    await _replan(ctx, incident_id, lambda incident, state, _now: _plan_first_prompt(ctx, incident, state))


async def replan(ctx: BotContext, incident_id: int) -> None:
    """After a severity change: the next prompt a new cadence after the last update, or now if that passed."""

    def from_last_update(incident: Incident, state: ReminderState, now: datetime) -> None:
        incident.next_update_due = max(state.counted_from + cadence(ctx, incident), now)

    await _replan(ctx, incident_id, from_last_update)


async def disarm_reminders(ctx: BotContext, incident_id: int) -> None:
    """After a resolve: no more prompts or escalations; the waiting prompt loses its buttons."""
    async with ctx.incident_locks[incident_id]:
        unschedule(ctx, f"{REMINDER}{incident_id}")
        unschedule(ctx, f"{ESCALATION}{incident_id}")
        async with ctx.db.session() as session:
            if (found := await with_state(session, incident_id, open_only=False)) is None:
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

    def start_over(incident: Incident, state: ReminderState, now: datetime) -> None:
        state.counted_from, state.unanswered, state.escalated_at = now, 0, None
        if incident.next_update_due is None or incident.next_update_due < now:
            incident.next_update_due = now + cadence(ctx, incident)

    await _replan(ctx, incident_id, start_over)


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

    Runs when this process becomes the leader, on an empty job store, and
    again every few seconds to pick up what other replicas recorded. Jobs that
    already match are left alone: a pass over ten thousand open incidents is a
    few narrow reads, and the escalation matrix is read only when one is
    configured. The jobs are listed before the incidents, so a job armed
    meanwhile for a new incident is never taken for a stale one.
    """
    reminders = {job_id: job.run_at for job_id, job in scheduled(ctx, REMINDER).items()}
    escalations = {job_id: job.run_at for job_id, job in scheduled(ctx, ESCALATION).items()}
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
            arm_step(ctx, plan.incident_id, step_at)
            armed += 1
    stale += [*reminders, *escalations]  # jobs of incidents no longer open
    for job_id in stale:
        unschedule(ctx, job_id)
    log.log(logging.INFO if armed or stale else logging.DEBUG,
            "reminders reconciled: %d open incidents, %d jobs armed, %d stale jobs removed",
            len(dues), armed, len(stale))


async def _replan(ctx: BotContext, incident_id: int, plan: Callable[[Incident, ReminderState, datetime], None]) -> None:
    """Under the incident's lock, let ``plan`` change its reminder rows (the truth), then arm its jobs from them."""
    async with ctx.incident_locks[incident_id]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            if (found := await with_state(session, incident_id)) is None:
                return
            incident, state = found
            plan(incident, state, now)
            session.add_all([incident, state])
        await arm(ctx, incident_id, incident.next_update_due)
        arm_escalation(ctx, incident, state.fired_steps)


async def _first_due(ctx: BotContext, incident_id: int) -> datetime | None:
    """Give an open incident without a due time one: a cadence after the last update, prompt or declaration."""
    async with ctx.db.session() as session:
        if (found := await with_state(session, incident_id)) is None:
            return None
        incident, state = found
        _plan_first_prompt(ctx, incident, state)
        session.add(incident)
        return incident.next_update_due


def _plan_first_prompt(ctx: BotContext, incident: Incident, state: ReminderState) -> None:
    """Unless a prompt is already due: a cadence after the last update, prompt or declaration."""
    if incident.next_update_due is None:
        incident.next_update_due = state.counted_from + cadence(ctx, incident)


def _differs(run_at: datetime | None, at: datetime) -> bool:
    return run_at is None or abs(run_at - at) >= timedelta(seconds=1)
