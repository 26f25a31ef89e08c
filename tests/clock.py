"""A clock for tests: it stands still until the test moves it.

Start a bot with one (the ``bot_clock`` fixture, or ``start_bot(..., clock=FakeClock())``)
and let time pass with ``await bot.advance(timedelta(minutes=30))``: the bot's
scheduled jobs run as their times come (see :meth:`tests.support.RunningBot.advance`).
``clock.advance`` alone moves the time and runs nothing, for a bot that is stopped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Tells the time it was set to; starts at the real time, to the second, unless told otherwise."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        """Move to ``at``; time never goes backwards."""
        if at < self._now:
            raise ValueError(f"the clock cannot go back from {self._now} to {at}")
        self._now = at

    def advance(self, by: timedelta) -> None:
        self.set(self._now + by)
