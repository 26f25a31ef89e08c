"""The worker that performs follow-up work, in every replica.

It claims due pieces from the database (each claim is a short lease, renewed
while the work runs, so a killed worker's pieces are taken over within
seconds), performs each one as its own task, and settles it: done; due again
after a backoff when the failure may pass (timeouts, dropped connections, rate
limits, Slack's 5xx); failed for good when Slack or another service refused it,
which is then written on the incident's timeline and told to whoever asked.
One piece failing never stops another.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.consequences.failures import report_failure
from bot.consequences.kinds import KEEP_TRYING
from bot.consequences.performers import PERFORMERS
from bot.context import BotContext
from bot.errors import Busy, ServiceCallFailed
from storage import queries
from storage.models import FollowUpWork

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=6)
POLL_SECONDS = 1.0
BATCH = 32
RUNNING_AT_ONCE = 32
BACKOFF_FIRST = timedelta(seconds=1)
BACKOFF_MAX = timedelta(minutes=10)
BUSY_RETRY = timedelta(seconds=1)
"""How soon a piece waiting for other work (another worker's lease, a ticket still opening) looks again."""
UNEXPECTED_ATTEMPTS = 5
"""A bug (not a refusal, not an outage) is retried this many times, then reported."""


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s, … up to 10 minutes between tries."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


class Worker:
    """Claims and performs follow-up work until stopped."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx
        self._running: dict[int, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(RUNNING_AT_ONCE)
        self._stopping = False

    async def run(self) -> None:
        """Claim, perform, sleep until woken or the next poll; forever."""
        renewal = asyncio.get_running_loop().create_task(self._renew_leases(), name="renew-work-leases")
        try:
            while True:
                self.ctx.work_ready.clear()
                claimed = await self._claim()
                for work in claimed:
                    self._start(work)
                if self._stopping and not claimed and not self._running:
                    return
                if len(claimed) < BATCH:
                    await self._sleep()
        finally:
            renewal.cancel()

    async def take_back_claims(self) -> None:
        """Free every claim at once, when no other worker can be alive (the sole process on a SQLite
        file): the pieces a killed process was performing are due now, not once their leases lapse."""
        async with self.ctx.db.session() as session:
            freed = await queries.release_all_claims(session=session)
        if freed:
            log.info("taking up %d piece(s) of follow-up work a stopped process had claimed", freed)

    def stop_when_done(self) -> None:
        """A graceful stop: finish the work due now (and what it leads to), then return from :meth:`run`.

        Work due later (a retry waiting out its backoff) stays in the database for
        the next start or another replica.
        """
        self._stopping = True
        self.ctx.work_ready.set()

    async def _sleep(self) -> None:
        wait = 0.05 if self._stopping else POLL_SECONDS  # stopping: look again as soon as a piece ends
        try:
            await asyncio.wait_for(self.ctx.work_ready.wait(), wait)
        except TimeoutError:
            pass

    async def _claim(self) -> list[FollowUpWork]:
        free = RUNNING_AT_ONCE - len(self._running)
        if free <= 0:
            return []
        now = self.ctx.clock.now()
        try:
            async with self.ctx.db.session() as session:
                return list(await queries.claim_due_work(
                    session=session, owner=self.ctx.worker_id, now=now, until=now + LEASE, limit=min(free, BATCH)))
        except Exception:  # noqa: BLE001 - the database may be briefly away; the next poll tries again
            log.exception("claiming follow-up work failed; trying again shortly")
            return []

    def _start(self, work: FollowUpWork) -> None:
        assert work.id is not None
        task = asyncio.get_running_loop().create_task(self._perform(work), name=f"work-{work.id}-{work.kind}")
        self._running[work.id] = task
        task.add_done_callback(lambda _task, work_id=work.id: self._running.pop(work_id, None))

    async def _perform(self, work: FollowUpWork) -> None:
        assert work.id is not None
        try:
            performer = PERFORMERS[work.kind]
        except KeyError:
            await self._fail(work, f"unknown kind of work {work.kind!r}")
            return
        try:
            async with self._slots:
                await performer(self.ctx, work)
        except ServiceCallFailed as exc:
            if exc.transient:
                log.info("%s (work %s) will be retried: %s", work.kind, work.id, exc)
                await self._retry(work, str(exc), waiting=isinstance(exc, Busy))
            elif work.kind in KEEP_TRYING:
                log.warning("%s (work %s) refused, trying again later: %s", work.kind, work.id, exc)
                if str(exc) != work.last_error:
                    await report_failure(self.ctx, work, exc, keep_trying=True)
                await self._retry(work, str(exc))
            else:
                log.warning("%s (work %s) refused: %s", work.kind, work.id, exc)
                await self._fail(work, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one piece's bug must not stop the others
            log.exception("%s (work %s) failed", work.kind, work.id)
            if work.attempts >= UNEXPECTED_ATTEMPTS:
                await self._fail(work, f"{type(exc).__name__}: {exc}")
            else:
                await self._retry(work, f"{type(exc).__name__}: {exc}")
        else:
            await self._settle(queries.finish_work, work)

    async def _retry(self, work: FollowUpWork, error: str, *, waiting: bool = False) -> None:
        """Due again after the backoff; a piece waiting for other work (``waiting``) looks again soon."""
        due = self.ctx.clock.now() + (BUSY_RETRY if waiting else backoff(work.attempts))
        await self._settle(queries.retry_work, work, at=due, error=error)

    async def _fail(self, work: FollowUpWork, error: ServiceCallFailed | str) -> None:
        if await self._settle(queries.fail_work, work, error=str(error)):
            await report_failure(self.ctx, work, error)

    async def _settle(self, settle: queries.Settle, work: FollowUpWork, **values: object) -> bool:
        assert work.id is not None
        values.setdefault("at", self.ctx.clock.now())
        try:
            async with self.ctx.db.session() as session:
                return await settle(session=session, work_id=work.id, owner=self.ctx.worker_id, **values)
        except Exception:  # noqa: BLE001 - the lease lapses and the piece is taken up again
            log.exception("could not settle work %s; it will be taken up again", work.id)
            return False

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            if not self._running:
                continue
            try:
                async with self.ctx.db.session() as session:
                    await queries.renew_work(session=session, owner=self.ctx.worker_id, work_ids=list(self._running),
                                             until=self.ctx.clock.now() + LEASE)
            except Exception:  # noqa: BLE001 - a missed renewal only risks a retry elsewhere
                log.exception("renewing work leases failed")

    async def finish(self) -> None:
        """Let the work in progress end (graceful stop); what was not claimed waits in the database."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def cancel(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        await self.finish()
