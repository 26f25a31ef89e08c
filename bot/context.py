"""The objects every part of the bot shares, built once at start-up."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any
from uuid import uuid4
from dataclasses import dataclass, field

from bot.clock import Clock, SystemClock
from bot.config.settings import IncidentConfig, Settings
from bot.integrations.http import OutsideHttp
from bot.slack.gateway import SlackGateway
from bot.config.render import Renderer
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class BotContext:
    """Settings, configuration, database, Slack gateway, renderer and clock, passed explicitly."""

    settings: Settings
    config: IncidentConfig
    db: Database
    slack: SlackGateway
    render: Renderer
    clock: Clock = field(default_factory=SystemClock)
    incident_locks: defaultdict[int, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    summary_locks: defaultdict[int, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    """One refresh of an incident's summary at a time, so an older rendering never lands last."""
    background: set[asyncio.Task[None]] = field(default_factory=set)
    acknowledged: set[asyncio.Task[None]] = field(default_factory=set)
    worker_id: str = field(default_factory=lambda: uuid4().hex)
    scheduler_leader: bool = False
    work_ready: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when follow-up work was committed in this process, to wake the worker at once."""
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by a graceful stop: background loops end between their rounds instead of being cancelled."""
    http: OutsideHttp = field(default_factory=OutsideHttp)
    """The HTTP session shared by the outside services other than Slack (trackers, Confluence, PagerDuty)."""

    def spawn(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Run work in the background, keeping a reference so the task is not collected."""
        return self._start(coroutine, name, self.background)

    async def rest(self, seconds: float) -> bool:
        """A background loop's pause between rounds; True once the bot is stopping, to end the loop.

        A loop cancelled in the middle of a database call can leave SQLite's
        driver closing its connection for ever (aiosqlite 0.22), which hangs
        the event loop's shutdown; ending between rounds never does.
        """
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def after_ack(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run the rest of a request Slack has already been told about; a graceful stop waits for it."""
        self._start(coroutine, name, self.acknowledged)

    def _start(
        self, coroutine: Coroutine[Any, Any, None], name: str, tasks: set[asyncio.Task[None]]
    ) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def finish_acknowledged(self) -> None:
        """Wait for every request's remaining work (graceful stop)."""
        while self.acknowledged:
            await asyncio.gather(*list(self.acknowledged), return_exceptions=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.background.discard(task)
        self.acknowledged.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for every task to end (shutdown, once they have been cancelled)."""
        while self.background or self.acknowledged:
            await asyncio.gather(*self.background, *self.acknowledged, return_exceptions=True)
