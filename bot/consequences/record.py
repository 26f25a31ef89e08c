"""Recording what must follow a change, in the change's own transaction.

A change and its consequences commit together or not at all, so a crash or a
Slack outage can delay a consequence but never lose it. Once the transaction
commits, this process's worker is woken so the work starts at once; other
replicas find it when they next poll.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.consequences.kinds import Work
from bot.context import BotContext
from storage import queries
from storage.models import FollowUpWork


async def follow_with(
    ctx: BotContext,
    session: AsyncSession,
    kind: Work,
    *,
    incident_id: int | None,
    payload: dict[str, Any] | None = None,
    key: str | None = None,
    requested_by: str | None = None,
    delay: timedelta = timedelta(0),
) -> None:
    """Record one piece of work to perform once ``session`` commits.

    ``key`` names the work uniquely when the same change may be recorded more
    than once (a retried request, a resumed step): the first record wins.
    ``requested_by`` is told if the work fails for good.
    """
    now = ctx.clock.now()
    await queries.add_work(session=session, work=FollowUpWork(
        incident_id=incident_id, kind=kind.value, payload=payload or {}, key=key,
        requested_by=requested_by, due_at=now + delay, created_at=now,
    ))
    _wake_after_commit(ctx, session)


def _wake_after_commit(ctx: BotContext, session: AsyncSession) -> None:
    """Wake the worker when this session commits (a rollback leaves nothing to do, and a
    stray wake-up only costs the worker one look at the table)."""
    sync_session = session.sync_session
    if sync_session.info.get("wakes_worker"):
        return
    sync_session.info["wakes_worker"] = True
    event.listen(sync_session, "after_commit", lambda _session: ctx.work_ready.set())
