"""Durations as operators write them ("90s", "15m", "1h30m", "2d") and as responders read them.

Config files and reminders speak in short unit strings rather than ISO 8601 because that is
how SRE playbooks state cadences and SLA targets ("every 15m", "resolve within 4h").
"""

import re
from datetime import timedelta

_UNIT_SECONDS: dict[str, int] = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}

# Units must come largest first and at most once, so "1h30m" is accepted but "30m1h" and
# "1m1m" are not: either would almost certainly be a typo for something else.
_DURATION = re.compile(
    r"(?:(?P<d>\d+)d)?\s*(?:(?P<h>\d+)h)?\s*(?:(?P<m>\d+)m)?\s*(?:(?P<s>\d+)s)?",
    re.ASCII,
)

_EXAMPLES = 'e.g. "90s", "15m", "1h", "2d"'
_HINT = f"use a number followed by s, m, h or d, {_EXAMPLES}"


def parse_duration(text: str) -> timedelta:
    """Parse a positive duration such as "90s", "15m", "1h", "2d", "1h30m" or "1h 30m".

    Zero is refused because every duration in this product is a cadence, a deadline or a
    delay, and a zero cadence would re-fire a reminder in a tight loop.
    """
    stripped = text.strip()
    match = _DURATION.fullmatch(stripped)
    if not stripped or match is None:
        raise ValueError(f'"{text}" is not a duration; {_HINT}')
    seconds = sum(
        int(amount) * _UNIT_SECONDS[unit]
        for unit, amount in match.groupdict().items()
        if amount is not None
    )
    if seconds == 0:
        raise ValueError(f'"{text}" is zero; durations must be positive, {_EXAMPLES}')
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f'"{text}" is too long a duration') from None


def format_duration(td: timedelta) -> str:
    """Render a duration compactly for people: "45s", "15m", "1h 30m", "2d 3h".

    Every non-zero unit is shown, so the text is exact to the second and parses back with
    parse_duration; callers wanting a coarser figure round the timedelta first. Fractions
    of a second are dropped, and a negative duration is shown with a leading minus.
    """
    total = int(td.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    parts: list[str] = []
    for unit, size in _UNIT_SECONDS.items():
        amount, total = divmod(total, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + (" ".join(parts) if parts else "0s")
