"""Paging the on-call through PagerDuty's Events API v2 (a local stand-in): out on declare and raise, back on resolve."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import IncidentConfig
from bot.consequences.kinds import Work
from bot.integrations.pagerduty.config import PagerDutyConfig
from bot.integrations.pagerduty.paging import PAGE_TRIES
from storage import queries
from storage.models import Incident, WorkState
from tests.alert_senders import PAGERDUTY_SECRET, pagerduty_event, post_pagerduty
from tests.channel_commands import run, wait_for_summary
from tests.clock import FakeClock
from tests.pagerduty_stub import ROUTING_KEY, FakePagerDuty
from tests.resolving import resolve
from tests.support import ALICE, BOB, RunningBot

ENV = {"PAGERDUTY_ROUTING_KEY": ROUTING_KEY, "PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET}


@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
def paging_bot(make_bot: Callable[..., Any], pagerduty: FakePagerDuty, tmp_path: Path) -> Callable[..., Any]:
    """Start a bot whose ``[pagerduty]`` table points at the stand-in (more keys as arguments)."""

    async def start(**table: Any) -> RunningBot:
        config = IncidentConfig(postmortem_dir=tmp_path / "postmortems",
                                pagerduty=PagerDutyConfig(events_url=pagerduty.events_url, **table))
        return await make_bot(config, **ENV)

    return start


@pytest.fixture
async def bot(paging_bot: Callable[..., Any]) -> RunningBot:
    return await paging_bot()


async def paged(bot: RunningBot, by: timedelta = timedelta(seconds=8)) -> None:
    """Let ``by`` pass, each retry of follow-up work running when it falls due (the page waits a moment
    for the channel it links; PagerDuty's refusals back off)."""
    until = bot.clock.now() + by
    while True:
        await bot.advance()
        async with bot.ctx.db.session() as session:
            due = await queries.next_due_at(session=session)
        if due is None or due > until:
            break
        await bot.advance(max(due - bot.clock.now(), timedelta(0)))
    await bot.advance(until - bot.clock.now())


async def work_of(bot: RunningBot, incident: Incident, kind: Work) -> list[Any]:
    assert incident.id is not None
    async with bot.ctx.db.session() as session:
        return [w for w in await queries.work_for_incident(session=session, incident_id=incident.id)
                if w.kind == kind]


async def timeline_kinds(bot: RunningBot, incident: Incident) -> list[str]:
    assert incident.id is not None
    async with bot.ctx.db.session() as session:
        return [e.kind for e in await queries.timeline(session=session, incident_id=incident.id)]


async def test_declaring_a_paging_severity_pages_the_on_call_with_the_title_and_a_link_to_the_channel(
        bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    incident = await bot.declare("Checkout API returning 500s", severity=1)
    await paged(bot)
    [event] = pagerduty.accepted("trigger")
    assert event["routing_key"] == ROUTING_KEY
    assert event["dedup_key"] == incident.reference
    assert event["payload"]["summary"] == "[SEV-1] Checkout API returning 500s"
    assert event["payload"]["severity"] == "critical"
    workspace = (await bot.ctx.slack.identity())["url"]
    assert event["links"] == [{"href": f"{workspace}archives/{incident.channel_id}",
                               "text": f"Slack channel #{incident.channel_name}"}]
    assert event["client_url"] == event["links"][0]["href"]
    assert pagerduty.pages == 1
    async with bot.ctx.db.session() as session:
        [page] = await queries.pages_for_incident(session=session, incident_id=incident.id or 0)
    assert (page.action, page.cause, page.requested_by) == ("trigger", "declared as SEV-1", ALICE)
    assert "paged" in await timeline_kinds(bot, incident)
    assert "Paged:* the on-call through PagerDuty" in await wait_for_summary(bot, incident, "Paged:")


async def test_the_declare_never_waits_for_pagerduty(bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    pagerduty.set_latency(3)
    started = time.monotonic()
    incident = await bot.declare(severity=1, wait=False)
    assert time.monotonic() - started < 1.5, "the declare is stored and answered without waiting for a page"

    async def set_up_in_slack() -> bool:
        current = await bot.incident(incident.id or 0)
        return current.summary_pinned and current.announced

    await bot.wait_until(set_up_in_slack, timeout=2.5)
    async with bot.ctx.db.session() as session:
        assert await queries.pages_for_incident(session=session, incident_id=incident.id or 0) == []
    await paged(bot)
    assert pagerduty.pages == 1


async def test_a_severity_that_does_not_page_pages_nobody_until_it_is_raised_to_one_that_does(
        bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    incident = await bot.declare(severity=3)
    await paged(bot)
    assert pagerduty.events == []
    assert incident.channel_id is not None
    await run(bot, "sev 2", incident.channel_id, user=BOB)
    await paged(bot)
    [event] = pagerduty.accepted("trigger")
    assert event["payload"]["summary"].startswith("[SEV-2] ")
    async with bot.ctx.db.session() as session:
        [page] = await queries.pages_for_incident(session=session, incident_id=incident.id or 0)
    assert page.cause == "raised to SEV-2"
    assert page.requested_by == ALICE, "a failure would be told to the incident commander"


async def test_raising_a_paged_incident_again_updates_the_page_without_paging_twice(
        bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    incident = await bot.declare(severity=2)
    await paged(bot)
    assert incident.channel_id is not None
    await run(bot, "sev 1", incident.channel_id)
    await paged(bot)
    assert [e["payload"]["summary"][:7] for e in pagerduty.accepted("trigger")] == ["[SEV-2]", "[SEV-1]"]
    assert {e["dedup_key"] for e in pagerduty.accepted()} == {incident.reference}
    assert pagerduty.pages == 1
    await run(bot, "sev 3", incident.channel_id)
    await paged(bot)
    assert len(pagerduty.accepted()) == 2, "lowering the severity does not page"


async def test_resolving_ends_the_page_and_reopening_pages_again(bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    incident = await bot.declare(severity=1)
    await paged(bot)
    incident = await resolve(bot, incident)
    await paged(bot)
    assert [e["event_action"] for e in pagerduty.accepted()] == ["trigger", "resolve"]
    assert pagerduty.accepted("resolve")[0]["dedup_key"] == incident.reference
    assert pagerduty.open_alert(incident.reference) is None
    assert "Page resolved:" in await wait_for_summary(bot, incident, "Page resolved:")
    assert incident.channel_id is not None
    await run(bot, "reopen", incident.channel_id)
    await paged(bot)
    assert [e["event_action"] for e in pagerduty.accepted()] == ["trigger", "resolve", "trigger"]
    assert pagerduty.pages == 2, "the resolved alert is closed in PagerDuty: reopening pages anew"
    async with bot.ctx.db.session() as session:
        causes = [p.cause for p in await queries.pages_for_incident(session=session, incident_id=incident.id or 0)]
    assert causes == ["declared as SEV-1", "resolved", "reopened"]


async def test_an_incident_that_never_paged_resolves_without_a_word_to_pagerduty(
        bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    incident = await bot.declare(severity=4)
    await resolve(bot, incident)
    await paged(bot)
    assert pagerduty.events == []


@pytest.mark.parametrize(("flags", "table", "pages"), [
    ({"drill": True}, {}, 0),
    ({"private": True}, {}, 0),
    ({"drill": True}, {"page_drills": True}, 1),
    ({"private": True}, {"page_private": True}, 1),
])
async def test_drills_and_private_incidents_page_only_when_the_table_says_so(
        paging_bot: Callable[..., Any], pagerduty: FakePagerDuty, flags: dict[str, bool], table: dict[str, bool],
        pages: int) -> None:
    bot = await paging_bot(**table)
    await bot.declare(severity=1, **flags)
    await paged(bot)
    assert pagerduty.pages == pages
    if flags.get("drill") and pages:
        assert pagerduty.accepted()[0]["payload"]["summary"].startswith("[DRILL] [SEV-1] ")


async def test_rate_limits_and_outages_are_retried_until_pagerduty_takes_the_page(
        bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    pagerduty.fail_next(1, status=429)
    pagerduty.fail_next(2, status=503)
    incident = await bot.declare(severity=1)
    await paged(bot, timedelta(seconds=40))
    assert [e.status for e in pagerduty.events] == [429, 503, 503, 202]
    assert pagerduty.pages == 1
    [work] = await work_of(bot, incident, Work.PAGE_ONCALL)
    assert work.state == WorkState.DONE


async def test_a_refused_page_is_on_the_timeline_and_told_to_the_incident_commander(
        make_bot: Callable[..., Any], pagerduty: FakePagerDuty, tmp_path: Path) -> None:
    config = IncidentConfig(postmortem_dir=tmp_path, pagerduty=PagerDutyConfig(events_url=pagerduty.events_url))
    bot = await make_bot(config, **{**ENV, "PAGERDUTY_ROUTING_KEY": "too-short"})
    incident = await bot.declare(severity=1, commander=BOB)
    await paged(bot)
    [work] = await work_of(bot, incident, Work.PAGE_ONCALL)
    assert work.state == WorkState.FAILED
    assert incident.id is not None
    async with bot.ctx.db.session() as session:
        [failure] = [e for e in await queries.timeline(session=session, incident_id=incident.id)
                     if e.kind == "work_failed"]
    assert "Paging the on-call through PagerDuty failed" in failure.text
    assert "routing_key" in failure.text and "HTTP 400" in failure.text
    await bot.wait_until(lambda: [e for e in bot.slack.ephemerals_for(BOB) if "Paging the on-call" in e.text])
    [told] = [e for e in bot.slack.ephemerals_for(BOB) if "Paging the on-call" in e.text]
    assert "routing_key" in told.text
    assert incident.channel_id is not None
    assert [m for m in bot.slack.messages_in(incident.channel_id)], "the declare itself went on"


async def test_pagerduty_away_for_good_is_told_while_retrying_then_fails(
        bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    pagerduty.fail_next(PAGE_TRIES + 5, status=500)
    incident = await bot.declare(severity=1)
    await paged(bot, timedelta(seconds=40))
    await bot.wait_until(lambda: any("keeps trying" in e.text for e in bot.slack.ephemerals_for(ALICE)))
    [work] = await work_of(bot, incident, Work.PAGE_ONCALL)
    assert work.state == WorkState.PENDING
    await paged(bot, timedelta(minutes=30))
    [work] = await work_of(bot, incident, Work.PAGE_ONCALL)
    assert work.state == WorkState.FAILED and work.attempts == PAGE_TRIES
    assert "work_failed" in await timeline_kinds(bot, incident)
    assert pagerduty.pages == 0


async def test_the_page_coming_back_as_a_pagerduty_incident_shows_who_was_paged_and_counts_their_ack(
        bot: RunningBot, pagerduty: FakePagerDuty) -> None:
    incident = await bot.declare(severity=1)
    await paged(bot)
    reference = incident.reference
    triggered = pagerduty_event(incident_key=reference, title=f"[SEV-1] {incident.title}",
                                assignees=("Earline Greenholt",))
    answer = await post_pagerduty(bot.url, triggered)
    assert answer.status_code == 202, answer.text
    assert "whose page it is" in answer.json()["detail"]
    text = await wait_for_summary(bot, incident, "Earline Greenholt")
    assert "assigned to Earline Greenholt" in text
    acknowledged = pagerduty_event("incident.acknowledged", incident_key=reference, agent="Earline Greenholt")
    assert (await post_pagerduty(bot.url, acknowledged)).status_code == 202
    await bot.advance()
    stored = await bot.incident(incident.id or 0)
    assert stored.tta_seconds is not None, "the first acknowledgement counts for MTTA"
    kinds = await timeline_kinds(bot, incident)
    assert "page_opened" in kinds and "alert_acknowledged" in kinds
    assert bot.slack.calls_to("chat.postMessage")
    assert not [m for m in bot.slack.messages_in(bot.slack.channel_by_name("incidents").id)  # type: ignore[union-attr]
                if "Declare incident" in str(m.blocks)], "the bot's own page is never offered as a new incident"
