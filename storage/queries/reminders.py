"""Update reminders: their state, prompts answered, deliveries already handled.
"""


from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Incident,
    IncidentUpdate,
    ProcessedDelivery,
    ReminderState,
)
from storage.queries.guarded import guarded_update


async def claim_delivery(*, session: AsyncSession, key: str) -> bool:
    """Record a Slack delivery; False when it was handled before (a retry or double click)."""
    try:
        async with session.begin_nested():
            session.add(ProcessedDelivery(key=key))
    except IntegrityError:
        return False
    return True


async def delivery_claimed(*, session: AsyncSession, key: str) -> bool:
    """Whether a Slack delivery was already handled (read only; :func:`claim_delivery` decides races)."""
    return await session.get(ProcessedDelivery, key) is not None


async def reminder_state(*, session: AsyncSession, incident_id: int) -> ReminderState | None:
    """The incident's reminder state, created on first use counting from the declaration."""
    state = await session.get(ReminderState, incident_id, populate_existing=True)
    if state is not None:
        return state
    incident = await session.get(Incident, incident_id)
    if incident is None:
        return None
    try:
        async with session.begin_nested():
            session.add(ReminderState(incident_id=incident_id, counted_from=incident.declared_at))
    except IntegrityError:
        pass
    return await session.get(ReminderState, incident_id, populate_existing=True)


async def open_update_dues(*, session: AsyncSession) -> dict[int, datetime | None]:
    """When each open incident's next update is due: two columns, cheap even for thousands."""
    result = await session.exec(
        select(Incident.id, Incident.next_update_due).where(col(Incident.resolved_at).is_(None))
    )
    return {incident_id: due for incident_id, due in result.all() if incident_id is not None}


@dataclass(frozen=True, slots=True)
class EscalationPlan:
    """What the escalation matrix needs of one open incident, read as plain columns."""

    incident_id: int
    severity: int
    declared_at: datetime
    fired_steps: list[str]


async def open_escalation_plans(*, session: AsyncSession) -> list[EscalationPlan]:
    """Every open incident's severity, declaration time and escalation steps already fired."""
    result = await session.exec(
        select(Incident.id, Incident.severity, Incident.declared_at, ReminderState.fired_steps)
        .outerjoin(ReminderState, col(ReminderState.incident_id) == col(Incident.id))
        .where(col(Incident.resolved_at).is_(None))
    )
    return [EscalationPlan(incident_id=row[0], severity=row[1], declared_at=row[2], fired_steps=list(row[3] or []))
            for row in result.all() if row[0] is not None]


async def answer_prompt(
    *, session: AsyncSession, incident_id: int, prompt_ts: str, counted_from: datetime | None
) -> bool:
    """Mark the waiting prompt answered; False when someone else answered it first.

    The ``prompt_ts`` condition decides the winner in the database, so double
    clicks and presses reaching two replicas cannot both answer one prompt.
    """
    values: dict[str, Any] = {"prompt_ts": None, "unanswered": 0, "escalated_at": None}
    if counted_from is not None:
        values["counted_from"] = counted_from
    return await guarded_update(
        session, ReminderState,
        col(ReminderState.incident_id) == incident_id, col(ReminderState.prompt_ts) == prompt_ts,
        **values,
    )


async def claim_prompt_round(
    *, session: AsyncSession, incident_id: int, prompt_round: int, at: datetime, lapsed_before: datetime
) -> bool:
    """Claim the posting of an incident's next reminder prompt; False when another worker holds the claim.

    The claim is the reminder state itself, changed only if it is still at
    ``prompt_round`` and nobody is posting (or the one posting claimed before
    ``lapsed_before`` and died), so two replicas running the reminder at once,
    a leader that has just lost its lock and its successor, never both post.
    ``prompted_at`` holds when the prompt was claimed, and posted once recorded.
    """
    return await guarded_update(
        session, ReminderState,
        col(ReminderState.incident_id) == incident_id,
        col(ReminderState.prompt_rounds) == prompt_round,
        or_(col(ReminderState.posting).is_(False), col(ReminderState.prompted_at).is_(None),
            col(ReminderState.prompted_at) <= lapsed_before),
        posting=True, prompted_at=at,
    )


async def record_prompt(
    *, session: AsyncSession, incident_id: int, prompt_round: int, ts: str | None, at: datetime, escalated: bool
) -> bool:
    """Record how a claimed prompt round ended: posted as ``ts``, or (None) not posted; False when
    someone else recorded that round first (a worker that adopted the prompt of one presumed dead).

    A posted prompt starts the next round, counts as unanswered and waits for
    an answer; ``escalated`` marks the run of missed prompts as escalated.
    """
    values: dict[str, Any] = {"posting": False}
    if ts is not None:
        values |= {"prompt_ts": ts, "prompted_at": at, "counted_from": at, "prompt_rounds": prompt_round + 1,
                   "unanswered": col(ReminderState.unanswered) + 1}
    if escalated:
        values["escalated_at"] = at
    return await guarded_update(
        session, ReminderState,
        col(ReminderState.incident_id) == incident_id, col(ReminderState.prompt_rounds) == prompt_round,
        **values,
    )


async def latest_update(*, session: AsyncSession, incident_id: int) -> IncidentUpdate | None:
    result = await session.exec(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident_id)
        .order_by(col(IncidentUpdate.posted_at).desc(), col(IncidentUpdate.id).desc())
        .limit(1)
    )
    return result.first()


async def status_updates(*, session: AsyncSession, incident_id: int) -> Sequence[IncidentUpdate]:
    """Every status update posted for an incident, oldest first (for the post-mortem)."""
    result = await session.exec(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident_id)
        .order_by(col(IncidentUpdate.posted_at), col(IncidentUpdate.id))
    )
    return result.all()
