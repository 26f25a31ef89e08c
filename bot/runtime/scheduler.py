"""Timed work: APScheduler 3 on the bot's loop, its jobs derived from the database.

The database says when everything is due: ``Incident.next_update_due`` for the
next update reminder, the declaration time and the steps already fired for the
escalation matrix, the resolution time and what was already done for the
post-mortem review and the archive. The scheduler only holds a wake-up for each,
in an in-memory job store that the features' reconcilers fill from the database
when this process becomes the leader and re-align every few seconds after. So
there is one source of truth: a restart, a new leader or a job lost for any
reason is put right from the database, and the job store has nothing to keep.

Every job is one-shot (a date trigger) with no misfire grace time and
coalescing on: a job armed for a time already past runs once, at once, and
whoever handles it decides when the next one is due. Job functions are
module-level coroutine functions taking ids only; they find the running
:class:`BotContext` with :func:`job_context`.

Due jobs run on the loop at most :data:`MAX_RUNNING` at a time, so a restart
with a thousand overdue jobs neither opens a thousand Slack connections nor
drains the database pool. A job only decides: what follows its decision is
recorded as follow-up work in the same transaction, and the worker does it.

Who decides that a job is due: APScheduler times its wake-ups with the
machine's clock, so it fires jobs itself only when ``ctx.clock`` is the
machine's clock (:class:`~bot.clock.SystemClock`, always so in production).
With any other clock, one a test moves by hand, the scheduler holds the same
jobs, armed by the same code, but never wakes up on its own: whoever moves the
clock calls :func:`run_due_jobs`, which hands every job due at
``ctx.clock.now()`` to the same executor, exactly as the scheduler's timer
would. A test therefore proves what each job decides, never that APScheduler's
timer works; the process tests prove that with real time.

:func:`start_scheduler` and :func:`stop_scheduler` are the only switches, so a
replica runs the scheduler only while it holds leadership.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_coroutine_job
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import SystemClock
from bot.context import BotContext

log = logging.getLogger(__name__)

MAX_RUNNING = 16
STOP_GRACE_SECONDS = 5.0
MAX_ROUNDS = 10
"""How many times :func:`run_due_jobs` looks again for jobs that the ones it ran made due at once."""

JobFunction = Callable[..., Awaitable[None]]
Reconcile = Callable[[BotContext], Awaitable[None]]

_current: ContextVar[_LoopExecutor] = ContextVar("scheduler_job_executor")


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job as held: when it runs next and the ids it was given."""

    run_at: datetime
    args: tuple[Any, ...]


class _LoopExecutor(BaseExecutor):
    """Runs coroutine jobs on the bot's loop, a few at a time."""

    def __init__(self, ctx: BotContext, loop: asyncio.AbstractEventLoop, limit: int,
                 still_leader: Callable[[], bool]) -> None:
        super().__init__()
        self.ctx = ctx
        self._still_leader = still_leader
        self._loop = loop
        self._limit = asyncio.Semaphore(limit)
        self._jobs: set[asyncio.Task[Any]] = set()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        task = self._loop.create_task(self._run(job, run_times), name=f"job-{job.id}")
        self._jobs.add(task)
        task.add_done_callback(lambda done: self._finished(job.id, done))

    async def _run(self, job: Job, run_times: list[datetime]) -> Any:
        async with self._limit:
            if not self._still_leader():
                log.warning("job %s not run: this replica is no longer the leader; the new leader arms it", job.id)
                return []  # no events for APScheduler to dispatch
            _current.set(self)
            return await run_coroutine_job(job, job._jobstore_alias, run_times, self._logger.name)

    def _finished(self, job_id: str, task: asyncio.Task[Any]) -> None:
        self._jobs.discard(task)
        if task.cancelled():
            self._run_job_error(job_id, asyncio.CancelledError())
        elif (error := task.exception()) is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, task.result())

    async def settle(self) -> None:
        """Wait until no job is running."""
        while self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)

    async def finish(self, timeout: float) -> None:
        """Let running jobs finish for a moment (a prompt half-sent is worse than a slower stop),
        then cancel what is left."""
        pending = list(self._jobs)
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        for task in list(self._jobs):
            task.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class _Running:
    ctx: BotContext
    scheduler: AsyncIOScheduler
    executor: _LoopExecutor
    store: MemoryJobStore


_running: dict[int, _Running] = {}
"""The scheduler each context started, by the context's identity (a context runs at most one)."""


def _of(ctx: BotContext) -> _Running | None:
    running = _running.get(id(ctx))
    return running if running is not None and running.ctx is ctx else None


def keeps_time_itself(ctx: BotContext) -> bool:
    """Whether APScheduler may fire jobs on its own: only when the bot's clock is the machine's."""
    return isinstance(ctx.clock, SystemClock)


def job_context() -> BotContext:
    """The context of the scheduler running the current job (only valid inside a job)."""
    return _current.get().ctx


async def start_scheduler(
    ctx: BotContext, *, reconcile: Sequence[Reconcile], still_leader: Callable[[], bool]
) -> bool:
    """Start the scheduler paused, let each feature's ``reconcile`` arm its jobs from the database, then run.

    ``still_leader`` is asked just before each job runs: a replica that lost
    leadership since the job fell due leaves it to the new leader.

    Returns False (and does nothing) when this context already runs a scheduler.
    """
    if _of(ctx) is not None:
        log.warning("this bot already runs a scheduler; not starting another")
        return False
    chatty = logging.getLogger("apscheduler")
    if chatty.level == logging.NOTSET:
        # APScheduler logs every job added and run at INFO: thousands of lines an hour with
        # many open incidents. Its warnings and errors still show; an operator's level wins.
        chatty.setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    executor = _LoopExecutor(ctx, loop, MAX_RUNNING, still_leader)
    store = MemoryJobStore()
    scheduler = AsyncIOScheduler(
        event_loop=loop,
        timezone=UTC,
        jobstores={"default": store},
        executors={"default": executor},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 4},
    )
    running = _Running(ctx=ctx, scheduler=scheduler, executor=executor, store=store)
    _running[id(ctx)] = running
    try:
        scheduler.start(paused=True)
        for step in reconcile:
            await step(ctx)
        if keeps_time_itself(ctx):
            scheduler.resume()
    except BaseException:
        await _close(running)
        raise
    log.info("scheduler started")
    return True


async def stop_scheduler(ctx: BotContext) -> None:
    """Stop the scheduler this context started (a no-op otherwise)."""
    running = _of(ctx)
    if running is not None:
        await _close(running)
        log.info("scheduler stopped")


async def _close(running: _Running) -> None:
    """Stop taking jobs, let running ones finish for a moment, then shut the scheduler down."""
    try:
        if running.scheduler.running:
            running.scheduler.pause()
            await running.executor.finish(STOP_GRACE_SECONDS)
            running.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
    finally:
        _running.pop(id(running.ctx), None)


def schedule(ctx: BotContext, job_id: str, func: JobFunction, run_at: datetime, *ids: int) -> None:
    """Run ``func(*ids)`` at ``run_at`` (at once if that has passed), replacing any job of that id.

    Without a running scheduler this does nothing: callers keep the truth in
    their own tables and the reconcilers arm the jobs from it when a scheduler starts.
    """
    running = _of(ctx)
    if running is not None:
        running.scheduler.add_job(func, trigger="date", run_date=run_at, args=ids, id=job_id, name=job_id,
                                  replace_existing=True)


def unschedule(ctx: BotContext, job_id: str) -> None:
    """Remove a job if it exists."""
    running = _of(ctx)
    if running is not None:
        try:
            running.scheduler.remove_job(job_id)
        except JobLookupError:
            pass


def scheduled(ctx: BotContext, prefix: str = "") -> dict[str, ScheduledJob]:
    """The jobs whose id starts with ``prefix``: when each runs and with which ids."""
    running = _of(ctx)
    if running is None:
        return {}
    return {job.id: ScheduledJob(run_at=job.next_run_time, args=tuple(job.args))
            for job in running.store.get_all_jobs() if job.id.startswith(prefix)}


async def run_due_jobs(ctx: BotContext) -> int:
    """Run every job due at ``ctx.clock.now()`` now, as the scheduler's timer would; how many ran.

    For a bot whose clock is moved by hand (see the module docstring). Each due
    job goes to the scheduler's own executor and leaves the job store, as the
    scheduler does with a one-shot job; this returns once the jobs have
    finished. Jobs those runs arm for a time already reached
    run too, a few rounds deep.
    """
    running = _of(ctx)
    if running is None:
        return 0
    ran = 0
    for _ in range(MAX_ROUNDS):
        due = running.store.get_due_jobs(ctx.clock.now())
        if not due:
            break
        for job in due:
            running.executor.submit_job(job, [job.next_run_time])
            unschedule(ctx, job.id)
        ran += len(due)
        await running.executor.settle()
    return ran
