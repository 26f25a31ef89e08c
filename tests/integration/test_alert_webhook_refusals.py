"""Alert webhooks refuse what their senders did not sign or did not shape as documented, changing nothing;
PagerDuty's events that change nothing here are accepted, so PagerDuty keeps the subscription."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage import queries
from tests.alert_senders import (
    ALERTS_TOKEN,
    PAGERDUTY_SECRET,
    alert,
    alertmanager_group,
    pagerduty_event,
    pagerduty_ping,
    pagerduty_signature,
    post_alertmanager,
    post_pagerduty,
)
from tests.alerting import ENV, alerting_config, alerts, finished
from tests.support import RunningBot


@pytest.fixture
async def alerting_bot(make_bot: Callable[..., Any], tmp_path: Path) -> RunningBot:
    """Both webhooks on (pages would go nowhere: nothing here pages)."""
    return await make_bot(alerting_config(events_url="http://127.0.0.1:9/v2/enqueue", declare="auto",
                                          postmortem_dir=tmp_path), **ENV)


async def nothing_changed(bot: RunningBot) -> None:
    await finished(bot)
    assert await alerts(bot) == [] and await bot.all_incidents() == []
    async with bot.ctx.db.session() as session:
        assert not await queries.delivery_claimed(session=session, key="pagerduty:01REFUSED")


async def test_pagerduty_deliveries_without_a_valid_signature_or_shape_are_refused_and_change_nothing(
        alerting_bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    bot = alerting_bot
    event = pagerduty_event(event_id="01REFUSED", title="secret-project-codename down")
    body = json.dumps(event).encode()
    caplog.set_level(logging.INFO)
    for answer in (await post_pagerduty(bot.url, event, secrets=()),
                   await post_pagerduty(bot.url, event, secrets=("not-the-secret",)),
                   await post_pagerduty(bot.url, event, signature=pagerduty_signature(body + b" ", PAGERDUTY_SECRET))):
        assert answer.status_code == 401
        assert answer.json() == {"error": "X-PagerDuty-Signature is missing or does not match the body"}
    unknown = {"event": {**event["event"], "event_type": "invoice.paid"}}
    assert (await post_pagerduty(bot.url, unknown)).status_code == 400
    shapeless = {"event": {**event["event"], "data": {"type": "incident"}}}
    refused = await post_pagerduty(bot.url, shapeless)
    assert refused.status_code == 400 and refused.json()["error"].startswith("event.data.id: field required")
    async with httpx.AsyncClient() as client:
        raw = b"{not json"
        answer = await client.post(f"{bot.url}/webhooks/pagerduty", content=raw,
                                   headers={"X-PagerDuty-Signature": pagerduty_signature(raw, PAGERDUTY_SECRET)})
    assert answer.status_code == 400 and answer.json() == {"error": "the body is not JSON"}
    await nothing_changed(bot)
    logged = caplog.text
    assert "refused a PagerDuty webhook" in logged
    assert "secret-project-codename" not in logged and PAGERDUTY_SECRET not in logged


async def test_pagerduty_events_that_change_nothing_here_are_accepted_so_pagerduty_keeps_the_subscription(
        alerting_bot: RunningBot) -> None:
    bot = alerting_bot
    for payload in (pagerduty_ping(), pagerduty_event("incident.annotated")):
        answer = await post_pagerduty(bot.url, payload)
        assert answer.status_code == 202 and answer.json()["status"] == "ignored"
    rotated = await post_pagerduty(bot.url, pagerduty_event(), secrets=("the-old-secret", PAGERDUTY_SECRET))
    assert rotated.status_code == 202


async def test_alertmanager_deliveries_without_the_token_or_shape_are_refused_and_change_nothing(
        alerting_bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    bot = alerting_bot
    caplog.set_level(logging.INFO)
    group = alertmanager_group(alert())
    for token in (None, "wrong-token"):
        answer = await post_alertmanager(bot.url, group, token=token)
        assert answer.status_code == 401
        assert answer.json() == {"error": "the Authorization bearer token is missing or wrong"}
    answer = await post_alertmanager(bot.url, {**group, "version": "3"})
    assert answer.status_code == 400 and "version" in answer.json()["error"]
    assert (await post_alertmanager(bot.url, b"[1, 2]")).status_code == 400
    await nothing_changed(bot)
    assert "wrong-token" not in caplog.text and ALERTS_TOKEN not in caplog.text


async def test_webhooks_of_unconfigured_sources_are_refused(bot: RunningBot) -> None:
    assert (await post_pagerduty(bot.url, pagerduty_event())).status_code == 401
    assert (await post_alertmanager(bot.url, alertmanager_group(alert()))).status_code == 401
    assert await alerts(bot) == []
