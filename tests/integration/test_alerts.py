"""Alerts in: PagerDuty's V3 webhooks and Alertmanager's (or Grafana's) webhook, as each sender sends them,
declaring an incident by themselves or asking in the announcements channel first."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.slack.ids import Action, Callback, DeclareField
from storage import queries
from storage.models import Role
from tests.alert_senders import (
    ALERTS_TOKEN,
    alert,
    alertmanager_group,
    grafana_group,
    pagerduty_event,
    post_alertmanager,
    post_pagerduty,
)
from tests.alerting import (
    ENV,
    accepted,
    alerting_config,
    alerts,
    announcements,
    buttons,
    channel_posts,
    finished,
    incidents,
    timeline,
)
from tests.pagerduty_stub import FakePagerDuty
from tests.resolving import resolve
from tests.support import BOB, CAROL, RunningBot, declare_values

STARTED = datetime(2026, 5, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
def alerting_bot(make_bot: Callable[..., Any], pagerduty: FakePagerDuty, tmp_path: Path) -> Callable[..., Any]:
    """Start a bot taking alerts, each source declaring as ``declare`` says."""

    async def start(declare: str = "auto") -> RunningBot:
        config = alerting_config(events_url=pagerduty.events_url, declare=declare,
                                 postmortem_dir=tmp_path / "postmortems")
        return await make_bot(config, **ENV)

    return start


# --- declare = "auto" --------------------------------------------------------------------------


async def test_a_pagerduty_incident_declares_one_incident_however_often_it_is_delivered(
        alerting_bot: Callable[..., Any], pagerduty: FakePagerDuty) -> None:
    bot = await alerting_bot()
    event = pagerduty_event(event_id="01DELIVERY", urgency="high")
    assert await accepted(await post_pagerduty(bot.url, event)) == "declaring an incident"
    for _ in range(3):
        assert "already received" in await accepted(await post_pagerduty(bot.url, event))
    [incident] = await incidents(bot)
    again = pagerduty_event(event_id="01ANOTHER")
    assert "logged on the timeline" in await accepted(await post_pagerduty(bot.url, again))
    assert len(await incidents(bot)) == 1
    assert incident.title == "The server is on fire."
    assert incident.severity == 2, "urgency high maps to SEV-2"
    assert incident.detected_at == STARTED, "PagerDuty's created_at is when it was detected"
    assert incident.declared_by == (await bot.ctx.slack.identity())["user_id"]
    assert "PagerDuty incident #1234" in incident.description
    async with bot.ctx.db.session() as session:
        assert Role.IC not in await queries.current_roles(session=session, incident_id=incident.id or 0)
    note = [p for p in channel_posts(bot, incident.channel_id) if "Declared automatically" in p]
    assert note and "/incident ic @you" in note[0]
    assert pagerduty.events == [], "PagerDuty already paged for its own incident"
    [stored] = await alerts(bot)
    assert stored.incident_id == incident.id


async def test_a_firing_alert_group_declares_at_the_mapped_severity_and_pages_out(
        alerting_bot: Callable[..., Any], pagerduty: FakePagerDuty) -> None:
    bot = await alerting_bot()
    group = alertmanager_group(alert(severity="critical", starts_at="2026-05-20T13:58:45Z"))
    assert await accepted(await post_alertmanager(bot.url, group)) == "declaring an incident"
    assert "already received" in await accepted(await post_alertmanager(bot.url, group))
    [incident] = await incidents(bot)
    assert incident.severity == 1
    assert incident.title == "BlackBox Probe Failure: https://server.example.org"
    assert incident.detected_at == datetime(2026, 5, 20, 13, 58, 45, tzinfo=UTC)
    assert "Runbook: https://runbooks.example.org/probe-failure" in incident.description
    await bot.wait_until(lambda: pagerduty.pages == 1, timeout=10)
    assert pagerduty.accepted("trigger")[0]["dedup_key"] == incident.reference


async def test_later_deliveries_go_on_the_linked_incident_s_timeline_and_the_first_ack_counts_for_mtta(
        alerting_bot: Callable[..., Any]) -> None:
    bot = await alerting_bot()
    await accepted(await post_pagerduty(bot.url, pagerduty_event()))
    [incident] = await incidents(bot)
    ack = pagerduty_event("incident.acknowledged", agent="Earline Greenholt",
                          occurred_at=datetime.now(UTC).isoformat())
    assert "logged on the timeline" in await accepted(await post_pagerduty(bot.url, ack))
    assert "already" in await accepted(await post_pagerduty(bot.url, ack))
    await finished(bot)
    first = (await bot.incident(incident.id or 0)).tta_seconds
    assert first is not None
    await accepted(await post_pagerduty(bot.url, pagerduty_event("incident.unacknowledged")))
    await accepted(await post_pagerduty(bot.url, pagerduty_event("incident.acknowledged", agent="Tenex Engineer",
                                                                 occurred_at="2027-01-01T00:00:00Z")))
    await accepted(await post_pagerduty(bot.url, pagerduty_event("incident.resolved", agent="Tenex Engineer")))
    await finished(bot)
    assert (await bot.incident(incident.id or 0)).tta_seconds == first, "only the first acknowledgement counts"
    entries = await timeline(bot, incident)
    assert ("alert_acknowledged", "Acknowledged in PagerDuty by Earline Greenholt") in entries
    assert ("alert_resolved", "Resolved in PagerDuty by Tenex Engineer") in entries
    assert len([kind for kind, _ in entries if kind == "alert_acknowledged"]) == 2
    posts = channel_posts(bot, incident.channel_id)
    assert any("was acknowledged in PagerDuty by Earline Greenholt" in p for p in posts)
    assert any("resolved in PagerDuty by Tenex Engineer" in p and "/incident resolve" in p for p in posts)
    assert (await bot.incident(incident.id or 0)).is_open, "PagerDuty resolving does not resolve the incident"


async def test_an_alert_group_that_resolves_fires_again_on_the_same_incident_until_that_is_resolved(
        alerting_bot: Callable[..., Any]) -> None:
    bot = await alerting_bot()
    firing = alertmanager_group(alert())
    resolved = alertmanager_group(alert(status="resolved", ends_at="2026-05-20T14:20:00Z"))
    await accepted(await post_alertmanager(bot.url, firing))
    [incident] = await incidents(bot)
    assert "logged" in await accepted(await post_alertmanager(bot.url, resolved))
    refire = alertmanager_group(alert(starts_at="2026-05-20T14:25:00Z"))
    assert "logged" in await accepted(await post_alertmanager(bot.url, refire))
    await finished(bot)
    posts = channel_posts(bot, incident.channel_id)
    assert any("resolved in Alertmanager" in p for p in posts)
    assert any("is firing again" in p for p in posts)
    assert len(await incidents(bot)) == 1
    await resolve(bot, incident)
    resolved_again = alertmanager_group(alert(status="resolved", starts_at="2026-05-20T14:25:00Z",
                                              ends_at="2026-05-20T14:40:00Z"))
    assert "logged" in await accepted(await post_alertmanager(bot.url, resolved_again))
    later = alertmanager_group(alert(starts_at="2026-06-01T09:00:00Z"))
    assert await accepted(await post_alertmanager(bot.url, later)) == "declaring an incident"
    assert len(await incidents(bot)) == 2, "once both are over, the alert firing again is news"


# --- declare = "button" ------------------------------------------------------------------------


async def open_declare_from(bot: RunningBot, message: Any, user: str) -> Any:
    channel = bot.slack.channel_by_name("incidents")
    assert channel is not None
    before = len(bot.slack.calls_to("views.open"))
    [declare] = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == Action.ALERT_DECLARE]
    answer = await bot.requests.block_actions(user_id=user, action_id=Action.ALERT_DECLARE, value=declare["value"],
                                              channel_id=channel.id, message_ts=message.ts)
    assert answer.status_code == 200
    calls = await bot.slack.wait_for("views.open", count=before + 1)
    assert calls[-1].ok, calls[-1].response
    return calls[-1]


def field(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)


async def submit(bot: RunningBot, opened: Any, user: str, **values: Any) -> None:
    view = opened.params["view"]
    answer = await bot.requests.view_submission(
        callback_id=Callback.DECLARE, user_id=user, private_metadata=view["private_metadata"],
        view_id=opened.response["view"]["id"],
        values=declare_values(title=field(view, DeclareField.TITLE)["initial_value"], commander=user,
                              severity=int(field(view, DeclareField.SEVERITY)["initial_option"]["value"]),
                              description=field(view, DeclareField.DESCRIPTION)["initial_value"], **values))
    assert answer.status_code == 200 and not answer.content, answer.text


async def test_an_alert_is_offered_with_buttons_and_declare_incident_opens_the_form_filled_in(
        alerting_bot: Callable[..., Any]) -> None:
    bot = await alerting_bot("button")
    assert "announcements" in await accepted(await post_pagerduty(bot.url, pagerduty_event(urgency="low")))
    await finished(bot)
    [message] = announcements(bot)
    assert buttons(message) == ["Declare incident", "Dismiss"]
    assert "PagerDuty alert:* The server is on fire." in message.text
    assert "<https://acme.pagerduty.com/incidents/PT4KHLK|PagerDuty incident #1234>" in message.text
    assert await bot.all_incidents() == [], "nothing is declared until someone says so"

    opened = await open_declare_from(bot, message, BOB)
    too_late = await open_declare_from(bot, message, CAROL)
    view = opened.params["view"]
    assert field(view, DeclareField.TITLE)["initial_value"] == "The server is on fire."
    assert field(view, DeclareField.SEVERITY)["initial_option"]["value"] == "3", "urgency low maps to SEV-3"
    description = field(view, DeclareField.DESCRIPTION)["initial_value"]
    assert "PagerDuty incident #1234" in description and "https://acme.pagerduty.com/incidents/PT4KHLK" in description

    await submit(bot, opened, BOB)
    await submit(bot, too_late, CAROL)
    [incident] = await incidents(bot)
    assert incident.declared_by == BOB and incident.detected_at == STARTED
    await bot.wait_until(lambda: "Declared as" in announcements(bot)[0].text)
    [message] = announcements(bot)
    assert buttons(message) == [] and f"*{incident.reference}*" in message.text
    assert any("Declared from the PagerDuty alert" in p for p in channel_posts(bot, incident.channel_id))

    url = bot.slack.new_response_url()
    channel = bot.slack.channel_by_name("incidents")
    assert channel is not None
    await bot.requests.block_actions(user_id=CAROL, action_id=Action.ALERT_DECLARE, value=str(incident.id),
                                     channel_id=channel.id, message_ts=message.ts, response_url=url)
    [reply] = await bot.slack.wait_for_response(url)
    assert f"already declared as {incident.reference}" in reply["text"]


async def test_dismiss_takes_the_buttons_away_for_everyone_once(alerting_bot: Callable[..., Any]) -> None:
    bot = await alerting_bot("button")
    await accepted(await post_alertmanager(bot.url, grafana_group(alert(severity="warning"))))
    await finished(bot)
    [message] = announcements(bot)
    assert "Grafana alert:" in message.text and "*Severity:* SEV-3" in message.text
    channel = bot.slack.channel_by_name("incidents")
    assert channel is not None
    value = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]][1]["value"]
    for _ in range(2):
        await bot.requests.block_actions(user_id=BOB, action_id=Action.ALERT_DISMISS, value=value,
                                         channel_id=channel.id, message_ts=message.ts)
    await bot.wait_until(lambda: "Dismissed by" in announcements(bot)[0].text)
    [message] = announcements(bot)
    assert buttons(message) == [] and f"<@{BOB}>" in message.text
    assert len(bot.slack.calls_to("chat.update")) == 1
    assert await bot.all_incidents() == []
    resolved = grafana_group(alert(severity="warning", status="resolved", ends_at="2026-05-20T14:30:00Z"))
    assert "noted" in await accepted(await post_alertmanager(bot.url, resolved))


async def test_an_offered_alert_that_resolves_says_so_and_can_still_be_declared(
        alerting_bot: Callable[..., Any]) -> None:
    bot = await alerting_bot("button")
    await accepted(await post_alertmanager(bot.url, alertmanager_group(alert())))
    await accepted(await post_alertmanager(bot.url, alertmanager_group(alert(status="resolved",
                                                                             ends_at="2026-05-20T14:30:00Z"))))
    await finished(bot)
    assert "*Resolved:*" in announcements(bot)[0].text
    assert buttons(announcements(bot)[0]) == ["Declare incident", "Dismiss"]


async def test_declare_off_ignores_new_alerts(alerting_bot: Callable[..., Any]) -> None:
    bot = await alerting_bot("off")
    assert "ignored" in await accepted(await post_alertmanager(bot.url, alertmanager_group(alert())))
    assert "ignored" in await accepted(await post_pagerduty(bot.url, pagerduty_event()))
    assert await alerts(bot) == [] and await incidents(bot) == []


# --- a flood ---------------------------------------------------------------------------------


async def test_a_flood_of_deliveries_for_one_alert_makes_one_incident_and_little_slack_traffic(
        alerting_bot: Callable[..., Any]) -> None:
    bot = await alerting_bot()
    instances = [f"https://host{n}.example.org" for n in range(20)]
    bodies = [json.dumps(alertmanager_group(*(alert(instance=i) for i in instances[: 1 + n % 20]))).encode()
              for n in range(300)]
    headers = {"Authorization": f"Bearer {ALERTS_TOKEN}", "Content-Type": "application/json"}

    async def deliver(client: aiohttp.ClientSession, body: bytes) -> tuple[int, str]:
        async with client.post(f"{bot.url}/webhooks/alertmanager", data=body, headers=headers) as answer:
            return answer.status, (await answer.json())["detail"]

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as client:
        answers = await asyncio.gather(*(deliver(client, body) for body in bodies))
    assert {status for status, _ in answers} == {202}
    assert [detail for _, detail in answers].count("declaring an incident") == 1
    [incident] = await incidents(bot)
    refires = [text for kind, text in await timeline(bot, incident) if kind == "alert_firing"]
    assert len(refires) <= 19, "one entry per distinct report; repeats are deduplicated"
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == incident.channel_id]
    assert len(posts) <= 3, [c.params.get("text", "")[:80] for c in posts]
    assert all(call.ok for call in bot.slack.calls_to("chat.postMessage"))
