"""Follow-up work: recording it with a change, claiming what is due, settling each piece."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import FollowUpWork, WorkState


async def add_work(*, session: AsyncSession, work: FollowUpWork) -> None:
    """Insert the work in the caller's transaction; a row with the same ``key`` already there wins."""
    values = {column.name: getattr(work, column.name) for column in FollowUpWork.__table__.columns  # type: ignore[attr-defined]
              if column.name != "id"}
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(FollowUpWork).values(**values).on_conflict_do_nothing(index_elements=["key"])
    await session.exec(statement)  # type: ignore[call-overload]


def _claimable(now: datetime) -> Any:
    return (
        (col(FollowUpWork.state) == WorkState.PENDING)
        & (col(FollowUpWork.due_at) <= now)
        & or_(col(FollowUpWork.claimed_until).is_(None), col(FollowUpWork.claimed_until) < now)
    )


async def claim_due_work(
    *, session: AsyncSession, owner: str, now: datetime, until: datetime, limit: int
) -> Sequence[FollowUpWork]:
    """Take up to ``limit`` due pieces for ``owner`` until ``until``; other workers skip them.

    On PostgreSQL, rows another worker is claiming at this moment are skipped
    (``FOR UPDATE SKIP LOCKED``); SQLite has one writer at a time, so the
    conditional UPDATE alone decides.
    """
    due = select(FollowUpWork.id).where(_claimable(now)).order_by(col(FollowUpWork.due_at), col(FollowUpWork.id))
    due = due.limit(limit)
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(FollowUpWork)
        .where(col(FollowUpWork.id).in_(due.scalar_subquery()), _claimable(now))
        .values(claimed_by=owner, claimed_until=until, attempts=FollowUpWork.attempts + 1)
        .returning(FollowUpWork)
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return list(result.scalars().all())


async def next_due_at(*, session: AsyncSession) -> datetime | None:
    """When the earliest pending piece falls due (the worker sleeps until then, or a wake-up)."""
    result = await session.exec(  # type: ignore[call-overload]
        select(func.min(FollowUpWork.due_at)).where(col(FollowUpWork.state) == WorkState.PENDING)
    )
    return result.scalar_one_or_none()


async def finish_work(*, session: AsyncSession, work_id: int, owner: str, at: datetime) -> bool:
    """Mark a claimed piece done; False when the claim was lost meanwhile."""
    return await _settle(session, work_id, owner, state=WorkState.DONE, finished_at=at, claimed_until=None)


async def retry_work(*, session: AsyncSession, work_id: int, owner: str, at: datetime, error: str) -> bool:
    """Give a claimed piece back, due again at ``at``."""
    return await _settle(session, work_id, owner, due_at=at, claimed_by=None, claimed_until=None,
                         last_error=error[:500])


async def fail_work(*, session: AsyncSession, work_id: int, owner: str, at: datetime, error: str) -> bool:
    """Mark a claimed piece failed for good."""
    return await _settle(session, work_id, owner, state=WorkState.FAILED, finished_at=at, claimed_until=None,
                         last_error=error[:500])


async def _settle(session: AsyncSession, work_id: int, owner: str, **values: Any) -> bool:
    result = await session.exec(  # type: ignore[call-overload]
        update(FollowUpWork)
        .where(col(FollowUpWork.id) == work_id, col(FollowUpWork.claimed_by) == owner,
               col(FollowUpWork.state) == WorkState.PENDING)
        .values(**values)
    )
    return bool(result.rowcount == 1)


async def work_for_incident(*, session: AsyncSession, incident_id: int) -> Sequence[FollowUpWork]:
    """Every piece recorded for an incident, oldest first (tests and diagnostics)."""
    result = await session.exec(
        select(FollowUpWork).where(col(FollowUpWork.incident_id) == incident_id).order_by(col(FollowUpWork.id))
    )
    return list(result.scalars().all())  # type: ignore[attr-defined]


async def pending_work_count(*, session: AsyncSession) -> int:
    result = await session.exec(  # type: ignore[call-overload]
        select(func.count()).select_from(FollowUpWork).where(col(FollowUpWork.state) == WorkState.PENDING)
    )
    return int(result.scalar_one())


async def renew_work(*, session: AsyncSession, owner: str, work_ids: Sequence[int], until: datetime) -> None:
    """Extend the leases of the pieces a worker is still performing."""
    await session.exec(  # type: ignore[call-overload]
        update(FollowUpWork)
        .where(col(FollowUpWork.id).in_(work_ids), col(FollowUpWork.claimed_by) == owner,
               col(FollowUpWork.state) == WorkState.PENDING)
        .values(claimed_until=until)
    )


class Settle(Protocol):
    """The shape shared by :func:`finish_work`, :func:`retry_work` and :func:`fail_work`."""

    async def __call__(self, *, session: AsyncSession, work_id: int, owner: str, **values: Any) -> bool: ...


async def due_work_count(*, session: AsyncSession, now: datetime) -> int:
    """Pieces due by ``now`` and not yet done or failed, claimed or not (tests wait for zero)."""
    result = await session.exec(  # type: ignore[call-overload]
        select(func.count()).select_from(FollowUpWork)
        .where(col(FollowUpWork.state) == WorkState.PENDING, col(FollowUpWork.due_at) <= now)
    )
    return int(result.scalar_one())


async def release_all_claims(*, session: AsyncSession) -> int:
    """Free every pending piece's claim (only when no other worker can be alive)."""
    result = await session.exec(  # type: ignore[call-overload]
        update(FollowUpWork)
        .where(col(FollowUpWork.state) == WorkState.PENDING, col(FollowUpWork.claimed_by).is_not(None))
        .values(claimed_by=None, claimed_until=None)
    )
    return int(result.rowcount)
