"""Reading the *ETA* of a status update the way a responder types it mid-incident.

A moment, a duration from now or the end of the working day becomes a time
that each reader sees in their own zone; anything else ("after the rollback",
"unknown") is an answer too and is kept as written. Blocking the form over
wording would cost the responder time the incident does not have, so the one
thing refused is a moment already past: that is almost always a slip worth
pointing out.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

END_OF_WORKING_DAY = time(17, 0)
"""What "EOD" means while the working day lasts, in the configured zone."""
END_OF_CALENDAR_DAY = time(23, 59)
"""What "EOD" means once the working day is over: still today."""

_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}
_AMOUNT = r"(?:\d+|(?<![a-z])an?(?=\s))"
"""A number, or "a"/"an" as a word of its own ("an hour")."""
_UNIT = "|".join(sorted(_UNIT_SECONDS, key=len, reverse=True))
_PART = re.compile(rf"({_AMOUNT})\s*({_UNIT})(?![a-z])", re.IGNORECASE)
_DURATION = re.compile(rf"(?:in\s+)?{_AMOUNT}\s*(?:{_UNIT})(?:\s*(?:,|and)?\s*{_AMOUNT}\s*(?:{_UNIT}))*",
                       re.IGNORECASE)
_LEAD = re.compile(r"^(?:by|at|around|~)\s*", re.IGNORECASE)
_CLOCK = re.compile(r"(?:(?P<day>today|tomorrow)\s+)?(?:at\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*"
                    r"(?P<half>am|pm)?", re.IGNORECASE)
_END_OF_DAY = frozenset({"eod", "end of day", "end of the day", "cob", "close of business"})


class EtaPassed(ValueError):
    """The ETA names a moment that is not still to come; the message says which, in the configured zone."""


def parse_eta(text: str, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment ``text`` names, or None when it names none (it is then kept as written).

    Understood: a duration from now ("45m", "1 hour", "in 90 min", "1h30m"),
    a clock time in ``tz`` ("14:30", "2pm": today, or tomorrow once passed;
    "today" or "tomorrow" may be said, as in "tomorrow 9am"), a date and time
    ("2030-01-31 14:30" in ``tz``, or ISO 8601 with its own zone), and "EOD"
    or "end of day". A moment that is not after ``now`` raises :class:`EtaPassed`.
    """
    cleaned = " ".join(text.split())
    if not cleaned:
        return None
    moment = _after(cleaned, now) or _end_of_day(cleaned, now, tz) or _clock_time(cleaned, now, tz) \
        or _date_time(cleaned, tz)
    if moment is not None and moment <= now:
        shown = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        raise EtaPassed(f"“{cleaned}” is already past ({shown} {tz.key}). Give a time still to come, "
                        "or say it in words, e.g. “after the rollback”.")
    return moment


def _after(text: str, now: datetime) -> datetime | None:
    if _DURATION.fullmatch(text) is None:
        return None
    seconds = sum((1 if amount.lower() in ("a", "an") else int(amount)) * _UNIT_SECONDS[unit.lower()]
                  for amount, unit in _PART.findall(text))
    try:
        return now + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _end_of_day(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    if _LEAD.sub("", text).lower() not in _END_OF_DAY:
        return None
    today = now.astimezone(tz).date()
    working = datetime.combine(today, END_OF_WORKING_DAY, tzinfo=tz)
    return working if working > now else datetime.combine(today, END_OF_CALENDAR_DAY, tzinfo=tz)


def _clock_time(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    match = _CLOCK.fullmatch(_LEAD.sub("", text))
    if match is None or (match["minute"] is None and match["half"] is None):
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["half"].lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    local_now = now.astimezone(tz)
    said_day = (match["day"] or "").lower()
    day = local_now.date() + timedelta(days=1 if said_day == "tomorrow" else 0)
    moment = datetime.combine(day, time(hour, minute), tzinfo=tz)
    if not said_day and moment <= local_now:
        moment += timedelta(days=1)
    return moment


def _date_time(text: str, tz: ZoneInfo) -> datetime | None:
    if ":" not in text:
        return None
    try:
        moment = datetime.fromisoformat(_LEAD.sub("", text))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
