"""Guarded updates: a change made only while a row is still as the caller saw it.

The database, not the caller, decides which of two replicas, retries or double clicks
wins: exactly one of them sees its update change the row.
"""

from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


async def guarded_update(session: AsyncSession, model: type[SQLModel], *conditions: Any, **values: Any) -> bool:
    """Set ``values`` on the row of ``model`` matching ``conditions``; True when this call changed it."""
    result = await session.exec(
        update(model).where(*conditions).values(**values).execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1
