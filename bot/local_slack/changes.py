"""A revision number that grows with every change to the workspace, and a way to wait for the next one.

Slack pushes changes to its clients; the playground's page long-polls instead, so it
needs to sleep until something happened rather than re-read the workspace on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib


class Changes:
    """Counts changes and wakes whoever waits for one."""

    def __init__(self) -> None:
        self.revision = 0
        self._next = asyncio.Event()

    def note(self) -> None:
        """Something may have changed: bump the revision and wake the waiters."""
        self.revision += 1
        self._next.set()
        self._next = asyncio.Event()

    async def after(self, seen: int, timeout: float) -> int:
        """The revision as soon as it differs from `seen`, or after `timeout` seconds at the latest."""
        if self.revision == seen:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._next.wait(), timeout)
        return self.revision
