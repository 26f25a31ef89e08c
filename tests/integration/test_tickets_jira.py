"""Action items as Jira tickets, against a local stand-in of Jira Cloud's REST API and its webhooks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from storage import queries
from storage.models import WorkState
from tests.channel_commands import (
    action_items,
    kinds,
    run,
    summary,
    timeline,
    wait_for_post,
    wait_for_summary,
)
from tests.http_stub import post_webhook
from tests.jira_stub import EMAIL, TOKEN, WEBHOOK_SECRET, FakeJira
from tests.resolving import resolve
from tests.support import ALICE, BOB, RunningBot
from tests.tracking import has_kind, refusal, start_with_tickets, ticket_of, with_summary

ENV = {"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "JIRA_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture
async def jira() -> AsyncIterator[FakeJira]:
    fake = FakeJira()
    fake.add_user("5b10a2844c20165700ede21g", "alice@example.com", "Alice")
    async with fake:
        yield fake


@pytest.fixture
def jira_bot(make_bot: Callable[..., Any], jira: FakeJira, tmp_path: Path) -> Callable[..., Any]:
    """Start a bot whose [tickets] table points at the stand-in (keys may be overridden)."""

    async def start(**tickets: Any) -> RunningBot:
        table = {"provider": "jira", "url": jira.url, "project": "OPS", **tickets}
        return await start_with_tickets(make_bot, tmp_path, table, ENV)

    return start


async def test_an_action_item_becomes_a_ticket_and_closing_it_in_jira_closes_it_in_slack(
    jira_bot: Callable[..., Any], jira: FakeJira
) -> None:
    bot = await jira_bot()
    incident = await bot.declare("Queue backlog")
    incident = await with_summary(bot, incident)
    await run(bot, f"action Add alerting on queue depth <@{ALICE}|alice> due 2099-01-15", incident.channel_id)
    item = await ticket_of(bot, incident)

    issue = jira.issue("OPS-1")
    assert item.ticket_key == "OPS-1" and item.ticket_url == f"{jira.url}/browse/OPS-1"
    assert issue.fields["summary"] == "Add alerting on queue depth"
    assert issue.fields["issuetype"] == {"name": "Task"} and issue.fields["labels"] == [incident.reference]
    assert issue.fields["duedate"] == "2099-01-15"
    assert issue.fields["assignee"] == {"accountId": "5b10a2844c20165700ede21g"}
    assert f"/archives/{incident.channel_id}" in issue.description_text
    assert "action item #1 of INC-" in issue.description_text
    created = next(c for c in jira.calls if c.method == "POST" and c.path == "/rest/api/3/issue")
    assert created.headers["Authorization"].startswith("Basic ")

    await wait_for_summary(bot, incident, f"<{item.ticket_url}|OPS-1>")
    await wait_for_post(bot, incident.channel_id, "Jira ticket <")
    assert any(e.kind == "ticket_opened" and "OPS-1" in e.text and item.ticket_url in e.text
               for e in await timeline(bot, incident))

    closed = jira.close_in_jira("OPS-1")
    assert await jira.deliver(bot.url, closed) == 200
    await wait_for_post(bot, incident.channel_id, "was closed in Jira")
    await bot.wait_until(lambda: "· done" in summary(bot, incident))
    [item] = await action_items(bot, incident)
    assert item.is_done and item.done_by is None
    assert await jira.deliver(bot.url, closed) == 200  # Jira delivers again: nothing more happens
    await bot.settled()
    assert (await kinds(bot, incident)).count("action_done") == 1
    assert not [c for c in jira.calls if c.path.endswith("/transitions")]


async def test_closing_the_item_in_slack_moves_its_ticket_to_done(jira_bot: Callable[..., Any], jira: FakeJira) -> None:
    bot = await jira_bot()
    incident = await bot.declare("Disk full")
    await run(bot, "action Rotate logs daily", incident.channel_id, user=BOB)
    await ticket_of(bot, incident)
    assert "assignee" not in jira.issue("OPS-1").fields
    await run(bot, "action done 1", incident.channel_id, user=BOB)
    await bot.wait_until(lambda: jira.issue("OPS-1").status == "Done")
    await bot.wait_until(lambda: has_kind(bot, incident, "ticket_closed"))
    closing = [c for c in jira.calls if c.method == "POST" and c.path.endswith("/transitions")]
    assert [c.body for c in closing] == [{"transition": {"id": "31"}}]


async def test_an_item_closed_before_its_ticket_opened_still_gets_it_closed(
    jira_bot: Callable[..., Any], jira: FakeJira
) -> None:
    bot = await jira_bot()
    incident = await bot.declare("Cache stampede")
    jira.fail_next(1, status=503)
    await run(bot, "action Add request coalescing", incident.channel_id)
    # Commands are acknowledged before they run: item 1 must exist (its ticket still failing to open) first.
    await bot.wait_until(lambda: action_items(bot, incident))
    await run(bot, "action done 1", incident.channel_id)
    # About 3 s: the open is retried after a second, and the close waits for it.
    await bot.wait_until(lambda: "OPS-1" in jira.issues and jira.issue("OPS-1").status == "Done", timeout=15)


async def test_an_outage_never_holds_up_the_command_and_the_ticket_follows(
    jira_bot: Callable[..., Any], jira: FakeJira
) -> None:
    bot = await jira_bot()
    incident = await bot.declare("Payments slow")
    jira.fail_next(1, status=503)
    jira.fail_next(1, status=429, retry_after=1)
    await run(bot, "action Tune the connection pool", incident.channel_id)
    await wait_for_post(bot, incident.channel_id, "action item *#1*")
    assert not jira.issues
    item = await ticket_of(bot, incident, timeout=15)
    assert item.ticket_key == "OPS-1" and len(jira.issues) == 1
    assert [c.status for c in jira.calls][:2] == [503, 429]


async def test_a_retry_after_a_lost_answer_adopts_the_ticket_instead_of_opening_another(
    jira_bot: Callable[..., Any], jira: FakeJira
) -> None:
    bot = await jira_bot()
    incident = await bot.declare("Search index stale")
    jira.lose_next_answers(1)
    await run(bot, "action Reindex nightly", incident.channel_id)
    item = await ticket_of(bot, incident, timeout=15)
    assert list(jira.issues) == ["OPS-1"] and item.ticket_key == "OPS-1"


async def test_a_refusal_is_on_the_timeline_and_told_to_the_person_without_the_token(
    jira_bot: Callable[..., Any], jira: FakeJira, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await jira_bot(project="NOPE")
    incident = await bot.declare("Login errors")
    await run(bot, "action Add a login canary", incident.channel_id)
    entry = await refusal(bot, incident)
    assert "Jira refused creating the ticket: project: valid project is required (HTTP 400)" in entry.text
    told = bot.slack.ephemerals_for(ALICE)[-1].text
    assert "Opening the action item&#x27;s ticket" in told or "Opening the action item's ticket" in told
    assert "valid project is required" in told
    assert (await action_items(bot, incident))[0].ticket_key is None
    assert TOKEN not in caplog.text


async def test_unsigned_or_wrongly_signed_deliveries_are_refused_and_change_nothing(
    jira_bot: Callable[..., Any], jira: FakeJira
) -> None:
    bot = await jira_bot()
    incident = await bot.declare("DNS flapping")
    await run(bot, "action Lower the TTL", incident.channel_id)
    await ticket_of(bot, incident)
    closed = jira.close_in_jira("OPS-1")
    assert await jira.deliver(bot.url, closed, secret="not-the-secret") == 401
    assert await post_webhook(f"{bot.url}/webhooks/jira", b"{}", {}) == 401
    assert await post_webhook(f"{bot.url}/webhooks/linear", b"{}", {"Linear-Signature": "00"}) == 401
    await bot.settled()
    assert not (await action_items(bot, incident))[0].is_done


async def test_the_incident_ticket_follows_severity_and_resolution(jira_bot: Callable[..., Any], jira: FakeJira) -> None:
    bot = await jira_bot(incident_ticket=True)
    incident = await bot.declare("Checkout down", severity=2)
    await bot.wait_until(lambda: "OPS-1" in jira.issues)
    issue = jira.issue("OPS-1")
    reference = incident.reference
    assert issue.fields["summary"] == f"[SEV-2] {reference}: Checkout down"
    assert issue.fields["labels"] == ["incident", reference, "SEV-2"]
    incident = await bot.incident(incident.id)
    await wait_for_summary(bot, incident, f"*Ticket:* <{jira.url}/browse/OPS-1|OPS-1>")

    await run(bot, "sev 1", incident.channel_id)
    await bot.wait_until(lambda: issue.fields["summary"] == f"[SEV-1] {reference}: Checkout down")
    assert issue.fields["labels"] == ["incident", reference, "SEV-1"]
    await resolve(bot, incident)
    await bot.wait_until(lambda: issue.status == "Done")
    assert "Resolved:" in jira.issue("OPS-1").description_text and len(jira.issues) == 1


async def test_a_private_incident_gets_no_ticket_of_its_own(jira_bot: Callable[..., Any], jira: FakeJira) -> None:
    bot = await jira_bot(incident_ticket=True)
    incident = await bot.declare("Access review", private=True)
    await bot.settled()
    assert not jira.issues
    async with bot.ctx.db.session() as session:
        work = await queries.work_for_incident(session=session, incident_id=incident.id)
    assert all(w.state == WorkState.DONE for w in work) and "tickets.open_incident" not in {w.kind for w in work}

