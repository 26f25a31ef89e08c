"""Response metrics: milestones recorded as they happen and the aggregates by severity.
"""


from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, case, cast, func, literal, true, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.elapsed import seconds_between
from storage.models import (
    Incident,
    RoleAssignment,
    UTCDateTime,
)
from storage.severity import Severity


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
    detected: int
    ttd_seconds: float
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
    every_severity = [severity.value for severity in Severity]
    return (col(Incident.severity).in_(every_severity) & col(Incident.drill).in_([False, True])
            & (col(Incident.declared_at) >= since) & (col(Incident.declared_at) < until))


async def response_metrics(
    *, session: AsyncSession, since: datetime, until: datetime, respond_within: Mapping[int, timedelta],
    resolve_within: Mapping[int, timedelta], hidden: Collection[int] = (),
) -> list[MetricsRow]:
    """Response metrics of the incidents declared in ``[since, until)``, one row per severity and drill flag.

    Two aggregate queries: one over the covering index ``ix_incident_metrics``
    for everything measured, one over open incidents only for the SLAs whose
    time ran out unanswered at ``until``. An incident still inside its window
    counts neither as met nor as missed. Incidents in ``hidden`` (private ones
    the reader is no member of) are left out of everything.
    """
    shown = col(Incident.id).not_in(hidden) if hidden else true()
    respond = _per_severity({s: int(t.total_seconds()) for s, t in respond_within.items()})
    resolve = _per_severity({s: int(t.total_seconds()) for s, t in resolve_within.items()})
    tta, tti, ttr = col(Incident.tta_seconds), col(Incident.tti_seconds), col(Incident.ttr_seconds)
    ttd = col(Incident.ttd_seconds)
    measured = await session.exec(
        select(  # type: ignore[call-overload]
            Incident.severity, Incident.drill, func.count(), func.count(tta), func.coalesce(func.sum(tta), 0),
            _count(tta <= respond), func.count(tti), func.coalesce(func.sum(tti), 0), func.count(ttr),
            func.coalesce(func.sum(ttr), 0), _count(ttr <= resolve),
            func.coalesce(func.sum(Incident.check_ins), 0), func.coalesce(func.sum(Incident.late_check_ins), 0),
            func.coalesce(func.sum(Incident.late_seconds_total), 0),
            func.coalesce(func.max(Incident.late_seconds_max), 0), func.count(ttd), func.coalesce(func.sum(ttd), 0),
        )
        .where(_in_window(since, until), shown)
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
        .where(col(Incident.resolved_at).is_(None), declared >= since, declared < until, shown)
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
            detected=int(r[15]), ttd_seconds=float(r[16]), acknowledged=acknowledged, tta_seconds=float(tta_sum), identified=identified,
            tti_seconds=float(tti_sum), resolved=resolved, ttr_seconds=float(ttr_sum),
            respond_met=respond_met, respond_missed=acknowledged - respond_met + unanswered,
            resolve_met=resolve_met, resolve_missed=resolved - resolve_met + unresolved,
            check_ins=int(r[11]), late_check_ins=int(r[12]), late_seconds_total=int(r[13]),
            late_seconds_max=int(r[14]),
        ))
    return sorted(rows, key=lambda row: (row.severity, row.drill))


async def private_incidents_declared(
    *, session: AsyncSession, since: datetime, until: datetime,
) -> list[tuple[Incident, set[str]]]:
    """Private incidents declared in ``[since, until)``, each with the people holding one of its roles now.

    Few incidents are private, so deciding who may count them is left to the
    caller (:func:`bot.incidents.access.may_see`) rather than spelt in SQL.
    """
    result = await session.exec(
        select(Incident).where(col(Incident.private).is_(True), col(Incident.declared_at) >= since,
                               col(Incident.declared_at) < until)
    )
    incidents = list(result.all())
    holders: dict[int, set[str]] = {incident.id: set() for incident in incidents if incident.id is not None}
    if holders:
        roles = await session.exec(
            select(RoleAssignment.incident_id, RoleAssignment.user_id)
            .where(col(RoleAssignment.incident_id).in_(list(holders)), col(RoleAssignment.ended_at).is_(None))
        )
        for incident_id, user_id in roles.all():
            holders[incident_id].add(user_id)
    return [(incident, holders[incident.id]) for incident in incidents if incident.id is not None]


async def incidents_declared(*, session: AsyncSession, since: datetime, until: datetime) -> Sequence[Incident]:
    """Every incident declared in ``[since, until)``, drills and private ones included, oldest first."""
    result = await session.exec(
        select(Incident).where(col(Incident.declared_at) >= since, col(Incident.declared_at) < until)
        .order_by(col(Incident.declared_at), col(Incident.id))
    )
    return result.all()
