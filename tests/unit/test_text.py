"""User text is escaped so it can never mention, broadcast or link by surprise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.mrkdwn import neutralise, truncate, unescape


@pytest.mark.parametrize(
    "text",
    ["@channel now", "@here!", "@everyone", "<!channel>", "<!here>", "<!everyone>", "<!subteam^S0ABC>",
     "<@U0ALICE>", "<#C0123|general>", "<https://evil.example|click>", "@Channel and @HERE"],
)
def test_special_sequences_are_neutralised(text: str) -> None:
    safe = neutralise(text)
    assert "<" not in safe and ">" not in safe
    for word in ("@channel", "@here", "@everyone"):
        assert word not in safe.lower()


def test_plain_text_reads_the_same() -> None:
    assert neutralise("Checkout API returning 500s") == "Checkout API returning 500s"
    assert neutralise("a & b") == "a &amp; b"


@given(st.text())
def test_no_input_survives_as_markup(text: str) -> None:
    safe = neutralise(text)
    assert "<" not in safe and ">" not in safe
    assert "@channel" not in safe.lower() and "@here" not in safe.lower() and "@everyone" not in safe.lower()


def test_truncate_marks_the_cut() -> None:
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("abc", 4) == "abc"


def test_slack_escaping_is_undone_once_for_text_kept_as_data() -> None:
    assert unescape("R&amp;D &lt;b&gt; &amp;amp;") == "R&D <b> &amp;"
    assert neutralise(unescape("fish &amp; chips")) == "fish &amp; chips"
