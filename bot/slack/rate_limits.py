"""Slack's rate limits, shared by every Web API call the process makes.

When Slack answers 429 with ``Retry-After``, it is asking the whole app to
leave that method alone for a while, not only the call that got the answer.
:class:`RateLimitHolds` remembers, per method (and per channel for
``chat.postMessage``, whose limit is about one message a second per channel),
the moment calls may resume; the gateway waits on it before every call.

Waiting uses the monotonic clock, never the bot's business clock: this is
about the transport, and a test's frozen clock must not freeze Slack traffic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

PER_CHANNEL_METHODS = frozenset({"chat.postMessage"})
"""Methods Slack limits per channel rather than per workspace."""


@dataclass(frozen=True, slots=True)
class CallKey:
    """What one rate limit covers: a method, and for per-channel methods a channel."""

    method: str
    channel: str | None = None

    @classmethod
    def for_call(cls, method: str, channel: str | None) -> CallKey:
        """The key a call to ``method`` in ``channel`` is limited under."""
        return cls(method, channel if method in PER_CHANNEL_METHODS else None)


class RateLimitHolds:
    """Per-key "not before" times set by 429 answers, and one-at-a-time posting per channel.

    Posts to one channel go out one after another: a 429 for a channel is
    then heard before the next post to it leaves, so no post lands inside a
    Retry-After window that another post already received. Other methods run
    side by side and only wait out holds.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._not_before: dict[CallKey, float] = {}
        self._turns: dict[CallKey, asyncio.Lock] = {}
        self._queued: dict[CallKey, int] = {}

    def hold(self, key: CallKey, seconds: float) -> None:
        """Keep calls under ``key`` back for ``seconds`` from now (an earlier, longer hold stands)."""
        until = self._clock() + seconds
        self._not_before[key] = max(until, self._not_before.get(key, until))

    def remaining(self, key: CallKey) -> float:
        """Seconds until calls under ``key`` may go out again; 0 when they may now."""
        until = self._not_before.get(key)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._not_before[key]
            return 0.0
        return left

    async def wait(self, key: CallKey) -> None:
        """Return once no hold covers ``key``, however often it is extended meanwhile."""
        while (left := self.remaining(key)) > 0:
            await asyncio.sleep(left)

    @asynccontextmanager
    async def turn(self, key: CallKey) -> AsyncIterator[None]:
        """The right to send one call under ``key``: after any hold, and alone in its channel."""
        if key.channel is None:
            await self.wait(key)
            yield
            return
        lock = self._turns.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:
                await self.wait(key)
                yield
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key], self._turns[key]
