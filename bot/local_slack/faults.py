"""Fault injection: the failures a real Slack produces, on demand.

Retries, backoff and idempotency can only be tested when Slack misbehaves at a chosen
moment: an error answer, HTTP 429 with Retry-After, a slow answer, a dropped socket.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

RATE_WINDOW_SECONDS = 60.0


@dataclass
class Fault:
    """An HTTP answer given instead of running the method."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Drop(Enum):
    """When the stub closes a call's connection without answering."""

    BEFORE_EFFECT = "before_effect"
    """The call is not performed: sending it again is safe."""
    AFTER_EFFECT = "after_effect"
    """The call is performed, only the answer is lost: sending it again repeats it."""


def ratelimited(retry_after: int) -> Fault:
    """Slack's rate-limit answer: 429, integer Retry-After, `ratelimited`."""
    return Fault(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})


class Faults:
    """Per-method plans of failures, consumed as calls arrive."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._queued: dict[str, deque[Fault]] = defaultdict(deque)
        self._drops: dict[str, deque[Drop]] = defaultdict(deque)
        self._limits: dict[str, int] = {}
        self._admitted: dict[str, deque[float]] = defaultdict(deque)
        self._latency: dict[str | None, float] = {}
        self._latency_skip: dict[str | None, int] = {}

    def fail_next(self, method: str, error: str, *, times: int, status: int, headers: dict[str, str] | None) -> None:
        """Queue `times` error answers for the method."""
        fault = Fault(status, {"ok": False, "error": error}, dict(headers or {}))
        self._queued[method].extend(fault for _ in range(times))

    def ratelimit_next(self, method: str, *, retry_after: int, times: int) -> None:
        """Queue `times` 429 answers for the method."""
        self._queued[method].extend(ratelimited(retry_after) for _ in range(times))

    def rate_limit(self, method: str, *, per_minute: int) -> None:
        """Allow at most `per_minute` calls in any 60-second window."""
        self._limits[method] = per_minute
        self._admitted[method].clear()

    def set_latency(self, seconds: float, method: str | None, *, after_calls: int = 0) -> None:
        """Delay answers of one method (or all when `method` is None), sparing the next `after_calls`."""
        self._latency[method] = seconds
        self._latency_skip[method] = after_calls

    def drop_connection_next(self, method: str, times: int, *, after_effect: bool = False) -> None:
        """Close the socket, unanswered, on the next `times` calls (after performing them if asked)."""
        drop = Drop.AFTER_EFFECT if after_effect else Drop.BEFORE_EFFECT
        self._drops[method].extend(drop for _ in range(times))

    def take_drop(self, method: str) -> Drop | None:
        """How this call's connection should be dropped (one fewer planned), or None to answer it."""
        planned = self._drops[method]
        return planned.popleft() if planned else None

    def latency(self, method: str) -> float:
        """Seconds to wait before answering this call (consumes one spared call, if any)."""
        key: str | None = method if method in self._latency else None
        if key not in self._latency:
            return 0.0
        if self._latency_skip.get(key, 0) > 0:
            self._latency_skip[key] -= 1
            return 0.0
        return self._latency[key]

    def take_fault(self, method: str) -> Fault | None:
        """The planned failure for this call, if any; otherwise admit it under its limit."""
        queued = self._queued[method]
        if queued:
            return queued.popleft()
        limit = self._limits.get(method)
        if limit is None:
            return None
        now = self._clock()
        admitted = self._admitted[method]
        while admitted and now - admitted[0] >= RATE_WINDOW_SECONDS:
            admitted.popleft()
        if len(admitted) >= limit:
            frees_at = admitted[0] + RATE_WINDOW_SECONDS if admitted else now + RATE_WINDOW_SECONDS
            return ratelimited(max(1, math.ceil(frees_at - now)))
        admitted.append(now)
        return None
