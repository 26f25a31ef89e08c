"""The declare flow end to end: signed requests in, Web API calls out to the local Slack."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from bot.config.settings import IncidentConfig
from bot.slack.ids import Callback
from bot.runtime.runner import StartupError
from storage import queries
from tests.support import ALICE, BOB, CAROL, RunningBot, declare_values, start_bot

pytestmark = pytest.mark.asyncio


def today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


async def timeline_kinds(bot: RunningBot, incident_id: int) -> list[str]:
    async with bot.ctx.db.session() as session:
        return [e.kind for e in await queries.timeline(session=session, incident_id=incident_id)]


async def test_declare_runs_the_whole_sequence(bot: RunningBot) -> None:
    slack = bot.slack
    incident = await bot.declare(
        "Checkout API returning 500s",
        severity=2,
        responders=[BOB],
        description="Error rate 40%",
        services="checkout",
        customer_impact=True,
    )

    channel = slack.channels[incident.channel_id]
    assert channel.name == f"inc-{today()}-checkout-api-returning-500s"
    assert not channel.is_private
    assert {ALICE, BOB} <= channel.members
    assert incident.setup_error is None

    summary = next(m for m in channel.messages if m.ts == incident.summary_ts)
    assert incident.summary_ts in channel.pins
    rendered = json.dumps(summary.blocks)
    for fact in [
        "Checkout API returning 500s",
        "SEV-2",
        "Investigating",
        f"<@{ALICE}>",
        "Error rate 40%",
        "checkout",
        "Next update due",
    ]:
        assert fact in rendered, fact
    actions = [b for b in summary.blocks if b["type"] == "actions"]
    assert actions, "the summary carries buttons"
    assert "SEV-2" in channel.topic and "Checkout API" in channel.topic

    announcements = slack.channel_by_name("incidents")
    assert announcements is not None
    posted = [m for m in announcements.messages if f"<#{incident.channel_id}>" in (m.text + json.dumps(m.blocks))]
    assert len(posted) == 1

    replies = slack.responses_to(incident.origin_response_url)
    assert any(f"<#{incident.channel_id}>" in r.get("text", "") for r in replies)

    kinds = await timeline_kinds(bot, incident.id)
    assert kinds[:2] == ["declared", "channel_created"]
    assert {"invited", "summary_pinned", "announced"} <= set(kinds)


async def test_ic_defaults_to_the_declarer_and_can_be_someone_else(bot: RunningBot) -> None:
    incident = await bot.declare("Search is slow", commander=CAROL)
    async with bot.ctx.db.session() as session:
        roles = await queries.current_roles(session=session, incident_id=incident.id)
    assert roles["ic"] == CAROL
    assert CAROL in bot.slack.channels[incident.channel_id].members


async def test_taken_and_archived_names_get_a_suffix_and_no_channel_is_reused(bot: RunningBot) -> None:
    base = f"inc-{today()}-database-failover"
    bot.slack.add_channel(base)
    bot.slack.add_channel(f"{base}-2", archived=True)
    incident = await bot.declare("Database failover")
    assert incident.channel_name == f"{base}-3"
    assert bot.slack.channels[incident.channel_id].name == f"{base}-3"
    second = await bot.declare("Database failover")
    assert second.channel_name == f"{base}-4"


async def test_a_leftover_channel_the_bot_made_before_this_declare_is_never_reused(bot: RunningBot) -> None:
    base = f"inc-{today()}-checkout-api-returning-500s"
    leftover = bot.slack.workspace.add_channel(base, members=[bot.slack.bot_user_id], creator=bot.slack.bot_user_id)
    leftover.created -= 3600  # made an hour ago, for an incident of an older database
    incident = await bot.declare("Checkout API returning 500s")
    assert incident.channel_name == f"{base}-2" and incident.channel_id != leftover.id
    assert bot.slack.channels[incident.channel_id].name == f"{base}-2"
    assert bot.slack.channels[leftover.id].members == {bot.slack.bot_user_id}, "nobody was invited into it"


async def test_the_channel_a_declare_created_is_adopted_when_slacks_answer_was_lost(bot: RunningBot) -> None:
    base = f"inc-{today()}-checkout-api-returning-500s"
    bot.slack.drop_connection_next("conversations.create", after_effect=True)
    incident = await bot.declare("Checkout API returning 500s")
    assert incident.channel_name == base
    assert [c.name for c in bot.slack.channels.values() if c.name.startswith(base)] == [base], "one channel"
    assert ALICE in bot.slack.channels[incident.channel_id].members


async def test_private_incident_gets_a_private_channel_and_no_announcement(bot: RunningBot) -> None:
    incident = await bot.declare("Credential leak", private=True, responders=[BOB])
    assert bot.slack.channels[incident.channel_id].is_private
    assert bot.slack.channel_by_name("incidents").messages == []
    assert "not_announced" in await timeline_kinds(bot, incident.id)


async def test_drill_is_labelled_and_announced_only_in_its_channel(bot: RunningBot) -> None:
    incident = await bot.declare("Game day: kill the primary", drill=True)
    channel = bot.slack.channels[incident.channel_id]
    summary = next(m for m in channel.messages if m.ts == incident.summary_ts)
    assert "DRILL" in json.dumps(summary.blocks)
    assert "DRILL" in channel.topic
    assert bot.slack.channel_by_name("incidents").messages == []


async def test_emoji_only_title_gets_a_valid_name_and_says_so(bot: RunningBot) -> None:
    incident = await bot.declare("🔥🔥🔥")
    assert incident.channel_name == f"inc-{today()}-incident"
    replies = bot.slack.responses_to(incident.origin_response_url)
    assert any("no letters or digits" in r.get("text", "") for r in replies)


async def test_broadcast_mentions_in_a_title_are_neutralised(bot: RunningBot) -> None:
    incident = await bot.declare("@channel <!here> everything is down")
    posted = [m for c in bot.slack.channels.values() for m in c.messages]
    text = json.dumps([(m.text, m.blocks) for m in posted])
    assert "<!here>" not in text
    assert "@channel" not in text
    assert incident.title == "@channel <!here> everything is down"


@pytest.mark.parametrize(
    ("title", "severity", "field"),
    [
        ("", 2, "title"),
        ("x" * 300, 2, "title"),
        ("   ", 2, "title"),
        ("Fine title", 9, "severity"),
        ("Fine title", None, "severity"),
    ],
)
async def test_bad_declare_input_gets_a_field_error_and_stores_nothing(
    bot: RunningBot, title: str, severity: int | None, field: str
) -> None:
    values = declare_values(title=title, severity=severity, commander=ALICE)
    reply = await bot.requests.view_submission(
        callback_id=Callback.DECLARE, user_id=ALICE, values=values, view_id="VBAD1"
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["response_action"] == "errors"
    assert field in body["errors"]
    assert await bot.all_incidents() == []
    assert bot.slack.calls_to("conversations.create") == []


async def test_long_title_from_the_command_is_cut_for_the_form_and_the_user_told(bot: RunningBot) -> None:
    url = bot.slack.new_response_url()
    general = bot.slack.channel_by_name("general").id
    await bot.requests.command("declare " + "a" * 300, user_id=ALICE, channel_id=general, response_url=url)
    opened = await bot.slack.wait_for("views.open")
    assert opened[0].response["ok"], opened[0].response
    title_block = opened[0].params["view"]["blocks"][0]
    assert len(title_block["element"]["initial_value"]) == 80
    replies = await bot.slack.wait_for_response(url)
    assert "at most 80" in replies[0]["text"]


async def test_double_submission_declares_once(bot: RunningBot) -> None:
    values = declare_values(title="Payments timing out", severity=1, commander=ALICE)
    for _ in range(2):
        reply = await bot.requests.view_submission(
            callback_id=Callback.DECLARE, user_id=ALICE, values=values, view_id="VSAME"
        )
        assert reply.status_code == 200
    await bot.wait_until(lambda: len(bot.slack.calls_to("chat.postMessage")) >= 2)
    assert len(await bot.all_incidents()) == 1
    assert len([c for c in bot.slack.calls_to("conversations.create") if c.response.get("ok")]) == 1


async def test_missing_announcements_channel_is_explained_and_nothing_is_left_half_made(make_bot, slack) -> None:
    bot = await make_bot(IncidentConfig(announcements_channel="does-not-exist"))
    incident = await bot.declare("Queue backlog")
    assert incident.channel_id and incident.summary_pinned and incident.topic_set
    assert "does not exist" in (incident.setup_error or "")
    replies = slack.responses_to(incident.origin_response_url)
    assert any("does not exist" in r.get("text", "") for r in replies)
    again = await bot.declare("Queue backlog again")
    assert again.channel_id and again.channel_id != incident.channel_id


async def test_bot_joins_a_public_announcements_channel_it_is_not_in(bot: RunningBot) -> None:
    announcements = bot.slack.channel_by_name("incidents")
    announcements.members.discard(bot.slack.bot_user_id)
    incident = await bot.declare("Login failures")
    assert bot.slack.calls_to("conversations.join")
    assert any(f"<#{incident.channel_id}>" in m.text for m in announcements.messages)


async def test_rate_limited_and_failing_calls_are_retried(bot: RunningBot) -> None:
    bot.slack.ratelimit_next("conversations.create", retry_after=1)
    bot.slack.fail_next("chat.postMessage", "internal_error", status=500)
    incident = await bot.declare("Flaky dependencies")
    assert incident.setup_error is None and incident.summary_pinned
    assert len(bot.slack.calls_to("conversations.create")) == 2


SLOW_SLACK = 2.0
"""Seconds every Slack call takes in the ack test: the ack must not wait for one."""


async def test_commands_and_submissions_are_acked_before_slow_slack_work(bot: RunningBot) -> None:
    bot.slack.set_latency(SLOW_SLACK)
    general = bot.slack.channel_by_name("general").id
    started = time.monotonic()
    reply = await bot.requests.command("declare Slow Slack", user_id=ALICE, channel_id=general)
    assert reply.status_code == 200
    assert time.monotonic() - started < SLOW_SLACK, "answered before any Slack call could have been"
    opened = await bot.slack.wait_for("views.open")
    assert opened[0].at - started >= 0  # the modal opened after the ack
    values = declare_values(title="Slow Slack", severity=3, commander=ALICE)
    started = time.monotonic()
    reply = await bot.requests.view_submission(
        callback_id=Callback.DECLARE, user_id=ALICE, values=values, view_id="VSLOW"
    )
    assert reply.status_code == 200
    assert time.monotonic() - started < SLOW_SLACK
    assert len(await bot.all_incidents()) == 1, "stored before the ack"
    await bot.slack.wait_for("conversations.create", timeout=10)


async def test_bad_and_stale_signatures_are_refused_and_change_nothing(bot: RunningBot) -> None:
    body = b"command=%2Fincident&text=declare+x&user_id=U0ALICE&channel_id=C1&trigger_id=t"
    bad = await bot.requests.raw(body, content_type="application/x-www-form-urlencoded", signature="v0=deadbeef")
    assert bad.status_code == 401
    stale = await bot.requests.raw(
        body, content_type="application/x-www-form-urlencoded", timestamp=int(time.time()) - 600
    )
    assert stale.status_code == 401
    assert bot.slack.calls_to("views.open") == []


async def test_help_list_and_unknown_subcommands(bot: RunningBot) -> None:
    general = bot.slack.channel_by_name("general").id
    assert "/incident declare" in await bot.command_reply("help", user_id=ALICE, channel_id=general)
    unknown = await bot.command_reply("explode now", user_id=ALICE, channel_id=general)
    assert "not an /incident subcommand" in unknown and "/incident declare" in unknown
    await bot.declare("Visible incident")
    await bot.declare("Secret incident", private=True, user=BOB, commander=BOB)
    alice = await bot.command_reply("list", user_id=ALICE, channel_id=general)
    assert "Visible incident" in alice and "Secret incident" not in alice
    bob = await bot.command_reply("list", user_id=BOB, channel_id=general)
    assert "Secret incident" in bob


async def test_a_refused_token_stops_start_up_with_a_clear_message(slack, database_url) -> None:
    with pytest.raises(StartupError, match="SLACK_BOT_TOKEN"):
        await start_bot(slack, database_url, SLACK_BOT_TOKEN="xoxb-wrong")


async def test_healthz_and_metrics(bot: RunningBot) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=bot.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        await bot.declare("Metric me", severity=1)
        metrics = (await client.get("/metrics")).text
    assert 'incident_bot_open_incidents{severity="SEV-1"} 1.0' in metrics
