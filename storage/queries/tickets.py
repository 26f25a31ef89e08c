"""Tickets in a tracker and pages in Confluence, as recorded on action items and incidents."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ActionItem, FollowUpWork, Incident, WorkState


async def action_item_by_id(*, session: AsyncSession, item_id: int) -> ActionItem | None:
    return await session.get(ActionItem, item_id, populate_existing=True)


async def action_item_by_ticket(*, session: AsyncSession, ticket_id: str) -> ActionItem | None:
    """The action item whose ticket this is (the tracker's own id), if any."""
    result = await session.exec(select(ActionItem).where(ActionItem.ticket_id == ticket_id))
    return result.first()


async def set_action_item_ticket(*, session: AsyncSession, item_id: int, ticket_id: str, key: str,
                                 url: str) -> bool:
    """Record the item's ticket unless one is recorded already; True when this call recorded it."""
    result = await session.exec(  # type: ignore[call-overload]
        update(ActionItem).where(col(ActionItem.id) == item_id, col(ActionItem.ticket_id).is_(None))
        .values(ticket_id=ticket_id, ticket_key=key, ticket_url=url)
    )
    return bool(result.rowcount)


async def set_incident_ticket(*, session: AsyncSession, incident_id: int, ticket_id: str, key: str,
                              url: str) -> bool:
    """Record the incident's own ticket unless one is recorded already; True when this call recorded it."""
    result = await session.exec(  # type: ignore[call-overload]
        update(Incident).where(col(Incident.id) == incident_id, col(Incident.ticket_id).is_(None))
        .values(ticket_id=ticket_id, ticket_key=key, ticket_url=url)
    )
    return bool(result.rowcount)


async def set_postmortem_page(*, session: AsyncSession, incident_id: int, page_id: str, url: str) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(Incident).where(col(Incident.id) == incident_id).values(postmortem_page_id=page_id,
                                                                       postmortem_page_url=url)
    )


async def work_state(*, session: AsyncSession, key: str) -> WorkState | None:
    """Where the piece of work recorded under ``key`` stands, or None when there is none."""
    result = await session.exec(select(FollowUpWork.state).where(FollowUpWork.key == key))
    return result.first()
