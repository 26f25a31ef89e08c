"""Follow-up work: how long a failed piece waits, which failures are tried again, what people read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.consequences.kinds import DESCRIPTIONS, KEEP_TRYING, Work, describe
from bot.consequences.performers import PERFORMERS
from bot.consequences.worker import BACKOFF_MAX, backoff
from bot.errors import SlackCallFailed


def test_backoff_doubles_from_one_second_up_to_ten_minutes() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 6)] == [1, 2, 4, 8, 16]
    assert backoff(30) == BACKOFF_MAX == timedelta(minutes=10)


@pytest.mark.parametrize("error", ["ratelimited", "internal_error", "service_unavailable", "timeout",
                                   "connection_failed"])
def test_outages_are_tried_again(error: str) -> None:
    assert SlackCallFailed("chat.postMessage", error).transient


@pytest.mark.parametrize("error", ["channel_not_found", "missing_scope", "invalid_blocks", "is_archived"])
def test_refusals_are_final(error: str) -> None:
    failure = SlackCallFailed("chat.postMessage", error)
    assert not failure.transient
    assert failure.reason == f"Slack refused chat.postMessage: {error}"


def test_every_kind_has_a_performer_and_words_for_people() -> None:
    assert set(PERFORMERS) == {kind.value for kind in Work}
    assert set(DESCRIPTIONS) == set(Work)
    assert describe(Work.REFRESH_SUMMARY.value) == "Refreshing the pinned summary"
    assert describe("something.retired") == "something.retired"


def test_a_declare_keeps_trying_what_it_cannot_do_without() -> None:
    assert Work.CREATE_CHANNEL in KEEP_TRYING and Work.POST_SUMMARY in KEEP_TRYING
    assert Work.POST_IN_CHANNEL not in KEEP_TRYING
