"""Every query the bot runs, as small functions taking ``(*, session, …)``.

Keeping SQL here means the core reads as decisions and the schema can change
in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, case, cast, func, literal, or_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.elapsed import seconds_between
from storage.models import (
    ActionItem,
    DraftState,
    ExternalState,
    ExternalStatusIncident,
    Incident,
    IncidentUpdate,
    Phase,
    ProcessedDelivery,
    ReminderState,
    Role,
    RoleAssignment,
    StatusDraft,
    TimelineEvent,
    UTCDateTime,
    utcnow,
)


async def get_incident(*, session: AsyncSession, incident_id: int) -> Incident | None:
    return await session.get(Incident, incident_id)


async def incident_by_request_key(*, session: AsyncSession, request_key: str) -> Incident | None:
    result = await session.exec(select(Incident).where(Incident.request_key == request_key))
    return result.first()


async def incident_by_channel(*, session: AsyncSession, channel_id: str) -> Incident | None:
    result = await session.exec(select(Incident).where(Incident.channel_id == channel_id))
    return result.first()


async def open_incidents(*, session: AsyncSession) -> Sequence[Incident]:
    """Open incidents, most severe first, newest first within a severity."""
    result = await session.exec(
        select(Incident)
        .where(col(Incident.resolved_at).is_(None))
        .order_by(col(Incident.severity), col(Incident.declared_at).desc())
    )
    return result.all()


async def unfinished_declares(*, session: AsyncSession, now: datetime) -> Sequence[int]:
    """Incidents whose declare sequence a crash or a Slack failure cut short, due a retry now."""
    result = await session.exec(
        select(Incident.id).where(
            or_(col(Incident.announced).is_(False), col(Incident.declarer_told).is_(False)),
            or_(col(Incident.setup_retry_at).is_(None), col(Incident.setup_retry_at) <= now),
            or_(col(Incident.setup_lease_until).is_(None), col(Incident.setup_lease_until) < now),
        )
    )
    return [i for i in result.all() if i is not None]


async def claim_setup(*, session: AsyncSession, incident_id: int, owner: str, until: datetime) -> bool:
    """Take (or renew) the lease on an incident's declare sequence; False if another worker holds it."""
    now = utcnow()
    result = await session.exec(  # type: ignore[call-overload]
        update(Incident)
        .where(
            col(Incident.id) == incident_id,
            or_(
                col(Incident.setup_lease_owner).is_(None),
                col(Incident.setup_lease_owner) == owner,
                col(Incident.setup_lease_until) < now,
            ),
        )
        .values(setup_lease_owner=owner, setup_lease_until=until)
    )
    return bool(result.rowcount)


async def release_setup(*, session: AsyncSession, incident_id: int, owner: str) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.setup_lease_owner) == owner)
        .values(setup_lease_owner=None, setup_lease_until=None)
    )


async def add_timeline(
    *,
    session: AsyncSession,
    incident_id: int,
    kind: str,
    text: str = "",
    actor: str | None = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> TimelineEvent | None:
    """Log one timeline entry; returns None when ``dedupe_key`` was already logged."""
    entry = TimelineEvent(
        incident_id=incident_id, kind=kind, text=text, actor=actor,
        at=at or utcnow(), data=data or {}, dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        session.add(entry)
        await session.flush()
        return entry
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        return None
    return entry


async def timeline(*, session: AsyncSession, incident_id: int) -> Sequence[TimelineEvent]:
    result = await session.exec(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident_id)
        .order_by(col(TimelineEvent.at), col(TimelineEvent.id))
    )
    return result.all()


async def current_roles(*, session: AsyncSession, incident_id: int) -> dict[Role, str]:
    """Who holds each role now."""
    result = await session.exec(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id, col(RoleAssignment.ended_at).is_(None)
        )
    )
    return {a.role: a.user_id for a in result.all()}


async def assign_role(
    *, session: AsyncSession, incident_id: int, role: Role, user_id: str, assigned_by: str
) -> str | None:
    """Hand a role to someone, ending the previous holder's term; returns that holder."""
    result = await session.exec(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id,
            RoleAssignment.role == role,
            col(RoleAssignment.ended_at).is_(None),
        )
    )
    previous = result.first()
    now = utcnow()
    if previous is not None:
        if previous.user_id == user_id:
            return user_id
        previous.ended_at = now
        session.add(previous)
    session.add(RoleAssignment(incident_id=incident_id, role=role, user_id=user_id,
                               assigned_by=assigned_by, assigned_at=now))
    await session.flush()
    return previous.user_id if previous else None


async def claim_delivery(*, session: AsyncSession, key: str) -> bool:
    """Record a Slack delivery; False when it was handled before (a retry or double click)."""
    try:
        async with session.begin_nested():
            session.add(ProcessedDelivery(key=key))
    except IntegrityError:
        return False
    return True


async def count_open_by_severity(*, session: AsyncSession) -> dict[int, int]:
    result = await session.exec(
        select(Incident.severity, func.count())
        .where(col(Incident.resolved_at).is_(None), col(Incident.drill).is_(False))
        .group_by(Incident.severity)
    )
    return {severity: count for severity, count in result.all()}


# -- resolve and response metrics (issue 6) ---------------------------------


async def record_check_in(*, session: AsyncSession, incident_id: int, at: datetime, cadence: timedelta) -> None:
    """Count one check-in (update, *No change*, resolution) and how late it came against the cadence.

    One UPDATE computes the gap since the previous check-in (or the
    declaration) in SQL, so two check-ins arriving together cannot both
    measure from the same starting point.
    """
    moment = literal(at, UTCDateTime())
    gap = seconds_between(moment, func.coalesce(Incident.last_check_in_at, Incident.declared_at))
    late = cast(func.round(gap - cadence.total_seconds()), Integer)
    await session.exec(
        update(Incident)
        .where(col(Incident.id) == incident_id)
        .values(
            check_ins=col(Incident.check_ins) + 1,
            late_check_ins=col(Incident.late_check_ins) + case((late >= 1, 1), else_=0),
            late_seconds_total=col(Incident.late_seconds_total) + case((late >= 1, late), else_=0),
            late_seconds_max=case((late > col(Incident.late_seconds_max), late), else_=col(Incident.late_seconds_max)),
            last_check_in_at=at,
        )
        .execution_options(synchronize_session=False)
    )


async def mark_acknowledged(*, session: AsyncSession, incident_id: int, seconds: int) -> None:
    """Remember the first response, ``seconds`` after the declaration; later ones change nothing."""
    await session.exec(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.tta_seconds).is_(None))
        .values(tta_seconds=seconds)
        .execution_options(synchronize_session=False)
    )


async def mark_identified(*, session: AsyncSession, incident_id: int, seconds: int) -> None:
    """Remember when the cause was first identified; later phase changes keep the first moment."""
    await session.exec(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.tti_seconds).is_(None))
        .values(tti_seconds=seconds)
        .execution_options(synchronize_session=False)
    )


async def close_incident(
    *, session: AsyncSession, incident_id: int, at: datetime, seconds: int, by: str, summary: str,
    root_cause: str, customers_affected: bool,
) -> bool:
    """Resolve an open incident ``seconds`` after its declaration; False when it was already resolved.

    The ``resolved_at IS NULL`` condition makes this the one place a
    resolution is decided, whichever replica or retry gets there first.
    A resolution also counts as the first response and identification
    when none was recorded before.
    """
    result = await session.exec(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.resolved_at).is_(None))
        .values(
            phase=Phase.RESOLVED, resolved_at=at, ttr_seconds=seconds, resolved_by=by, resolution_summary=summary,
            root_cause=root_cause, customers_affected=customers_affected, next_update_due=None,
            tta_seconds=func.coalesce(Incident.tta_seconds, seconds),
            tti_seconds=func.coalesce(Incident.tti_seconds, seconds),
        )
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def reopen_incident(*, session: AsyncSession, incident_id: int, at: datetime, next_update_due: datetime) -> bool:
    """Reopen a resolved incident as investigating; False when it was not resolved."""
    result = await session.exec(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.resolved_at).is_not(None))
        .values(phase=Phase.INVESTIGATING, resolved_at=None, ttr_seconds=None, next_update_due=next_update_due,
                last_check_in_at=at)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def claim_review_reminder(*, session: AsyncSession, incident_id: int, at: datetime) -> bool:
    """Take the one post-mortem review reminder of a resolution; False if sent already or reopened."""
    result = await session.exec(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.resolved_at).is_not(None),
               col(Incident.review_reminded_at).is_(None))
        .values(review_reminded_at=at)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def claim_archive(*, session: AsyncSession, incident_id: int, at: datetime) -> bool:
    """Take the archiving of a resolved incident's channel; False if done already or reopened."""
    result = await session.exec(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.resolved_at).is_not(None),
               col(Incident.channel_id).is_not(None), col(Incident.archived_at).is_(None))
        .values(archived_at=at)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def reset_review_reminder(*, session: AsyncSession, incident_id: int) -> None:
    """A reopened incident gets a fresh review reminder when it is resolved again."""
    await session.exec(
        update(Incident).where(col(Incident.id) == incident_id).values(review_reminded_at=None)
        .execution_options(synchronize_session=False)
    )


async def pending_followups(
    *, session: AsyncSession, review_severities: Sequence[int], archive: bool,
) -> Sequence[Incident]:
    """Resolved incidents still owed a review reminder (for these severities) or an archive."""
    owed = col(Incident.severity).in_(list(review_severities)) & col(Incident.review_reminded_at).is_(None)
    if archive:
        owed = owed | (col(Incident.archived_at).is_(None) & col(Incident.channel_id).is_not(None))
    result = await session.exec(select(Incident).where(col(Incident.resolved_at).is_not(None), owed))
    return result.all()


async def status_updates(*, session: AsyncSession, incident_id: int) -> Sequence[IncidentUpdate]:
    """Every status update posted for an incident, oldest first (for the post-mortem)."""
    result = await session.exec(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident_id)
        .order_by(col(IncidentUpdate.posted_at), col(IncidentUpdate.id))
    )
    return result.all()


async def role_history(*, session: AsyncSession, incident_id: int) -> Sequence[RoleAssignment]:
    """Every role assignment of an incident, handovers included, oldest first."""
    result = await session.exec(
        select(RoleAssignment)
        .where(RoleAssignment.incident_id == incident_id)
        .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
    )
    return result.all()


@dataclass(frozen=True, slots=True)
class MetricsRow:
    """Sums and counts for one severity (drills apart) over a window; averages are taken by the caller.

    Sums rather than means come back so that rows can be added together
    (all severities) without weighting errors.
    """

    severity: int
    drill: bool
    declared: int
    open: int
    acknowledged: int
    tta_seconds: float
    identified: int
    tti_seconds: float
    resolved: int
    ttr_seconds: float
    respond_met: int
    respond_missed: int
    resolve_met: int
    resolve_missed: int
    check_ins: int
    late_check_ins: int
    late_seconds_total: int
    late_seconds_max: int


def _per_severity(targets: Mapping[int, Any]) -> Any:
    return case(dict(targets), value=Incident.severity, else_=None)


def _count(condition: Any) -> Any:
    """How many rows of the group meet ``condition`` (``COUNT(*) FILTER``, on SQLite and PostgreSQL alike)."""
    return func.count().filter(condition)


def _in_window(since: datetime, until: datetime) -> Any:
    """Incidents declared in ``[since, until)``, spelt so that the metrics index is used for range seeks.

    Naming every severity and both drill values lets the database seek each
    (severity, drill) slice of ``ix_incident_metrics`` by date and read it in
    GROUP BY order, instead of scanning and sorting.
    """
    return (col(Incident.severity).in_([1, 2, 3, 4]) & col(Incident.drill).in_([False, True])
            & (col(Incident.declared_at) >= since) & (col(Incident.declared_at) < until))


async def response_metrics(
    *, session: AsyncSession, since: datetime, until: datetime, respond_within: Mapping[int, timedelta],
    resolve_within: Mapping[int, timedelta],
) -> list[MetricsRow]:
    """Response metrics of the incidents declared in ``[since, until)``, one row per severity and drill flag.

    Two aggregate queries: one over the covering index ``ix_incident_metrics``
    for everything measured, one over open incidents only for the SLAs whose
    time ran out unanswered at ``until``. An incident still inside its window
    counts neither as met nor as missed.
    """
    respond = _per_severity({s: int(t.total_seconds()) for s, t in respond_within.items()})
    resolve = _per_severity({s: int(t.total_seconds()) for s, t in resolve_within.items()})
    tta, tti, ttr = col(Incident.tta_seconds), col(Incident.tti_seconds), col(Incident.ttr_seconds)
    measured = await session.exec(
        select(  # type: ignore[call-overload]
            Incident.severity, Incident.drill, func.count(), func.count(tta), func.coalesce(func.sum(tta), 0),
            _count(tta <= respond), func.count(tti), func.coalesce(func.sum(tti), 0), func.count(ttr),
            func.coalesce(func.sum(ttr), 0), _count(ttr <= resolve),
            func.coalesce(func.sum(Incident.check_ins), 0), func.coalesce(func.sum(Incident.late_check_ins), 0),
            func.coalesce(func.sum(Incident.late_seconds_total), 0),
            func.coalesce(func.max(Incident.late_seconds_max), 0),
        )
        .where(_in_window(since, until))
        .group_by(Incident.severity, Incident.drill)
    )
    respond_cutoff = _per_severity({s: literal(until - t, UTCDateTime()) for s, t in respond_within.items()})
    resolve_cutoff = _per_severity({s: literal(until - t, UTCDateTime()) for s, t in resolve_within.items()})
    declared = col(Incident.declared_at)
    overdue = await session.exec(
        select(  # type: ignore[call-overload]
            Incident.severity, Incident.drill, _count(tta.is_(None) & (declared < respond_cutoff)),
            _count(declared < resolve_cutoff),
        )
        .where(col(Incident.resolved_at).is_(None), declared >= since, declared < until)
        .group_by(Incident.severity, Incident.drill)
    )
    late = {(int(r[0]), bool(r[1])): (int(r[2]), int(r[3])) for r in overdue.all()}
    rows = []
    for r in measured.all():
        severity, drill = int(r[0]), bool(r[1])
        declared_n, acknowledged, tta_sum, respond_met, identified, tti_sum, resolved, ttr_sum, resolve_met = (
            int(v) for v in r[2:11])
        unanswered, unresolved = late.get((severity, drill), (0, 0))
        rows.append(MetricsRow(
            severity=severity, drill=drill, declared=declared_n, open=declared_n - resolved,
            acknowledged=acknowledged, tta_seconds=float(tta_sum), identified=identified,
            tti_seconds=float(tti_sum), resolved=resolved, ttr_seconds=float(ttr_sum),
            respond_met=respond_met, respond_missed=acknowledged - respond_met + unanswered,
            resolve_met=resolve_met, resolve_missed=resolved - resolve_met + unresolved,
            check_ins=int(r[11]), late_check_ins=int(r[12]), late_seconds_total=int(r[13]),
            late_seconds_max=int(r[14]),
        ))
    return sorted(rows, key=lambda row: (row.severity, row.drill))


# -- working an incident (issue 3) --------------------------------------------
# (restored by the issue-6 helper after an edit of theirs cut this section; same names and signatures)


async def incident_for_update(*, session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident, row-locked until the transaction ends (PostgreSQL), so concurrent changes queue up."""
    result = await session.exec(
        select(Incident).where(Incident.id == incident_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


async def add_action_item(
    *, session: AsyncSession, incident_id: int, text: str, owner: str | None, due: date | None, created_by: str,
) -> ActionItem:
    """Store the next numbered action item of an incident."""
    highest = (await session.exec(
        select(func.max(ActionItem.number)).where(ActionItem.incident_id == incident_id)
    )).first()
    item = ActionItem(incident_id=incident_id, number=(highest or 0) + 1, text=text, owner=owner, due=due,
                      created_by=created_by)
    session.add(item)
    await session.flush()
    return item


async def action_items(*, session: AsyncSession, incident_id: int) -> Sequence[ActionItem]:
    result = await session.exec(
        select(ActionItem).where(ActionItem.incident_id == incident_id).order_by(col(ActionItem.number))
    )
    return result.all()


async def action_item(*, session: AsyncSession, incident_id: int, number: int) -> ActionItem | None:
    result = await session.exec(
        select(ActionItem).where(ActionItem.incident_id == incident_id, ActionItem.number == number)
    )
    return result.first()


async def timeline_count(*, session: AsyncSession, incident_id: int) -> int:
    result = await session.exec(select(func.count()).where(TimelineEvent.incident_id == incident_id))
    return int(result.one())


async def timeline_page(*, session: AsyncSession, incident_id: int, offset: int, limit: int) -> Sequence[TimelineEvent]:
    """One page of the timeline, in the order things happened."""
    result = await session.exec(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident_id)
        .order_by(col(TimelineEvent.at), col(TimelineEvent.id))
        .offset(offset)
        .limit(limit)
    )
    return result.all()


async def timeline_has(*, session: AsyncSession, incident_id: int, dedupe_key: str) -> bool:
    result = await session.exec(
        select(TimelineEvent.id).where(TimelineEvent.incident_id == incident_id,
                                       TimelineEvent.dedupe_key == dedupe_key)
    )
    return result.first() is not None


async def open_roles_of(*, session: AsyncSession, user_id: str) -> list[tuple[Incident, Role]]:
    """The roles someone holds now in open incidents, most severe first."""
    result = await session.exec(
        select(Incident, RoleAssignment.role)
        .join(RoleAssignment, col(RoleAssignment.incident_id) == col(Incident.id))
        .where(RoleAssignment.user_id == user_id, col(RoleAssignment.ended_at).is_(None),
               col(Incident.resolved_at).is_(None))
        .order_by(col(Incident.severity), col(Incident.declared_at).desc(), col(RoleAssignment.role))
    )
    return [(incident, role) for incident, role in result.all()]


# -- update reminders and status updates (issue 4) ----------------------------


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
    result = await session.exec(
        update(ReminderState)
        .where(col(ReminderState.incident_id) == incident_id, col(ReminderState.prompt_ts) == prompt_ts)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def delivery_claimed(*, session: AsyncSession, key: str) -> bool:
    """Whether a Slack delivery was already handled (read only; :func:`claim_delivery` decides races)."""
    return await session.get(ProcessedDelivery, key) is not None


async def latest_update(*, session: AsyncSession, incident_id: int) -> IncidentUpdate | None:
    result = await session.exec(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident_id)
        .order_by(col(IncidentUpdate.posted_at).desc(), col(IncidentUpdate.id).desc())
        .limit(1)
    )
    return result.first()


# -- status drafts (issue 5) ---------------------------------------------------
# Decisions and publication steps are single conditional UPDATEs: the row
# count says whether this caller won, so double clicks, concurrent approvers
# and two replicas can never both act on the same draft.

PUBLIC_DRAFT_STATES = (DraftState.APPROVED, DraftState.PUBLISHED)


def _won(result: Any) -> bool:
    return bool(result.rowcount == 1)


async def get_draft(*, session: AsyncSession, draft_id: int) -> StatusDraft | None:
    return await session.get(StatusDraft, draft_id, populate_existing=True)


async def add_draft(*, session: AsyncSession, draft: StatusDraft) -> tuple[StatusDraft, bool]:
    """Store a draft; with a ``source_key`` already stored, returns that draft and False."""
    same_source = select(StatusDraft).where(
        StatusDraft.incident_id == draft.incident_id, StatusDraft.source_key == draft.source_key
    )
    if draft.source_key is not None:
        existing = (await session.exec(same_source)).first()
        if existing is not None:
            return existing, False
    try:
        async with session.begin_nested():
            session.add(draft)
    except IntegrityError:
        return (await session.exec(same_source)).one(), False
    return draft, True


async def earlier_drafts(*, session: AsyncSession, incident_id: int, before: int) -> int:
    """How many drafts the incident had before this one (none: its first public word)."""
    result = await session.exec(
        select(func.count()).where(StatusDraft.incident_id == incident_id, col(StatusDraft.id) < before)
    )
    return int(result.one())


async def decide_draft(
    *,
    session: AsyncSession,
    draft_id: int,
    state: DraftState,
    actor: str,
    at: datetime,
    reason: str = "",
    external: ExternalState = ExternalState.NONE,
) -> bool:
    """Approve, reject or supersede a pending draft; False when it was no longer pending."""
    values: dict[str, Any] = {"state": state, "decided_by": actor, "decided_at": at, "reject_reason": reason}
    if state == DraftState.APPROVED:
        values.update(published_at=at, external_state=external)
    result = await session.execute(
        update(StatusDraft)
        .where(col(StatusDraft.id) == draft_id, col(StatusDraft.state) == DraftState.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _won(result)


async def edit_draft_text(*, session: AsyncSession, draft_id: int, text: str, actor: str, at: datetime) -> bool:
    """Replace a pending draft's text; False when it was decided meanwhile."""
    result = await session.execute(
        update(StatusDraft)
        .where(col(StatusDraft.id) == draft_id, col(StatusDraft.state) == DraftState.PENDING)
        .values(text=text, edited_by=actor, edited_at=at)
        .execution_options(synchronize_session=False)
    )
    return _won(result)


async def supersede_older_drafts(
    *, session: AsyncSession, incident_id: int, newer_than: int, actor: str, at: datetime
) -> list[int]:
    """Close the pending drafts older than an approved one; returns their ids."""
    result = await session.exec(
        select(StatusDraft.id).where(
            StatusDraft.incident_id == incident_id,
            col(StatusDraft.id) < newer_than,
            StatusDraft.state == DraftState.PENDING,
        )
    )
    closed: list[int] = []
    for draft_id in result.all():
        assert draft_id is not None
        if await decide_draft(session=session, draft_id=draft_id, state=DraftState.SUPERSEDED, actor=actor, at=at):
            closed.append(draft_id)
    return closed


async def claim_draft(
    *, session: AsyncSession, draft_id: int, state: DraftState, owner: str, until: datetime, now: datetime
) -> bool:
    """Take a draft's lease (to post or publish it) while it is in ``state`` and no live lease is held.

    Not re-entrant, on purpose: two tasks of one process must not work on one draft either.
    """
    result = await session.execute(
        update(StatusDraft)
        .where(
            col(StatusDraft.id) == draft_id,
            col(StatusDraft.state) == state,
            or_(col(StatusDraft.lease_until).is_(None), col(StatusDraft.lease_until) < now),
        )
        .values(lease_owner=owner, lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return _won(result)


async def mark_published(*, session: AsyncSession, draft_id: int) -> bool:
    """An approved draft has reached every destination it will reach."""
    result = await session.execute(
        update(StatusDraft)
        .where(col(StatusDraft.id) == draft_id, col(StatusDraft.state) == DraftState.APPROVED)
        .values(state=DraftState.PUBLISHED)
        .execution_options(synchronize_session=False)
    )
    return _won(result)


async def release_draft(*, session: AsyncSession, draft_id: int, owner: str) -> None:
    await session.execute(
        update(StatusDraft)
        .where(col(StatusDraft.id) == draft_id, col(StatusDraft.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def drafts_to_publish(*, session: AsyncSession, now: datetime) -> Sequence[int]:
    """Approved drafts no live publisher is working on (a crash or a failure left them)."""
    result = await session.exec(
        select(StatusDraft.id)
        .where(
            StatusDraft.state == DraftState.APPROVED,
            or_(col(StatusDraft.lease_until).is_(None), col(StatusDraft.lease_until) < now),
        )
        .order_by(col(StatusDraft.id))
    )
    return [i for i in result.all() if i is not None]


async def drafts_to_post(*, session: AsyncSession) -> Sequence[int]:
    """Pending drafts whose message (or its copy texts) never reached the incident channel."""
    result = await session.exec(
        select(StatusDraft.id)
        .where(
            StatusDraft.state == DraftState.PENDING,
            or_(col(StatusDraft.message_ts).is_(None), col(StatusDraft.copy_posted).is_(False)),
        )
        .order_by(col(StatusDraft.id))
    )
    return [i for i in result.all() if i is not None]


async def incidents_with_external_pending(*, session: AsyncSession) -> Sequence[int]:
    result = await session.exec(
        select(StatusDraft.incident_id).where(StatusDraft.external_state == ExternalState.PENDING).distinct()
    )
    return list(result.all())


async def external_pending_drafts(*, session: AsyncSession, incident_id: int) -> Sequence[StatusDraft]:
    """Drafts still to be sent to the external status page, oldest first (their order matters)."""
    result = await session.exec(
        select(StatusDraft)
        .where(StatusDraft.incident_id == incident_id, StatusDraft.external_state == ExternalState.PENDING)
        .order_by(col(StatusDraft.id))
        .execution_options(populate_existing=True)
    )
    return result.all()


async def retry_failed_external(*, session: AsyncSession, incident_id: int) -> int:
    """Put an incident's failed external publications back in the queue; returns how many.

    Only those newer than the last one that went through: an older text
    sent now would show on the external page as the latest news.
    """
    newest_done = (
        select(func.coalesce(func.max(StatusDraft.id), 0))
        .where(StatusDraft.incident_id == incident_id, StatusDraft.external_state == ExternalState.DONE)
        .scalar_subquery()
    )
    result = await session.execute(
        update(StatusDraft)
        .where(col(StatusDraft.incident_id) == incident_id, col(StatusDraft.external_state) == ExternalState.FAILED,
               col(StatusDraft.id) > newest_done)
        .values(external_state=ExternalState.PENDING, external_error=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


async def claim_external(*, session: AsyncSession, incident_id: int, owner: str, until: datetime,
                         now: datetime) -> ExternalStatusIncident | None:
    """Take the lease on syncing an incident to the external page; None while another holds it."""
    if await session.get(ExternalStatusIncident, incident_id) is None:
        try:
            async with session.begin_nested():
                session.add(ExternalStatusIncident(incident_id=incident_id))
        except IntegrityError:
            pass
    result = await session.execute(
        update(ExternalStatusIncident)
        .where(
            col(ExternalStatusIncident.incident_id) == incident_id,
            or_(col(ExternalStatusIncident.lease_until).is_(None), col(ExternalStatusIncident.lease_until) < now),
        )
        .values(lease_owner=owner, lease_until=until)
        .execution_options(synchronize_session=False)
    )
    if not _won(result):
        return None
    return await session.get(ExternalStatusIncident, incident_id, populate_existing=True)


async def renew_external(*, session: AsyncSession, incident_id: int, owner: str, until: datetime) -> None:
    await session.execute(
        update(ExternalStatusIncident)
        .where(col(ExternalStatusIncident.incident_id) == incident_id,
               col(ExternalStatusIncident.lease_owner) == owner)
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )


async def release_external(*, session: AsyncSession, incident_id: int, owner: str) -> None:
    await session.execute(
        update(ExternalStatusIncident)
        .where(col(ExternalStatusIncident.incident_id) == incident_id,
               col(ExternalStatusIncident.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def public_drafts(*, session: AsyncSession, resolved_since: datetime) -> Sequence[tuple[Incident, StatusDraft]]:
    """Approved updates of public incidents open or resolved since the given moment, newest first.

    Private incidents and drills are filtered here, in the one query the
    public page reads, so no caller can forget to.
    """
    result = await session.exec(
        select(Incident, StatusDraft)
        .join(StatusDraft, col(StatusDraft.incident_id) == col(Incident.id))
        .where(
            col(StatusDraft.state).in_(PUBLIC_DRAFT_STATES),
            col(Incident.private).is_(False),
            col(Incident.drill).is_(False),
            or_(col(Incident.resolved_at).is_(None), col(Incident.resolved_at) >= resolved_since),
        )
        .order_by(col(Incident.declared_at).desc(), col(Incident.id).desc(),
                  col(StatusDraft.published_at).desc(), col(StatusDraft.id).desc())
    )
    return result.all()
