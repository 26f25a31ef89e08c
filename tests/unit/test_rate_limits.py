"""Rate-limit holds: what a 429 covers, how long it lasts, and one post at a time per channel."""

from __future__ import annotations

import asyncio

from bot.slack.rate_limits import CallKey, RateLimitHolds
from bot.slack.transport import web_api_method


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_posts_are_limited_per_channel_and_other_methods_per_workspace() -> None:
    assert CallKey.for_call("chat.postMessage", "C0STATUS") == CallKey("chat.postMessage", "C0STATUS")
    assert CallKey.for_call("chat.update", "C0STATUS") == CallKey("chat.update")
    assert CallKey.for_call("conversations.create", None) == CallKey("conversations.create")


def test_a_hold_lasts_retry_after_and_a_shorter_later_one_does_not_cut_it() -> None:
    clock = ManualClock()
    holds = RateLimitHolds(clock=clock)
    posts = CallKey("chat.postMessage", "C0STATUS")

    holds.hold(posts, 30)
    clock.now += 10
    holds.hold(posts, 5)

    assert holds.remaining(posts) == 20
    assert holds.remaining(CallKey("chat.postMessage", "C0OTHER")) == 0
    clock.now += 20
    assert holds.remaining(posts) == 0


def test_a_longer_later_hold_extends_it() -> None:
    clock = ManualClock()
    holds = RateLimitHolds(clock=clock)
    key = CallKey("users.info")

    holds.hold(key, 1)
    holds.hold(key, 60)

    assert holds.remaining(key) == 60


async def test_posts_to_one_channel_take_turns_and_other_channels_do_not_wait() -> None:
    holds = RateLimitHolds()
    status, general = CallKey("chat.postMessage", "C0STATUS"), CallKey("chat.postMessage", "C0GENERAL")
    release_first = asyncio.Event()
    entered: list[str] = []

    async def post(name: str, key: CallKey, until: asyncio.Event | None = None) -> None:
        async with holds.turn(key):
            entered.append(name)
            if until is not None:
                await until.wait()

    first = asyncio.create_task(post("first", status, release_first))
    second = asyncio.create_task(post("second", status))
    await asyncio.wait_for(post("elsewhere", general), timeout=1)
    assert entered == ["first", "elsewhere"]

    release_first.set()
    await asyncio.wait_for(asyncio.gather(first, second), timeout=1)
    assert entered == ["first", "elsewhere", "second"]


def test_the_web_api_method_is_read_from_the_url() -> None:
    assert web_api_method("https://slack.com/api/chat.postMessage") == "chat.postMessage"
    assert web_api_method("http://127.0.0.1:5000/api/conversations.history?limit=1") == "conversations.history"
    assert web_api_method("https://files.slack.com/upload/v1/ABC") is None
    assert web_api_method("https://hooks.slack.com/commands/T0/1/abc") is None
