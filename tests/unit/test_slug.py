"""Channel names built from incident titles always satisfy Slack's naming rules."""

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.incidents.slug import channel_name, slugify

DAY = date(2025, 3, 7)
SLACK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Database is down", "database-is-down"),
        ("  API: 500s on /checkout!!  ", "api-500s-on-checkout"),
        ("Café — élan", "cafe-elan"),
        ("Привет мир", "privet-mir"),
        ("支付 服务", "zhifu-fuwu"),
        ("under_score and-hyphen", "under-score-and-hyphen"),
        ("🔥 Fire in prod 🔥", "fire-in-prod"),
        ("🔥🚒👨‍👩‍👧🇩🇪🏴󠁧󠁢󠁥󠁮󠁧󠁿", "incident"),
        ("!!!", "incident"),
        ("", "incident"),
        ("€100 lost", "100-lost"),
        ("zero\u200bwidth", "zerowidth"),
    ],
)
def test_slugify_folds_to_lowercase_ascii_words(title: str, expected: str) -> None:
    assert slugify(title, 80) == expected


def test_slugify_cuts_at_a_word_boundary() -> None:
    assert slugify("alpha beta gamma", 12) == "alpha-beta"
    assert slugify("alpha beta gamma", 10) == "alpha-beta"
    assert slugify("alpha beta gamma", 11) == "alpha-beta"
    assert slugify("alpha beta gamma", 9) == "alpha"


def test_slugify_hard_cuts_a_single_overlong_word() -> None:
    assert slugify("supercalifragilistic outage", 5) == "super"
    assert slugify("", 3) == "inc"


def test_slugify_refuses_no_room() -> None:
    with pytest.raises(ValueError):
        slugify("x", 0)


def test_channel_name_shape() -> None:
    assert channel_name("Database is down", day=DAY) == "inc-20250307-database-is-down"
    assert channel_name("DB down", day=DAY, prefix="ops", suffix=2) == "ops-20250307-db-down-2"
    assert channel_name("🔥", day=DAY, suffix=17) == "inc-20250307-incident-17"


def test_long_title_leaves_room_for_a_two_digit_suffix() -> None:
    title = " ".join(["abc"] * 40)
    first = channel_name(title, day=DAY)
    assert first == "inc-20250307-" + "-".join(["abc"] * 16)
    retry = channel_name(title, day=DAY, suffix=99)
    assert len(first) <= 77
    assert retry == first + "-99"
    assert len(retry) <= 80
    assert not first.endswith("-")


def test_long_first_word_is_hard_cut() -> None:
    assert channel_name("x" * 200, day=DAY) == "inc-20250307-" + "x" * 64
    name = channel_name("x" * 200, day=DAY, suffix=42)
    assert name == "inc-20250307-" + "x" * 64 + "-42"
    assert len(name) == 80


def test_suffix_beyond_99_still_fits() -> None:
    name = channel_name("x" * 200, day=DAY, suffix=1234)
    assert len(name) == 80
    assert name.endswith("x-1234")


@pytest.mark.parametrize("suffix", [0, 1, -3])
def test_suffix_starts_at_two(suffix: int) -> None:
    with pytest.raises(ValueError):
        channel_name("x", day=DAY, suffix=suffix)


@given(
    title=st.text(max_size=300),
    suffix=st.one_of(st.none(), st.integers(min_value=2, max_value=99)),
    day=st.dates(min_value=date(1000, 1, 1)),
)
def test_any_title_gives_a_valid_slack_name(title: str, suffix: int | None, day: date) -> None:
    name = channel_name(title, day=day, suffix=suffix)
    assert SLACK_NAME.fullmatch(name), name
    assert len(name) <= 80
    assert not name.endswith("-")
    assert "--" not in name


@given(title=st.text(max_size=300), max_length=st.integers(min_value=1, max_value=100))
def test_any_title_gives_a_clean_slug(title: str, max_length: int) -> None:
    slug = slugify(title, max_length)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug
    assert 1 <= len(slug) <= max_length
