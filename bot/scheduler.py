"""Timed work that survives restarts: APScheduler 3 on the bot's loop, jobs kept in the bot's database.

Jobs live in a SQLAlchemyJobStore table (``apscheduler_jobs``) of the bot's own
database, so a restarted bot finds them where they were. Every job is one-shot
(a date trigger) with no misfire grace time and coalescing on: a job that fell
due while the bot was down runs exactly once, as soon as the scheduler starts,
and whoever handles it decides when the next one is due.

Job functions are module-level coroutine functions taking ids only, because
jobs are pickled; they find the running :class:`BotContext` with
:func:`job_context`, which the executor sets for each run from the registry
filled by :func:`start_scheduler` (the context itself cannot be pickled).

Two departures from APScheduler's stock asyncio set-up, both because the job
store is a blocking engine on the database the bot's async sessions write:

* job-store I/O (the scheduler's polling and every add or removal) runs on
  one worker thread, never on the event loop. On SQLite a session holding the
  write lock can only commit while the loop runs, so a blocking write on the
  loop would wait for a lock that cannot be released.
* due jobs are handed to the loop with ``run_coroutine_threadsafe``, at most
  :data:`MAX_RUNNING` at a time, so a restart with a thousand overdue jobs
  neither opens a thousand Slack connections nor drains the database pool.

:func:`start_scheduler` and :func:`stop_scheduler` are the only switches, so
that a replica can later start the scheduler only while it holds leadership.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_coroutine_job
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.date import DateTrigger

from bot.context import BotContext
from storage.db import create_sync_engine

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
MAX_RUNNING = 16
STOP_GRACE_SECONDS = 5.0

JobFunction = Callable[..., Awaitable[None]]
Reconcile = Callable[[BotContext], Awaitable[None]]

_current: ContextVar[BotContext] = ContextVar("scheduler_job_context")


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job as stored: when it runs next and the ids it was given."""

    run_at: datetime
    args: tuple[Any, ...]


class _LoopExecutor(BaseExecutor):
    """Runs coroutine jobs on the bot's loop, from whichever thread submits them, a few at a time."""

    def __init__(self, ctx: BotContext, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        super().__init__()
        self._ctx = ctx
        self._loop = loop
        self._limit = asyncio.Semaphore(limit)
        self._futures: set[Future[Any]] = set()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        future = asyncio.run_coroutine_threadsafe(self._run(job, run_times), self._loop)
        self._futures.add(future)
        future.add_done_callback(partial(self._finished, job.id))

    async def _run(self, job: Job, run_times: list[datetime]) -> Any:
        async with self._limit:
            _current.set(self._ctx)
            return await run_coroutine_job(job, job._jobstore_alias, run_times, self._logger.name)

    def _finished(self, job_id: str, future: Future[Any]) -> None:
        self._futures.discard(future)
        if future.cancelled():
            self._run_job_error(job_id, asyncio.CancelledError())
        elif (error := future.exception()) is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, future.result())

    async def wait(self, timeout: float) -> None:
        """Let running jobs finish (a prompt half-sent is worse than a slower stop)."""
        pending = [asyncio.wrap_future(f) for f in list(self._futures)]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def shutdown(self, wait: bool = True) -> None:
        for future in list(self._futures):
            future.cancel()


class _Scheduler(AsyncIOScheduler):
    """AsyncIOScheduler whose job-store polling runs on a worker thread (see the module docstring)."""

    def __init__(self, *, io: ThreadPoolExecutor, **options: Any) -> None:
        super().__init__(**options)
        self._io = io
        self._polling = False
        self._poll_again = False

    def wakeup(self) -> None:
        """Called from any thread (job adds, timers, resume): poll on the loop's terms."""
        loop = self._eventloop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._poll)

    def _poll(self) -> None:
        if self.state == STATE_STOPPED:
            return
        self._stop_timer()
        if self._polling:
            self._poll_again = True
            return
        self._polling = True
        self._eventloop.run_in_executor(self._io, self._process_jobs).add_done_callback(self._polled)

    def _polled(self, future: asyncio.Future[float | None]) -> None:
        self._polling = False
        if self.state == STATE_STOPPED:
            return
        if future.exception() is not None:
            log.warning("polling the job store failed: %s", future.exception())
            wait: float | None = self.jobstore_retry_interval
        else:
            wait = future.result()
        if self._poll_again:
            self._poll_again = False
            self._poll()
        else:
            self._start_timer(wait)

    async def aclose(self, executor: _LoopExecutor) -> None:
        """Stop taking jobs, let running ones finish for a moment, then close the job store."""
        if self.running:
            self.pause()
        while self._polling:
            await asyncio.sleep(0.01)
        await executor.wait(STOP_GRACE_SECONDS)
        self._stop_timer()
        await asyncio.get_running_loop().run_in_executor(self._io, partial(BaseScheduler.shutdown, self, False))


@dataclass(frozen=True, slots=True)
class _Running:
    ctx: BotContext
    scheduler: _Scheduler
    executor: _LoopExecutor
    io: ThreadPoolExecutor

    async def call(self, function: Callable[[], Any]) -> Any:
        """Run blocking job-store work on the job-store thread."""
        return await asyncio.get_running_loop().run_in_executor(self.io, function)


_running: dict[str, _Running] = {}


def _store(ctx: BotContext) -> str:
    """One scheduler per database per process: the job store must never have two."""
    return ctx.settings.database_url


def job_context() -> BotContext:
    """The context of the scheduler running the current job (only valid inside a job)."""
    return _current.get()


async def start_scheduler(ctx: BotContext, *, reconcile: Sequence[Reconcile]) -> bool:
    """Start the scheduler paused, let each feature's ``reconcile`` align its jobs with the database, then run.

    Returns False (and does nothing) when this process already runs a
    scheduler on the same database.
    """
    key = _store(ctx)
    if key in _running:
        log.warning("a scheduler already runs on this database in this process; not starting another")
        return False
    loop = asyncio.get_running_loop()
    io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobstore")
    executor = _LoopExecutor(ctx, loop, MAX_RUNNING)
    scheduler = _Scheduler(
        io=io,
        event_loop=loop,
        timezone=UTC,
        jobstores={"default": SQLAlchemyJobStore(engine=create_sync_engine(ctx.settings.database_url),
                                                 tablename=JOBS_TABLE)},
        executors={"default": executor},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 4},
    )
    running = _Running(ctx=ctx, scheduler=scheduler, executor=executor, io=io)
    _running[key] = running
    try:
        await running.call(partial(scheduler.start, paused=True))
        for step in reconcile:
            await step(ctx)
        scheduler.resume()
    except BaseException:
        await _close(key, running)
        raise
    log.info("scheduler started")
    return True


async def stop_scheduler(ctx: BotContext) -> None:
    """Stop the scheduler this context started (a no-op otherwise)."""
    key = _store(ctx)
    running = _running.get(key)
    if running is not None and running.ctx is ctx:
        await _close(key, running)
        log.info("scheduler stopped")


async def _close(key: str, running: _Running) -> None:
    try:
        if running.scheduler.state != STATE_STOPPED:
            await running.scheduler.aclose(running.executor)
    finally:
        _running.pop(key, None)
        running.io.shutdown(wait=True)


async def schedule(ctx: BotContext, job_id: str, func: JobFunction, run_at: datetime, *ids: int) -> None:
    """Run ``func(*ids)`` at ``run_at`` (at once if that has passed), replacing any job of that id.

    Without a running scheduler this does nothing: callers keep the truth in
    their own tables and reconcile the jobs from it when the scheduler starts.
    """
    running = _running.get(_store(ctx))
    if running is None:
        return
    trigger = DateTrigger(run_date=run_at, timezone=UTC)
    await running.call(partial(running.scheduler.add_job, func, trigger=trigger, args=ids, id=job_id,
                               name=job_id, replace_existing=True))


async def unschedule(ctx: BotContext, job_id: str) -> None:
    """Remove a job if it exists."""
    running = _running.get(_store(ctx))
    if running is not None:
        await running.call(partial(_remove_quietly, running.scheduler, job_id))


def _remove_quietly(scheduler: BaseScheduler, job_id: str) -> None:
    try:
        scheduler.remove_job(job_id)
    except JobLookupError:
        pass


async def scheduled(ctx: BotContext, prefix: str) -> dict[str, ScheduledJob]:
    """Stored jobs whose id starts with ``prefix``: when each runs and with which ids."""
    running = _running.get(_store(ctx))
    if running is None:
        return {}
    jobs: list[Job] = await running.call(running.scheduler.get_jobs)
    return {
        job.id: ScheduledJob(run_at=job.next_run_time, args=tuple(job.args))
        for job in jobs
        if job.id.startswith(prefix) and job.next_run_time is not None
    }
