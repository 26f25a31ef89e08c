"""Durations as operators type them and as responders read them."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("60m", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("  15m\n", timedelta(minutes=15)),
        ("0h15m", timedelta(minutes=15)),
    ],
)
def test_parse_accepts_unit_strings(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "15", "m", "15x", "-5m", "+5m", "1.5h", "15 m", "30m1h", "1m1m", "1w", "15M", "１５m", "15m junk"],
)
def test_parse_rejects_anything_else_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration; use a number followed by s, m, h"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0m", "0s", "0h0m"])
def test_parse_rejects_zero(text: str) -> None:
    with pytest.raises(ValueError, match="is zero; durations must be positive"):
        parse_duration(text)


def test_parse_rejects_absurdly_long() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_duration("99999999999d")


def test_error_message_quotes_the_input() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("15x")
    assert str(caught.value) == (
        '"15x" is not a duration; use a number followed by s, m, h or d, e.g. "90s", "15m", "1h", "2d"'
    )


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=1), "1h"),
        (timedelta(minutes=90), "1h 30m"),
        (timedelta(days=2, hours=3), "2d 3h"),
        (timedelta(seconds=90), "1m 30s"),
        (timedelta(days=1, seconds=1), "1d 1s"),
        (timedelta(0), "0s"),
        (timedelta(milliseconds=1500), "1s"),
        (timedelta(minutes=-5), "-5m"),
    ],
)
def test_format_for_humans(td: timedelta, expected: str) -> None:
    assert format_duration(td) == expected


@given(st.integers(min_value=1, max_value=10**9))
def test_format_parses_back(seconds: int) -> None:
    td = timedelta(seconds=seconds)
    assert parse_duration(format_duration(td)) == td
