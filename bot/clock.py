"""The bot's one source of "now", so tests can move time instead of waiting for it.

Every decision that depends on the time (reminders falling due, escalations, snoozes,
follow-ups, archiving, metrics, leases, retry backoff) asks ``ctx.clock.now()``.
The running bot uses :class:`SystemClock`; tests pass a clock they advance themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the current time, aware and in UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)
