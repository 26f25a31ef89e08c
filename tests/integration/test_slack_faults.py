"""The real gateway against a misbehaving local Slack: lost answers, broken connections, 429s.

The gateway's retry waits are shortened (``backoff``); Retry-After is Slack's
own one second, so the rate-limit tests take about that long.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.errors import SlackCallFailed
from bot.local_slack.server import DROPPED, DROPPED_AFTER_EFFECT, Call, FakeSlack
from bot.slack.gateway import POST_KEY_EVENT, SlackGateway
from bot.slack.rate_limits import CallKey
from tests.support import ALICE, BOB, BOT_TOKEN, free_port

STATUS_MARKER = {"event_type": "incident_status_post", "event_payload": {"draft_id": 7}}


@pytest.fixture
async def gateway(slack: FakeSlack) -> AsyncIterator[SlackGateway]:
    opened = SlackGateway(token=BOT_TOKEN, base_url=slack.api_url, timeout=0.3, backoff=0.01)
    await opened.open()
    yield opened
    await opened.close()


def channel_id(slack: FakeSlack, name: str) -> str:
    channel = slack.channel_by_name(name)
    assert channel is not None
    return channel.id


def outcomes(calls: list[Call]) -> list[str]:
    return ["ok" if call.ok else str(call.response.get("error")) for call in calls]


async def until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until the condition holds (at most a few seconds)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


# lost answers -------------------------------------------------------------------------


@pytest.mark.parametrize("metadata", [STATUS_MARKER, None], ids=["caller_metadata", "post_key"])
async def test_a_post_whose_answer_was_lost_after_slack_stored_it_appears_once(
    slack: FakeSlack, gateway: SlackGateway, metadata: dict[str, Any] | None
) -> None:
    status = channel_id(slack, "status")
    slack.drop_connection_next("chat.postMessage", after_effect=True)

    posted = await gateway.post_message(status, text="Checkout is back to normal", metadata=metadata)

    stored = [m for m in slack.messages_in(status) if m.text == "Checkout is back to normal"]
    assert [m.ts for m in stored] == [posted.ts]
    assert outcomes(slack.calls_to("chat.postMessage")) == [DROPPED_AFTER_EFFECT]
    assert stored[0].metadata is not None
    expected_type = POST_KEY_EVENT if metadata is None else metadata["event_type"]
    assert stored[0].metadata["event_type"] == expected_type


async def test_a_thread_reply_whose_answer_was_lost_is_found_in_its_thread(
    slack: FakeSlack, gateway: SlackGateway
) -> None:
    status = channel_id(slack, "status")
    parent = await gateway.post_message(status, text="Draft status update")
    slack.drop_connection_next("chat.postMessage", after_effect=True)

    reply = await gateway.post_message(status, text="Approved by alice", thread_ts=parent.ts)

    replies = [m for m in slack.messages_in(status) if m.text == "Approved by alice"]
    assert [m.ts for m in replies] == [reply.ts]
    assert slack.calls_to("conversations.replies")


async def test_a_post_dropped_before_it_took_effect_is_posted_once(slack: FakeSlack, gateway: SlackGateway) -> None:
    status = channel_id(slack, "status")
    slack.drop_connection_next("chat.postMessage")

    posted = await gateway.post_message(status, text="Investigating elevated errors", metadata=STATUS_MARKER)

    stored = [m for m in slack.messages_in(status) if m.text == "Investigating elevated errors"]
    assert [m.ts for m in stored] == [posted.ts]
    assert outcomes(slack.calls_to("chat.postMessage")) == [DROPPED, "ok"]
    looked_before_posting_again = [c.method for c in slack.calls][-2:]
    assert looked_before_posting_again == ["conversations.history", "chat.postMessage"]


# failures that outlast the retries -------------------------------------------------------


async def test_a_dropped_connection_that_outlasts_the_retries_is_a_slack_failure(
    slack: FakeSlack, gateway: SlackGateway
) -> None:
    status = channel_id(slack, "status")
    posted = await gateway.post_message(status, text="Identified")
    slack.drop_connection_next("chat.update", times=4)

    with pytest.raises(SlackCallFailed) as failed:
        await gateway.update_message(status, posted.ts, text="Monitoring")

    assert (failed.value.method, failed.value.error, failed.value.transient) == ("chat.update", "connection_lost", True)
    assert outcomes(slack.calls_to("chat.update")) == [DROPPED] * 4


async def test_a_post_whose_connection_keeps_dropping_fails_without_posting(
    slack: FakeSlack, gateway: SlackGateway
) -> None:
    status = channel_id(slack, "status")
    slack.drop_connection_next("chat.postMessage", times=4)

    with pytest.raises(SlackCallFailed) as failed:
        await gateway.post_message(status, text="Never lands")

    assert (failed.value.method, failed.value.error) == ("chat.postMessage", "connection_lost")
    assert outcomes(slack.calls_to("chat.postMessage")) == [DROPPED] * 4
    assert len(slack.calls_to("conversations.history")) == 3
    assert not [m for m in slack.messages_in(status) if m.text == "Never lands"]


async def test_an_unreachable_slack_is_a_slack_failure() -> None:
    nowhere = SlackGateway(token=BOT_TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api/", backoff=0.01)
    await nowhere.open()
    try:
        with pytest.raises(SlackCallFailed) as failed:
            await nowhere.identity()
        with pytest.raises(SlackCallFailed) as answer_failed:
            await nowhere.respond(f"http://127.0.0.1:{free_port()}/response/R1", text="Declared")
    finally:
        await nowhere.close()
    assert (failed.value.method, failed.value.error) == ("auth.test", "connection_failed")
    assert (answer_failed.value.method, answer_failed.value.error) == ("response_url", "connection_failed")


async def test_a_slack_that_answers_too_late_is_a_timeout(slack: FakeSlack, gateway: SlackGateway) -> None:
    slack.set_latency(1.0, "users.info")

    with pytest.raises(SlackCallFailed) as failed:
        await gateway.user_info(ALICE)

    assert (failed.value.method, failed.value.error) == ("users.info", "timeout")
    assert len(slack.calls_to("users.info")) == 4


# rate limits ---------------------------------------------------------------------------


async def test_a_429_holds_back_every_post_to_that_channel_but_not_to_others(
    slack: FakeSlack, gateway: SlackGateway
) -> None:
    announcements = channel_id(slack, "incidents")
    general = channel_id(slack, "general")
    slack.ratelimit_next("chat.postMessage", retry_after=1)

    declares = [
        asyncio.create_task(gateway.post_message(announcements, text=f"Incident {n} declared")) for n in range(12)
    ]
    refused = (await slack.wait_for("chat.postMessage", where=lambda c: c.status == 429))[0]
    elsewhere = await gateway.post_message(general, text="Meanwhile in general")
    await asyncio.gather(*declares)

    window_ends = refused.at + 1
    to_announcements = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == announcements]
    inside_window = [c for c in to_announcements if c is not refused and c.at < window_ends]
    assert inside_window == [], slack.describe_calls()
    assert outcomes(to_announcements) == ["ratelimited"] + ["ok"] * 12
    texts = sorted(m.text for m in slack.messages_in(announcements) if m.text.endswith("declared"))
    assert texts == sorted(f"Incident {n} declared" for n in range(12))
    to_general = next(c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == general)
    assert to_general.response["ts"] == elsewhere.ts and to_general.at < window_ends


async def test_a_429_holds_back_that_method_for_all_work_not_only_the_refused_call(
    slack: FakeSlack, gateway: SlackGateway
) -> None:
    slack.ratelimit_next("users.info", retry_after=1)

    first = asyncio.create_task(gateway.user_info(ALICE))
    await until(lambda: gateway.holds.remaining(CallKey("users.info")) > 0)
    await gateway.identity()
    second = await gateway.user_info(BOB)
    await first

    refused, *admitted = slack.calls_to("users.info")
    assert refused.status == 429 and second["id"] == BOB
    assert len(admitted) == 2 and all(c.at >= refused.at + 1 for c in admitted), slack.describe_calls()
    assert slack.calls_to("auth.test")[0].at < refused.at + 1
