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
  What merely follows a job (cosmetic Slack edits, which Slack rate-limits
  harder than new messages) runs in a second lane, :func:`after_job`, so it
  never holds up the next due job.

:func:`start_scheduler` and :func:`stop_scheduler` are the only switches, so
that a replica can later start the scheduler only while it holds leadership.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
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
from apscheduler.util import utc_timestamp_to_datetime
from sqlalchemy import select

from bot.context import BotContext
from storage.db import create_sync_engine

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
MAX_RUNNING = 16
MAX_FOLLOWING = 8
STOP_GRACE_SECONDS = 5.0

JobFunction = Callable[..., Awaitable[None]]
Reconcile = Callable[[BotContext], Awaitable[None]]

_current: ContextVar[_LoopExecutor] = ContextVar("scheduler_job_executor")


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job as stored: when it runs next and the ids it was given."""

    run_at: datetime
    args: tuple[Any, ...]


class _LoopExecutor(BaseExecutor):
    """Runs coroutine jobs on the bot's loop, from whichever thread submits them, a few at a time."""

    def __init__(self, ctx: BotContext, loop: asyncio.AbstractEventLoop, limit: int, following: int) -> None:
        super().__init__()
        self.ctx = ctx
        self._loop = loop
        self._limit = asyncio.Semaphore(limit)
        self._lane = asyncio.Semaphore(following)
        self._futures: set[Future[Any]] = set()
        self._following: set[asyncio.Task[None]] = set()
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        future = asyncio.run_coroutine_threadsafe(self._run(job, run_times), self._loop)
        self._futures.add(future)
        future.add_done_callback(partial(self._finished, job.id))

    async def _run(self, job: Job, run_times: list[datetime]) -> Any:
        self._running += 1
        self._idle.clear()
        try:
            async with self._limit:
                _current.set(self)
                return await run_coroutine_job(job, job._jobstore_alias, run_times, self._logger.name)
        finally:
            self._running -= 1
            if not self._running:
                self._idle.set()

    def follow(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = self._loop.create_task(self._in_lane(work), name=name)
        self._following.add(task)
        task.add_done_callback(self._followed)

    async def _in_lane(self, work: Coroutine[Any, Any, None]) -> None:
        """Follow-up work waits while jobs are due: after a restart, every overdue prompt goes first."""
        started = False
        try:
            async with self._lane:
                await self._idle.wait()
                started = True
                await work
        finally:
            if not started:
                work.close()

    def _followed(self, task: asyncio.Task[None]) -> None:
        self._following.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    def _finished(self, job_id: str, future: Future[Any]) -> None:
        self._futures.discard(future)
        if future.cancelled():
            self._run_job_error(job_id, asyncio.CancelledError())
        elif (error := future.exception()) is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, future.result())

    async def finish(self, timeout: float) -> None:
        """Let running jobs and their follow-ups finish for a moment (a prompt half-sent is worse
        than a slower stop), then cancel what is left, here on the loop that runs them."""
        pending = [asyncio.wrap_future(f) for f in list(self._futures)] + list(self._following)
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        for future in list(self._futures):
            future.cancel()
        for task in list(self._following):
            task.cancel()


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
        await executor.finish(STOP_GRACE_SECONDS)
        self._stop_timer()
        await asyncio.get_running_loop().run_in_executor(self._io, partial(BaseScheduler.shutdown, self, False))


@dataclass(frozen=True, slots=True)
class _Running:
    ctx: BotContext
    scheduler: _Scheduler
    executor: _LoopExecutor
    store: SQLAlchemyJobStore
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
    return _current.get().ctx


def after_job(work: Coroutine[Any, Any, None], *, name: str) -> None:
    """From inside a job: run what merely follows it in the background, a few at a time.

    The job's slot frees at once for the next due job; the work is awaited
    (briefly) when the scheduler stops, and a failure is logged.
    """
    _current.get().follow(work, name)


async def start_scheduler(ctx: BotContext, *, reconcile: Sequence[Reconcile]) -> bool:
    """Start the scheduler paused, let each feature's ``reconcile`` align its jobs with the database, then run.

    Returns False (and does nothing) when this process already runs a
    scheduler on the same database.
    """
    key = _store(ctx)
    if key in _running:
        log.warning("a scheduler already runs on this database in this process; not starting another")
        return False
    chatty = logging.getLogger("apscheduler")
    if chatty.level == logging.NOTSET:
        # APScheduler logs every job added and run at INFO: thousands of lines an hour with
        # many open incidents. Its warnings and errors still show; an operator's level wins.
        chatty.setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobstore")
    executor = _LoopExecutor(ctx, loop, MAX_RUNNING, MAX_FOLLOWING)
    store = SQLAlchemyJobStore(engine=create_sync_engine(ctx.settings.database_url), tablename=JOBS_TABLE)
    scheduler = _Scheduler(
        io=io,
        event_loop=loop,
        timezone=UTC,
        jobstores={"default": store},
        executors={"default": executor},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 4},
    )
    running = _Running(ctx=ctx, scheduler=scheduler, executor=executor, store=store, io=io)
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
    return await running.call(partial(_stored_jobs, running.store, prefix))


async def next_runs(ctx: BotContext, prefix: str) -> dict[str, datetime]:
    """When each stored job whose id starts with ``prefix`` runs next.

    Read from the job table without unpickling the jobs, so a reconciliation
    over ten thousand incidents stays cheap enough to run every few seconds.
    """
    running = _running.get(_store(ctx))
    if running is None:
        return {}
    return await running.call(partial(_next_runs, running.store, prefix))


def _ids_like(store: SQLAlchemyJobStore, prefix: str) -> Any:
    return store.jobs_t.c.id.startswith(prefix, autoescape=True)


def _stored_jobs(store: SQLAlchemyJobStore, prefix: str) -> dict[str, ScheduledJob]:
    query = select(store.jobs_t.c.id).where(_ids_like(store, prefix))
    with store.engine.connect() as connection:
        ids = list(connection.execute(query).scalars())
    jobs = (store.lookup_job(job_id) for job_id in ids)
    return {job.id: ScheduledJob(run_at=job.next_run_time, args=tuple(job.args))
            for job in jobs if job is not None and job.next_run_time is not None}


def _next_runs(store: SQLAlchemyJobStore, prefix: str) -> dict[str, datetime]:
    table = store.jobs_t
    query = select(table.c.id, table.c.next_run_time).where(_ids_like(store, prefix),
                                                            table.c.next_run_time.is_not(None))
    with store.engine.connect() as connection:
        return {row.id: utc_timestamp_to_datetime(row.next_run_time) for row in connection.execute(query)}
