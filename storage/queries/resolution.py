"""Resolving, reopening and what follows resolution.
"""


from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Incident,
    Phase,
)
from storage.queries.guarded import guarded_update


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
    return await guarded_update(
        session, Incident,
        col(Incident.id) == incident_id, col(Incident.resolved_at).is_(None),
        phase=Phase.RESOLVED, resolved_at=at, ttr_seconds=seconds, resolved_by=by, resolution_summary=summary,
        root_cause=root_cause, customers_affected=customers_affected, next_update_due=None,
        tta_seconds=func.coalesce(Incident.tta_seconds, seconds),
        tti_seconds=func.coalesce(Incident.tti_seconds, seconds),
    )


async def reopen_incident(*, session: AsyncSession, incident_id: int, at: datetime, next_update_due: datetime) -> bool:
    """Reopen a resolved incident as investigating; False when it was not resolved."""
    return await guarded_update(
        session, Incident,
        col(Incident.id) == incident_id, col(Incident.resolved_at).is_not(None),
        phase=Phase.INVESTIGATING, resolved_at=None, ttr_seconds=None, next_update_due=next_update_due,
        last_check_in_at=at,
    )


async def claim_review_reminder(*, session: AsyncSession, incident_id: int, at: datetime) -> bool:
    """Take the one post-mortem review reminder of a resolution; False if sent already or reopened."""
    return await guarded_update(
        session, Incident,
        col(Incident.id) == incident_id, col(Incident.resolved_at).is_not(None),
        col(Incident.review_reminded_at).is_(None),
        review_reminded_at=at,
    )


async def claim_archive(*, session: AsyncSession, incident_id: int, at: datetime) -> bool:
    """Take the archiving of a resolved incident's channel; False if done already or reopened."""
    return await guarded_update(
        session, Incident,
        col(Incident.id) == incident_id, col(Incident.resolved_at).is_not(None),
        col(Incident.channel_id).is_not(None), col(Incident.archived_at).is_(None),
        archived_at=at,
    )


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
