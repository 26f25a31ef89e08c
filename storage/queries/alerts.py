"""Alerts from monitoring and PagerDuty: opening an occurrence, finding it again, linking, dismissing."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Alert, FollowUpWork, WorkState


async def open_alert(*, session: AsyncSession, alert: Alert) -> Alert | None:
    """Store a new occurrence of an alert; None when a concurrent delivery stored it first."""
    try:
        async with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        return None
    return alert


async def latest_alert(*, session: AsyncSession, source: str, key: str) -> Alert | None:
    """The most recent occurrence of the alert ``key`` from ``source``, row-locked until the transaction
    ends (PostgreSQL), so that concurrent reports about one alert apply one after another."""
    result = await session.exec(
        select(Alert).where(Alert.source == source, Alert.key == key)
        .order_by(col(Alert.occurrence).desc()).limit(1).with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


async def get_alert(*, session: AsyncSession, alert_id: int) -> Alert | None:
    return await session.get(Alert, alert_id, populate_existing=True)


async def link_alert(*, session: AsyncSession, alert_id: int, incident_id: int) -> bool:
    """Make ``incident_id`` the incident of an alert not yet linked; False if it already has one."""
    result = await session.exec(  # type: ignore[call-overload]
        update(Alert).where(col(Alert.id) == alert_id, col(Alert.incident_id).is_(None))
        .values(incident_id=incident_id).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


async def dismiss_alert(*, session: AsyncSession, alert_id: int, user_id: str, at: datetime) -> bool:
    """Dismiss an alert nobody declared or dismissed yet; False otherwise (a double click, a race)."""
    result = await session.exec(  # type: ignore[call-overload]
        update(Alert)
        .where(col(Alert.id) == alert_id, col(Alert.incident_id).is_(None), col(Alert.dismissed_at).is_(None))
        .values(dismissed_by=user_id, dismissed_at=at).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


async def alerts_for_incident(*, session: AsyncSession, incident_id: int) -> Sequence[Alert]:
    """The alerts linked to an incident, first received first."""
    result = await session.exec(
        select(Alert).where(Alert.incident_id == incident_id).order_by(col(Alert.received_at), col(Alert.id))
    )
    return result.all()


async def work_pending(*, session: AsyncSession, key: str) -> bool:
    """Whether the follow-up work recorded under ``key`` is still to be done."""
    result = await session.exec(
        select(FollowUpWork.id).where(col(FollowUpWork.key) == key, col(FollowUpWork.state) == WorkState.PENDING)
    )
    return result.first() is not None
