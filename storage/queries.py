"""Every query the bot runs, as small functions taking ``(*, session, …)``.

Keeping SQL here means the core reads as decisions and the schema can change
in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Incident, ProcessedDelivery, Role, RoleAssignment, TimelineEvent, utcnow


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


async def unfinished_declares(*, session: AsyncSession) -> Sequence[int]:
    """Incidents whose declare sequence a crash or a Slack failure cut short."""
    result = await session.exec(
        select(Incident.id).where(or_(col(Incident.announced).is_(False), col(Incident.declarer_told).is_(False)))
    )
    return [i for i in result.all() if i is not None]


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
