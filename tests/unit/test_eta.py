"""The ETA of a status update, as responders type it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.status.eta import EtaPassed, parse_eta

NOW = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
"""13:00 in Berlin."""
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("text", "expected"), [
    ("45m", NOW + timedelta(minutes=45)),
    ("1 hour", NOW + timedelta(hours=1)),
    ("2 hours", NOW + timedelta(hours=2)),
    ("30 minutes", NOW + timedelta(minutes=30)),
    ("in 90 min", NOW + timedelta(minutes=90)),
    ("In an hour", NOW + timedelta(hours=1)),
    ("1h30m", NOW + timedelta(hours=1, minutes=30)),
    ("in 1h 30m", NOW + timedelta(hours=1, minutes=30)),
    ("1 hour and 15 minutes", NOW + timedelta(hours=1, minutes=15)),
    ("2 days", NOW + timedelta(days=2)),
    ("14:30", datetime(2030, 1, 31, 14, 30, tzinfo=BERLIN)),
    ("at 14:30", datetime(2030, 1, 31, 14, 30, tzinfo=BERLIN)),
    ("12:30", datetime(2030, 2, 1, 12, 30, tzinfo=BERLIN)),
    ("2pm", datetime(2030, 1, 31, 14, 0, tzinfo=BERLIN)),
    ("2 PM", datetime(2030, 1, 31, 14, 0, tzinfo=BERLIN)),
    ("tomorrow 9am", datetime(2030, 2, 1, 9, 0, tzinfo=BERLIN)),
    ("tomorrow 09:00", datetime(2030, 2, 1, 9, 0, tzinfo=BERLIN)),
    ("today 18:00", datetime(2030, 1, 31, 18, 0, tzinfo=BERLIN)),
    ("EOD", datetime(2030, 1, 31, 17, 0, tzinfo=BERLIN)),
    ("end of day", datetime(2030, 1, 31, 17, 0, tzinfo=BERLIN)),
    ("by end of the day", datetime(2030, 1, 31, 17, 0, tzinfo=BERLIN)),
    ("2030-02-03 08:15", datetime(2030, 2, 3, 8, 15, tzinfo=BERLIN)),
    ("2030-02-03T08:15Z", datetime(2030, 2, 3, 8, 15, tzinfo=UTC)),
])
def test_times_durations_and_the_end_of_the_day_name_a_moment(text: str, expected: datetime) -> None:
    assert parse_eta(text, now=NOW, tz=BERLIN) == expected


def test_eod_after_the_working_day_is_the_end_of_today() -> None:
    evening = datetime(2030, 1, 31, 18, 30, tzinfo=UTC)  # 19:30 in Berlin
    assert parse_eta("EOD", now=evening, tz=BERLIN) == datetime(2030, 1, 31, 23, 59, tzinfo=BERLIN)


@pytest.mark.parametrize("text", ["", "   ", "after the rollback", "unknown", "TBD", "soon", "tomorrow",
                                  "when the vendor answers", "9", "25:00", "13pm", "2030-01-31",
                                  "in forever", "1 month"])
def test_anything_else_names_no_moment_and_is_kept_as_written(text: str) -> None:
    assert parse_eta(text, now=NOW, tz=BERLIN) is None


@pytest.mark.parametrize("text", ["today 10:00", "2029-12-31 10:00", "2030-01-31T11:00Z", "0m"])
def test_a_moment_already_past_is_refused_saying_when_it_was(text: str) -> None:
    with pytest.raises(EtaPassed) as refused:
        parse_eta(text, now=NOW, tz=BERLIN)
    assert "already past" in str(refused.value) and "Europe/Berlin" in str(refused.value)
