"""Action items as Linear issues, against a local stand-in of Linear's GraphQL endpoint and its webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.channel_commands import (
    action_items,
    kinds,
    run,
    summary,
    timeline,
    wait_for_post,
    wait_for_summary,
)
from tests.linear_stub import API_KEY, WEBHOOK_SECRET, FakeLinear
from tests.resolving import resolve
from tests.support import ALICE, RunningBot
from tests.tracking import has_kind, refusal, start_with_tickets, ticket_of, with_summary

ENV = {"LINEAR_API_KEY": API_KEY, "LINEAR_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture
async def linear() -> AsyncIterator[FakeLinear]:
    async with FakeLinear(team="ENG") as fake:
        yield fake


@pytest.fixture
def linear_bot(make_bot: Callable[..., Any], linear: FakeLinear, tmp_path: Path) -> Callable[..., Any]:
    async def start(*, api_key: str = API_KEY, **tickets: Any) -> RunningBot:
        table = {"provider": "linear", "team": "ENG", "api_url": linear.api_url, **tickets}
        return await start_with_tickets(make_bot, tmp_path, table, {**ENV, "LINEAR_API_KEY": api_key})

    return start


async def test_an_action_item_becomes_an_issue_and_completing_it_in_linear_closes_it_in_slack(
    linear_bot: Callable[..., Any], linear: FakeLinear
) -> None:
    alice = linear.add_user("alice@example.com", "Alice")
    bot = await linear_bot()
    incident = await bot.declare("Webhook deliveries delayed")
    incident = await with_summary(bot, incident)
    await run(bot, f"action Add a dead-letter queue <@{ALICE}|alice> due 2099-03-01", incident.channel_id)
    item = await ticket_of(bot, incident)

    issue = linear.by_identifier("ENG-1")
    assert (item.ticket_id, item.ticket_key, item.ticket_url) == (issue["id"], "ENG-1", issue["url"])
    assert issue["title"] == "Add a dead-letter queue" and issue["dueDate"] == "2099-03-01"
    assert issue["assignee"]["id"] == alice and issue["state"]["type"] == "unstarted"
    assert f"/archives/{incident.channel_id}" in issue["description"]
    assert all(c.headers["Authorization"] == API_KEY for c in linear.calls)
    await wait_for_summary(bot, incident, f"<{issue['url']}|ENG-1>")
    assert any(e.kind == "ticket_opened" and "Linear ticket ENG-1" in e.text for e in await timeline(bot, incident))

    completed = linear.complete_in_linear("ENG-1")
    assert await linear.deliver(bot.url, completed) == 200
    await wait_for_post(bot, incident.channel_id, "was closed in Linear")
    await bot.wait_until(lambda: "· done" in summary(bot, incident))
    assert await linear.deliver(bot.url, completed) == 200
    await bot.settled()
    assert (await kinds(bot, incident)).count("action_done") == 1


async def test_closing_the_item_in_slack_completes_the_issue(linear_bot: Callable[..., Any], linear: FakeLinear) -> None:
    bot = await linear_bot()
    incident = await bot.declare("Build cache poisoned")
    await run(bot, "action Pin the cache key to the lockfile", incident.channel_id)
    await ticket_of(bot, incident)
    assert linear.by_identifier("ENG-1")["assignee"] is None
    await run(bot, "action done 1", incident.channel_id)
    await bot.wait_until(lambda: linear.by_identifier("ENG-1")["state"]["type"] == "completed")
    await bot.wait_until(lambda: has_kind(bot, incident, "ticket_closed"))


async def test_rate_limits_and_outages_are_retried(linear_bot: Callable[..., Any], linear: FakeLinear) -> None:
    bot = await linear_bot()
    incident = await bot.declare("Emails bouncing")
    linear.fail_next(1, status=400, body="ratelimited")
    linear.fail_next(1, status=502, body="Bad Gateway")
    await run(bot, "action Warm up the new IP", incident.channel_id)
    await wait_for_post(bot, incident.channel_id, "action item *#1*")
    item = await ticket_of(bot, incident, timeout=15)
    assert item.ticket_key == "ENG-1" and len(linear.issues) == 1
    assert [c.status for c in linear.calls][:2] == [400, 502]


async def test_a_refused_key_is_reported_on_the_timeline_and_to_the_person(
    linear_bot: Callable[..., Any], linear: FakeLinear
) -> None:
    bot = await linear_bot(api_key="lin_api_wrong")
    incident = await bot.declare("Slow search")
    await run(bot, "action Add a search latency SLO", incident.channel_id)
    entry = await refusal(bot, incident)
    assert "Linear refused creating the ticket: Authentication required, not authenticated" in entry.text
    assert "lin_api_wrong" not in entry.text and not linear.issues


async def test_stale_or_wrongly_signed_deliveries_are_refused(linear_bot: Callable[..., Any], linear: FakeLinear) -> None:
    bot = await linear_bot()
    incident = await bot.declare("Pods evicted")
    await run(bot, "action Set memory requests", incident.channel_id)
    await ticket_of(bot, incident)
    completed = linear.complete_in_linear("ENG-1")
    assert await linear.deliver(bot.url, completed, secret="wrong") == 401
    stale = {**completed, "webhookTimestamp": completed["webhookTimestamp"] - 5 * 60 * 1000}
    assert await linear.deliver(bot.url, stale) == 401
    await bot.settled()
    assert not (await action_items(bot, incident))[0].is_done


async def test_the_incident_issue_carries_the_label_and_priority_and_is_completed_on_resolve(
    linear_bot: Callable[..., Any], linear: FakeLinear
) -> None:
    bot = await linear_bot(incident_ticket=True)
    incident = await bot.declare("API gateway 502s", severity=3)
    await bot.wait_until(lambda: len(linear.issues) == 1)
    [issue] = linear.issues.values()
    assert issue["title"] == f"[SEV-3] {incident.reference}: API gateway 502s" and issue["priority"] == 3
    assert [label["name"] for label in issue["labels"]["nodes"]] == ["incident"]
    await run(bot, "sev 2", incident.channel_id)
    await bot.wait_until(lambda: issue["priority"] == 2)
    await resolve(bot, await bot.incident(incident.id))
    await bot.wait_until(lambda: issue["state"]["type"] == "completed")
    assert len(linear.issues) == 1 and len(linear.labels) == 1
