"""Pages to the on-call: recording each one sent, and keeping an incident's pages in order."""

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import FollowUpWork, OncallPage, WorkState


async def record_page(*, session: AsyncSession, page: OncallPage) -> bool:
    """Store a page PagerDuty accepted; False when this piece of work recorded it already."""
    try:
        async with session.begin_nested():
            session.add(page)
    except IntegrityError:
        return False
    return True


async def pages_for_incident(*, session: AsyncSession, incident_id: int) -> Sequence[OncallPage]:
    """Every page sent for an incident, oldest first."""
    result = await session.exec(
        select(OncallPage).where(OncallPage.incident_id == incident_id)
        .order_by(col(OncallPage.sent_at), col(OncallPage.id))
    )
    return result.all()


async def paging_work_recorded(*, session: AsyncSession, incident_id: int, kind: str) -> bool:
    """Whether paging work of ``kind`` was ever recorded for the incident (done, pending or failed)."""
    result = await session.exec(
        select(FollowUpWork.id).where(col(FollowUpWork.incident_id) == incident_id, col(FollowUpWork.kind) == kind)
        .limit(1)
    )
    return result.first() is not None


async def earlier_paging_pending(*, session: AsyncSession, incident_id: int, kinds: Sequence[str],
                                 work_id: int) -> bool:
    """Whether paging work recorded before ``work_id`` for the incident is still to be done."""
    result = await session.exec(
        select(FollowUpWork.id).where(
            col(FollowUpWork.incident_id) == incident_id, col(FollowUpWork.kind).in_(kinds),
            col(FollowUpWork.id) < work_id, col(FollowUpWork.state) == WorkState.PENDING,
        ).limit(1)
    )
    return result.first() is not None
