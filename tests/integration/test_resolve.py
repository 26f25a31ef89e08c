"""Resolving and reopening through the modal, end to end against the local Slack."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config.settings import IncidentConfig
from bot.resolution.followups import ARCHIVE, REVIEW
from bot.resolution.postmortem import filename_for
from bot.runtime.scheduler import scheduled
from bot.slack.ids import ResolveField
from storage import queries
from storage.models import Phase, StatusDraft
from tests.clock import FakeClock
from tests.reminding import button_ids, message, prompt_calls, reminder_job
from tests.resolving import open_resolve_modal, resolve, submit_resolve
from tests.support import ALICE, BOB, RunningBot, stop_bot

pytestmark = pytest.mark.asyncio


SECOND = timedelta(seconds=1)
CADENCE = timedelta(minutes=30)
"""SEV-2's update cadence in the playbook."""
REVIEW_WITHIN = timedelta(hours=48)
"""SEV-2's post-mortem review in the playbook."""


@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock()


def texts(bot: RunningBot, channel_id: str) -> list[str]:
    return [m.text + json.dumps(m.blocks or []) for m in bot.slack.messages_in(channel_id)]


async def kinds(bot: RunningBot, incident_id: int) -> list[str]:
    async with bot.ctx.db.session() as session:
        return [e.kind for e in await queries.timeline(session=session, incident_id=incident_id)]


async def test_resolve_modal_has_the_contract_labels(bot: RunningBot) -> None:
    incident = await bot.declare("Checkout errors", customer_impact=True)
    opened = await open_resolve_modal(bot, incident)
    view = opened.params["view"]
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["Summary", "Root cause", "Customers affected"]
    affected = next(b for b in view["blocks"] if b.get("block_id") == ResolveField.CUSTOMERS_AFFECTED)
    assert affected["element"]["initial_option"]["value"] == "yes", "prefilled from the declared impact"


async def test_resolving_through_the_modal_closes_and_tells_everyone(bot: RunningBot) -> None:
    incident = await bot.declare("Checkout errors", severity=2, responders=[BOB])
    resolved = await resolve(bot, incident, summary="Rolled back release 42", root_cause="A bad config flag")

    assert resolved.phase is Phase.RESOLVED
    assert resolved.resolved_at is not None and resolved.resolved_by == ALICE
    assert resolved.resolution_summary == "Rolled back release 42"
    assert resolved.root_cause == "A bad config flag"
    assert resolved.customers_affected is True
    assert resolved.next_update_due is None

    channel = texts(bot, incident.channel_id)
    assert any(f"INC-{incident.id} resolved" in t and "Rolled back release 42" in t for t in channel)
    announcements = bot.slack.channel_by_name("incidents")
    assert any("resolved" in m.text and f"<#{incident.channel_id}>" in m.text for m in announcements.messages)

    summary = next(m for m in bot.slack.messages_in(incident.channel_id) if m.ts == incident.summary_ts)
    assert "Resolved" in json.dumps(summary.blocks)
    assert not [b for b in summary.blocks if b["type"] == "actions"], "no buttons once resolved"
    assert "resolved" in await kinds(bot, incident.id)


async def test_the_summary_button_opens_the_same_modal(bot: RunningBot) -> None:
    incident = await bot.declare("Search down")
    resolved = await resolve(bot, incident, via="button", summary="Restarted the cluster")
    assert resolved.resolution_summary == "Restarted the cluster"


async def test_private_and_drill_resolutions_are_not_announced(bot: RunningBot) -> None:
    private = await bot.declare("Credential leak", private=True)
    drill = await bot.declare("Game day", drill=True)
    await resolve(bot, private)
    await resolve(bot, drill)
    assert bot.slack.channel_by_name("incidents").messages == []
    assert any("resolved" in t for t in texts(bot, private.channel_id))


async def test_resolving_twice_is_refused_and_changes_nothing(bot: RunningBot) -> None:
    incident = await bot.declare("Queue stuck")
    first = await open_resolve_modal(bot, incident)
    second = await open_resolve_modal(bot, incident)
    reply = await submit_resolve(bot, first, summary="Drained the queue")
    assert not reply.content
    await bot.slack.wait_for("files.completeUploadExternal")
    resolved_at = (await bot.incident(incident.id)).resolved_at

    late = await submit_resolve(bot, second, summary="Something else")
    assert late.json()["response_action"] == "errors"
    assert "already resolved" in late.json()["errors"][ResolveField.SUMMARY]

    url = bot.slack.new_response_url()
    await bot.requests.command("resolve", user_id=ALICE, channel_id=incident.channel_id, response_url=url)
    refusal = await bot.slack.wait_for_response(url)
    assert "already resolved" in refusal[0]["text"]

    after = await bot.incident(incident.id)
    assert after.resolved_at == resolved_at and after.resolution_summary == "Drained the queue"
    assert (await kinds(bot, incident.id)).count("resolved") == 1


async def test_the_same_submission_twice_resolves_once(bot: RunningBot) -> None:
    incident = await bot.declare("Double click")
    opened = await open_resolve_modal(bot, incident)
    for _ in range(2):
        await submit_resolve(bot, opened, summary="Fixed")
    await bot.slack.wait_for("files.completeUploadExternal")
    await bot.idle()
    assert (await kinds(bot, incident.id)).count("resolved") == 1
    resolutions = [t for t in texts(bot, incident.channel_id) if f"INC-{incident.id} resolved" in t]
    assert len(resolutions) == 1


async def test_resolve_outside_an_incident_channel_is_refused(bot: RunningBot) -> None:
    general = bot.slack.channel_by_name("general").id
    for text in ("resolve", "reopen", "postmortem"):
        url = bot.slack.new_response_url()
        await bot.requests.command(text, user_id=ALICE, channel_id=general, response_url=url)
        reply = await bot.slack.wait_for_response(url)
        assert "only in an incident channel" in reply[0]["text"]
    assert bot.slack.calls_to("views.open") == []


async def test_an_empty_summary_is_a_field_error(bot: RunningBot) -> None:
    incident = await bot.declare("Empty summary")
    opened = await open_resolve_modal(bot, incident)
    reply = await submit_resolve(bot, opened, summary="   ", affected=None)
    errors = reply.json()["errors"]
    assert set(errors) == {ResolveField.SUMMARY, ResolveField.CUSTOMERS_AFFECTED}
    assert (await bot.incident(incident.id)).is_open


async def test_status_resolved_opens_the_resolve_modal(bot: RunningBot) -> None:
    incident = await bot.declare("Status resolved")
    await bot.requests.command("status resolved", user_id=ALICE, channel_id=incident.channel_id)
    opened = await bot.slack.wait_for("views.open", count=2)
    assert opened[-1].params["view"]["title"]["text"] == "Resolve incident"


async def test_reopen_goes_back_to_investigating(bot: RunningBot) -> None:
    incident = await bot.declare("Flapping", severity=1)
    await resolve(bot, incident)
    await bot.requests.command("reopen", user_id=BOB, channel_id=incident.channel_id)
    await bot.wait_until(lambda: any("reopened" in t for t in texts(bot, incident.channel_id)))
    reopened = await bot.incident(incident.id)
    assert reopened.is_open and reopened.phase is Phase.INVESTIGATING
    assert reopened.next_update_due is not None
    assert "reopened" in await kinds(bot, incident.id)
    summary = next(m for m in bot.slack.messages_in(incident.channel_id) if m.ts == incident.summary_ts)
    await bot.wait_until(lambda: any(b["type"] == "actions" for b in summary.blocks))

    url = bot.slack.new_response_url()
    await bot.requests.command("reopen", user_id=BOB, channel_id=incident.channel_id, response_url=url)
    refusal = await bot.slack.wait_for_response(url)
    assert "nothing to reopen" in refusal[0]["text"]

    again = await resolve(bot, reopened, summary="Fixed for real")
    assert again.resolution_summary == "Fixed for real"


# -- reminders, the resolved draft and the follow-ups ---------------------------------


def with_policy(tmp_path: Path, **config: object) -> IncidentConfig:
    """The playbook's SEV-2 policy with some keys replaced, as a TOML file would."""
    severities = config.pop("severities", {})
    return IncidentConfig.model_validate({"postmortem_dir": str(tmp_path / "postmortems"),
                                          "severities": {"SEV-2": severities}, **config})


async def test_resolving_stops_reminders_and_reopening_rearms_them(bot: RunningBot) -> None:
    incident = await bot.declare("Reminders", severity=2)
    await bot.advance(CADENCE)
    (prompt,) = prompt_calls(bot.slack, incident.channel_id)
    await resolve(bot, incident)
    assert reminder_job(bot, incident.id) is None
    await bot.wait_until(lambda: not button_ids(message(bot.slack, incident.channel_id, prompt.response["ts"]).blocks))
    await bot.advance(2 * CADENCE)
    assert len(prompt_calls(bot.slack, incident.channel_id)) == 1, "no prompt once resolved"

    await bot.requests.command("reopen", user_id=ALICE, channel_id=incident.channel_id)
    await bot.wait_until(lambda: reminder_job(bot, incident.id))
    reopened_at = bot.clock.now()
    await bot.advance(CADENCE)
    assert len(prompt_calls(bot.slack, incident.channel_id)) == 2
    assert (await bot.incident(incident.id)).next_update_due == reopened_at + 2 * CADENCE


async def test_a_customer_facing_resolution_proposes_the_resolved_draft(bot: RunningBot) -> None:
    incident = await bot.declare("Checkout errors", customer_impact=True)
    await resolve(bot, incident, summary="Payments work again")

    async def drafted() -> list[StatusDraft]:
        async with bot.ctx.db.session() as session:
            found = await session.exec(select(StatusDraft).where(StatusDraft.incident_id == incident.id))
            return [d for d in found.all() if d.phase is Phase.RESOLVED]

    await bot.wait_until(drafted)
    assert "Payments work again" in (await drafted())[0].text


async def test_review_reminder_goes_to_the_ic_and_the_channel_is_archived(make_bot, tmp_path: Path) -> None:
    bot = await make_bot(with_policy(tmp_path, archive_after="3d"))
    incident = await bot.declare("Follow-ups", severity=2, commander=BOB)
    resolved = await resolve(bot, incident)
    resolution = next(t for t in texts(bot, incident.channel_id) if f"INC-{incident.id} resolved" in t)
    assert f"<@{BOB}>, please hold it by" in resolution and "will be archived" in resolution

    await bot.advance(REVIEW_WITHIN - SECOND)
    assert not any("post-mortem review" in t for t in texts(bot, incident.channel_id))
    await bot.advance(SECOND)
    reminder = next(t for t in texts(bot, incident.channel_id) if "post-mortem review of" in t)
    assert f"<@{BOB}>" in reminder and filename_for(bot.ctx, incident) in reminder
    assert (await bot.incident(incident.id)).review_reminded_at == resolved.resolved_at + REVIEW_WITHIN

    await bot.advance(timedelta(days=3) - REVIEW_WITHIN - SECOND)
    assert not bot.slack.channels[incident.channel_id].is_archived
    await bot.advance(SECOND)
    assert bot.slack.channels[incident.channel_id].is_archived
    stored = await bot.incident(incident.id)
    assert stored.review_reminded_at is not None and stored.archived_at == resolved.resolved_at + timedelta(days=3)
    assert {"postmortem_reminder", "channel_archived"} <= set(await kinds(bot, incident.id))
    assert texts(bot, incident.channel_id)[-1].count("post-mortem review of") == 0, "said why, then archived"


async def test_follow_ups_survive_a_restart_and_run_once(make_bot, tmp_path: Path, bot_clock: FakeClock) -> None:
    policy = with_policy(tmp_path)
    first = await make_bot(policy)
    incident = await first.declare("Restart me", severity=2)
    await resolve(first, incident)
    await stop_bot(first)
    bot_clock.advance(REVIEW_WITHIN + timedelta(hours=1))

    second = await make_bot(policy)
    assert not any("post-mortem review of" in t for t in texts(second, incident.channel_id))
    await second.advance()
    await second.advance(timedelta(hours=1))
    reminders = [t for t in texts(second, incident.channel_id) if "post-mortem review of" in t]
    assert len(reminders) == 1
    assert scheduled(second.ctx, REVIEW) == {}


async def test_reopening_cancels_the_follow_ups(make_bot, tmp_path: Path) -> None:
    # Open again, it is prompted as usual: every 12 hours keeps the two days short.
    bot = await make_bot(with_policy(tmp_path, archive_after="2d", severities={"update_every": "12h"}))
    incident = await bot.declare("Reopened quickly", severity=2)
    await resolve(bot, incident)
    assert set(_followups(bot)) == {f"{REVIEW}{incident.id}", f"{ARCHIVE}{incident.id}"}
    await bot.requests.command("reopen", user_id=ALICE, channel_id=incident.channel_id)
    await bot.wait_until(lambda: any("reopened" in t for t in texts(bot, incident.channel_id)))
    await bot.wait_until(lambda: not _followups(bot))
    await bot.advance(REVIEW_WITHIN + timedelta(days=1))
    assert not any("post-mortem review of" in t for t in texts(bot, incident.channel_id))
    assert not bot.slack.channels[incident.channel_id].is_archived


def _followups(bot: RunningBot) -> dict[str, object]:
    return {**scheduled(bot.ctx, REVIEW), **scheduled(bot.ctx, ARCHIVE)}
