"""Tests of the local Slack stand-in, driven by the real slack-sdk and slack-bolt.

If these pass, the stub answers the way our Web API client and Bolt expect, so the
integration tests built on it exercise the bot's real Slack code paths.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from bot.local_slack import DROPPED, FakeSlack
from bot.local_slack.blocks import message_block_errors, view_errors
from tests.local_slack_support import ALICE, BOB, BOT, MODAL, SECTION, TOKEN, running_slack


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with running_slack() as stub:
        yield stub


@pytest_asyncio.fixture
async def client(slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    web_client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    yield web_client


async def slack_error(call: Any) -> SlackApiError:
    """Await a client call that must fail and return its error."""
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# auth and unknown methods ---------------------------------------------------


async def test_auth_is_checked_and_unknown_methods_refused(slack: FakeSlack, client: AsyncWebClient) -> None:
    assert (await client.auth_test())["user_id"] == BOT
    assert (await slack_error(AsyncWebClient(base_url=slack.api_url).auth_test())).response["error"] == "not_authed"
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    assert (await slack_error(wrong.auth_test())).response["error"] == "invalid_auth"
    assert (await slack_error(client.api_call("nope.method"))).response["error"] == "unknown_method"


# channels -------------------------------------------------------------------


async def test_create_channel_then_name_taken_even_when_archived(slack: FakeSlack, client: AsyncWebClient) -> None:
    created = await client.conversations_create(name="inc-20240101-db-down", is_private=True)
    channel = created["channel"]
    assert channel["is_private"] is True and channel["is_member"] is True and channel["creator"] == BOT
    assert slack.channels[channel["id"]].members == {BOT}

    await client.conversations_archive(channel=channel["id"])
    error = await slack_error(client.conversations_create(name="inc-20240101-db-down"))
    assert error.response["error"] == "name_taken"

    for bad_name, code in [
        ("Has-Upper", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("", "invalid_name_required"),
        ("---", "invalid_name_punctuation"),
    ]:
        assert (await slack_error(client.conversations_create(name=bad_name))).response["error"] == code


async def test_invite_needs_membership_and_fails_whole_call_on_one_bad_user(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    outside = slack.add_channel("general", members=[ALICE])
    assert (await slack_error(client.conversations_invite(channel=outside, users=BOB))).response[
        "error"
    ] == "not_in_channel"

    channel = (await client.conversations_create(name="inc-1"))["channel"]["id"]
    error = await slack_error(client.conversations_invite(channel=channel, users=[ALICE, "U0NOBODY"]))
    assert error.response["error"] == "user_not_found"
    assert error.response["errors"] == [{"user": "U0NOBODY", "ok": False, "error": "user_not_found"}]
    assert ALICE not in slack.channels[channel].members

    await client.conversations_invite(channel=channel, users=[ALICE, BOB])
    assert slack.channels[channel].members == {BOT, ALICE, BOB}
    assert (await slack_error(client.conversations_invite(channel=channel, users=ALICE))).response[
        "error"
    ] == "already_in_channel"
    assert (await slack_error(client.conversations_invite(channel=channel, users=BOT))).response[
        "error"
    ] == "cant_invite_self"


async def test_join_list_and_topic(slack: FakeSlack, client: AsyncWebClient) -> None:
    public = slack.add_channel("incidents")
    private = slack.add_channel("secret", is_private=True, members=[ALICE])
    await client.conversations_join(channel=public)
    assert BOT in slack.channels[public].members
    assert (await slack_error(client.conversations_join(channel=private))).response[
        "error"
    ] == "method_not_supported_for_channel_type"
    assert (await slack_error(client.conversations_info(channel=private))).response["error"] == "channel_not_found"

    for index in range(3):
        slack.add_channel(f"extra-{index}")
    first = await client.conversations_list(limit=2)
    cursor = first["response_metadata"]["next_cursor"]
    second = await client.conversations_list(limit=2, cursor=cursor)
    names = [c["name"] for c in first["channels"] + second["channels"]]
    assert names == ["incidents", "extra-0", "extra-1", "extra-2"]

    await client.conversations_setTopic(channel=public, topic="SEV-1 | investigating")
    assert (await client.conversations_info(channel=public))["channel"]["topic"]["value"] == "SEV-1 | investigating"


# messages and Block Kit -------------------------------------------------------


async def test_post_message_needs_membership_and_valid_blocks(slack: FakeSlack, client: AsyncWebClient) -> None:
    channel = slack.add_channel("incidents", members=[BOT])
    other = slack.add_channel("random")
    assert (await slack_error(client.chat_postMessage(channel=other, text="hi"))).response["error"] == "not_in_channel"
    assert (await slack_error(client.chat_postMessage(channel="#nowhere", text="hi"))).response[
        "error"
    ] == "channel_not_found"
    assert (await slack_error(client.api_call("chat.postMessage", json={"channel": channel}))).response[
        "error"
    ] == "no_text"

    bad: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}, {"type": "bogus"}]
    error = await slack_error(client.chat_postMessage(channel=channel, text="t", blocks=bad))
    assert error.response["error"] == "invalid_blocks"
    assert len(error.response["errors"]) == 2

    posted = await client.chat_postMessage(channel="#incidents", text="fallback", blocks=[SECTION])
    assert posted["channel"] == channel and posted["message"]["blocks"] == [SECTION]
    await client.chat_update(channel=channel, ts=posted["ts"], text="edited", blocks=[])
    (message,) = slack.messages_in(channel)
    assert message.text == "edited" and message.blocks == [] and message.edited
    assert message.history == [{"text": "fallback", "blocks": [SECTION], "attachments": None}]

    await client.pins_add(channel=channel, timestamp=posted["ts"])
    assert (await slack_error(client.pins_add(channel=channel, timestamp=posted["ts"]))).response[
        "error"
    ] == "already_pinned"
    call = slack.calls_to("chat.postMessage")[-1]
    assert call.params["blocks"] == [SECTION]


def test_block_limits_slack_sdk_does_not_check() -> None:
    assert message_block_errors([SECTION] * 50) == []
    assert message_block_errors([SECTION] * 51)
    too_long_input = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Description"},
        "element": {"type": "plain_text_input", "action_id": "v", "max_length": 3001},
    }
    assert any("max_length" in error for error in message_block_errors([too_long_input]))
    unknown_element = {"type": "actions", "elements": [{"type": "bogus_button", "action_id": "a"}]}
    assert message_block_errors([unknown_element])
    typo = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "acessory": {"type": "button"}}
    assert any("acessory" in error for error in message_block_errors([typo]))
    assert view_errors(MODAL) == []
    assert view_errors({**MODAL, "submit": None})  # inputs need a submit button
    assert view_errors({**MODAL, "title": {"type": "plain_text", "text": "x" * 25}})


# views and triggers ---------------------------------------------------------------


async def test_trigger_is_single_use_and_expires(slack: FakeSlack, client: AsyncWebClient) -> None:
    trigger = slack.new_trigger_id(user_id=ALICE)
    opened = await client.views_open(trigger_id=trigger, view=MODAL)
    assert opened["view"]["id"] in slack.views and opened["view"]["callback_id"] == "declare"
    assert (await slack_error(client.views_open(trigger_id=trigger, view=MODAL))).response[
        "error"
    ] == "exchanged_trigger_id"

    stale = slack.new_trigger_id(ttl=0.0)
    assert (await slack_error(client.views_open(trigger_id=stale, view=MODAL))).response[
        "error"
    ] == "expired_trigger_id"

    bad_view = {**MODAL, "blocks": [{"type": "bogus"}]}
    error = await slack_error(client.views_open(trigger_id=slack.new_trigger_id(), view=bad_view))
    assert error.response["error"] == "invalid_arguments" and error.response["response_metadata"]["messages"]

    updated = await client.views_update(view_id=opened["view"]["id"], hash=opened["view"]["hash"], view=MODAL)
    assert updated["view"]["hash"] != opened["view"]["hash"]
    stale_hash = client.views_update(view_id=opened["view"]["id"], hash=opened["view"]["hash"], view=MODAL)
    assert (await slack_error(stale_hash)).response["error"] == "hash_conflict"


async def test_modal_stack_is_limited_to_three(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.views_open(trigger_id=slack.new_trigger_id(user_id=ALICE), view=MODAL)
    for _ in range(2):
        await client.views_push(trigger_id=slack.new_trigger_id(user_id=ALICE), view=MODAL)
    error = await slack_error(client.views_push(trigger_id=slack.new_trigger_id(user_id=ALICE), view=MODAL))
    assert error.response["error"] == "push_limit_reached"


# faults ---------------------------------------------------------------------


async def test_rate_limit_answers_429_with_retry_after(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.rate_limit("users.info", per_minute=2)
    await client.users_info(user=ALICE)
    await client.users_info(user=ALICE)
    error = await slack_error(client.users_info(user=ALICE))
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert 1 <= int(error.response.headers["Retry-After"]) <= 60


async def test_rate_limit_retry_handler_recovers(slack: FakeSlack) -> None:
    retrying = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    retrying.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    slack.add_channel("incidents", members=[BOT])
    slack.ratelimit_next("chat.postMessage", retry_after=1)
    posted = await retrying.chat_postMessage(channel="#incidents", text="after the wait")
    assert posted["ok"]
    statuses = [call.status for call in slack.calls_to("chat.postMessage")]
    assert statuses == [429, 200]


async def test_fail_next_with_500_then_recover(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("conversations.create", "internal_error", status=500)
    error = await slack_error(client.conversations_create(name="inc-a"))
    assert error.response.status_code == 500 and error.response["error"] == "internal_error"
    assert slack.channel_by_name("inc-a") is None

    retrying = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    retrying.retry_handlers.append(
        AsyncServerErrorRetryHandler(max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01))
    )
    slack.fail_next("conversations.create", "internal_error", status=500)
    assert (await retrying.conversations_create(name="inc-a"))["ok"]


async def test_dropped_connection_is_retried_by_default_client(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.drop_connection_next("auth.test")
    assert (await client.auth_test())["ok"]
    assert [call.response["error"] if not call.ok else "ok" for call in slack.calls] == [DROPPED, "ok"]


async def test_latency_delays_the_answer(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.set_latency(0.2, "auth.test")
    loop_time = asyncio.get_running_loop().time
    started = loop_time()
    await client.auth_test()
    assert loop_time() - started >= 0.2


async def test_wait_for_reports_recorded_calls_on_timeout(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.auth_test()
    with pytest.raises(AssertionError, match=r"auth.test -> ok"):
        await slack.wait_for("chat.postMessage", timeout=0.05)
    assert len(await slack.wait_for("auth.test")) == 1


# files ----------------------------------------------------------------------


async def test_files_upload_v2_shares_file_with_comment(slack: FakeSlack, client: AsyncWebClient) -> None:
    channel = slack.add_channel("inc-2", members=[BOT])
    result = await client.files_upload_v2(
        channel=channel,
        content="# Post-mortem\n",
        filename="postmortem.md",
        title="Post-mortem: DB down",
        initial_comment="Post-mortem draft",
    )
    file_id = result["file"]["id"]
    assert slack.files[file_id].content == b"# Post-mortem\n"
    assert slack.files[file_id].title == "Post-mortem: DB down"
    (message,) = slack.messages_in(channel)
    assert message.text == "Post-mortem draft" and message.files[0]["name"] == "postmortem.md"

    outside = slack.add_channel("elsewhere")
    error = await slack_error(client.files_upload_v2(channel=outside, content="x", filename="x.md"))
    assert error.response["error"] == "not_in_channel"


# response_url ---------------------------------------------------------------


async def test_response_url_records_and_allows_five_uses(slack: FakeSlack) -> None:
    channel = slack.add_channel("inc-3", members=[BOT])
    prompt = slack.workspace.channels[channel]
    url = slack.new_response_url()
    async with aiohttp.ClientSession() as session:
        for index in range(5):
            async with session.post(url, json={"text": f"reply {index}"}) as answer:
                assert answer.status == 200
        async with session.post(url, json={"text": "sixth"}) as answer:
            assert answer.status == 404 and (await answer.json())["error"] == "used_url"
        assert [body["text"] for body in await slack.wait_for_response(url, count=5)] == [
            f"reply {i}" for i in range(5)
        ]

        posted = slack.add_message(channel, BOT, "prompt", blocks=[SECTION])
        replace_url = slack.new_response_url(channel_id=prompt.id, message_ts=posted.ts)
        async with session.post(replace_url, json={"replace_original": True, "text": "answered"}) as answer:
            assert answer.status == 200
    assert slack.messages_in(channel)[0].text == "answered" and slack.messages_in(channel)[0].blocks is None
