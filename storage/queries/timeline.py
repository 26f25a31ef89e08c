"""The timeline and action items.
"""


from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ActionItem,
    TimelineEvent,
)


async def add_timeline(
    *,
    session: AsyncSession,
    incident_id: int,
    kind: str,
    text: str = "",
    actor: str | None = None,
    at: datetime,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> TimelineEvent | None:
    """Log one timeline entry; returns None when ``dedupe_key`` was already logged."""
    entry = TimelineEvent(
        incident_id=incident_id, kind=kind, text=text, actor=actor,
        at=at, data=data or {}, dedupe_key=dedupe_key,
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
