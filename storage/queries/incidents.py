"""Incidents, their roles and the declare's own bookkeeping.
"""


from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Incident,
    Role,
    RoleAssignment,
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


async def current_roles(*, session: AsyncSession, incident_id: int) -> dict[Role, str]:
    """Who holds each role now."""
    result = await session.exec(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id, col(RoleAssignment.ended_at).is_(None)
        )
    )
    return {a.role: a.user_id for a in result.all()}


async def assign_role(
    *, session: AsyncSession, incident_id: int, role: Role, user_id: str, assigned_by: str, at: datetime
) -> str | None:
    """Hand a role to someone ``at`` a time, ending the previous holder's term; returns that holder."""
    result = await session.exec(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id,
            RoleAssignment.role == role,
            col(RoleAssignment.ended_at).is_(None),
        )
    )
    previous = result.first()
    if previous is not None:
        if previous.user_id == user_id:
            return user_id
        previous.ended_at = at
        session.add(previous)
    session.add(RoleAssignment(incident_id=incident_id, role=role, user_id=user_id,
                               assigned_by=assigned_by, assigned_at=at))
    await session.flush()
    return previous.user_id if previous else None


async def count_open_by_severity(*, session: AsyncSession) -> dict[int, int]:
    result = await session.exec(
        select(Incident.severity, func.count())
        .where(col(Incident.resolved_at).is_(None), col(Incident.drill).is_(False))
        .group_by(Incident.severity)
    )
    return {severity: count for severity, count in result.all()}


async def incident_for_update(*, session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident, row-locked until the transaction ends (PostgreSQL), so concurrent changes queue up."""
    result = await session.exec(
        select(Incident).where(Incident.id == incident_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


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


async def role_history(*, session: AsyncSession, incident_id: int) -> Sequence[RoleAssignment]:
    """Every role assignment of an incident, handovers included, oldest first."""
    result = await session.exec(
        select(RoleAssignment)
        .where(RoleAssignment.incident_id == incident_id)
        .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
    )
    return result.all()
