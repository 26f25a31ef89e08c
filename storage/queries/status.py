"""Status drafts and their publication. Decisions and publication steps are single conditional
UPDATEs: the row count says whether this caller won, so double clicks, concurrent approvers and
two replicas can never both act on the same draft.
"""


from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    DraftState,
    ExternalState,
    ExternalStatusIncident,
    Incident,
    StatusDraft,
)

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
    result = await session.exec(  # type: ignore[call-overload]
        update(StatusDraft)
        .where(col(StatusDraft.id) == draft_id, col(StatusDraft.state) == DraftState.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _won(result)


async def edit_draft_text(*, session: AsyncSession, draft_id: int, text: str, actor: str, at: datetime) -> bool:
    """Replace a pending draft's text; False when it was decided meanwhile."""
    result = await session.exec(  # type: ignore[call-overload]
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
    result = await session.exec(  # type: ignore[call-overload]
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
    result = await session.exec(  # type: ignore[call-overload]
        update(StatusDraft)
        .where(col(StatusDraft.id) == draft_id, col(StatusDraft.state) == DraftState.APPROVED)
        .values(state=DraftState.PUBLISHED)
        .execution_options(synchronize_session=False)
    )
    return _won(result)


async def release_draft(*, session: AsyncSession, draft_id: int, owner: str) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(StatusDraft)
        .where(col(StatusDraft.id) == draft_id, col(StatusDraft.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


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
    result = await session.exec(  # type: ignore[call-overload]
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
    result = await session.exec(  # type: ignore[call-overload]
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
    await session.exec(  # type: ignore[call-overload]
        update(ExternalStatusIncident)
        .where(col(ExternalStatusIncident.incident_id) == incident_id,
               col(ExternalStatusIncident.lease_owner) == owner)
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )


async def release_external(*, session: AsyncSession, incident_id: int, owner: str) -> None:
    await session.exec(  # type: ignore[call-overload]
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
