"""When impact started and when the incident was detected: the declare form, time to detect everywhere it is shown."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import cli
from bot.config.durations import format_duration
from bot.config.settings import IncidentConfig
from bot.slack.ids import Callback, DeclareField
from storage.models import Incident
from tests.clock import FakeClock
from tests.resolving import resolve
from tests.support import ALICE, RunningBot, declare_values

BERLIN = "Europe/Berlin"


@pytest.fixture
def bot_config(tmp_path: Path) -> IncidentConfig:
    return IncidentConfig(postmortem_dir=tmp_path / "postmortems", timezone=BERLIN)


@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock(datetime(2025, 1, 31, 11, 0, 30, tzinfo=UTC))  # 12:00:30 in Berlin


async def open_declare_form(bot: RunningBot) -> tuple[dict[str, Any], str]:
    """`/incident declare` in #general; the modal's view and its id."""
    general = bot.slack.channel_by_name("general")
    assert general is not None
    before = len(bot.slack.calls_to("views.open"))
    await bot.requests.command("declare Checkout errors", user_id=ALICE, channel_id=general.id,
                               response_url=bot.slack.new_response_url())
    opened = (await bot.slack.wait_for("views.open", count=before + 1))[-1]
    return opened.params["view"], opened.response["view"]["id"]


async def submit_declare(bot: RunningBot, view: dict[str, Any], view_id: str, *, day: str | None,
                         at: str | None) -> httpx.Response:
    """Submit the declare form with *Impact started* set to ``day`` (YYYY-MM-DD) and ``at`` (HH:MM)."""
    values = declare_values(title="Checkout errors", severity=2, commander=ALICE)
    values[DeclareField.IMPACT_DAY] = {DeclareField.IMPACT_DAY: {"type": "datepicker", "selected_date": day}}
    values[DeclareField.IMPACT_TIME] = {DeclareField.IMPACT_TIME: {"type": "timepicker", "selected_time": at,
                                                                   "timezone": BERLIN}}
    reply = await bot.requests.view_submission(callback_id=Callback.DECLARE, user_id=ALICE, values=values,
                                               private_metadata=view.get("private_metadata", ""), view_id=view_id)
    assert reply.status_code == 200, reply.text
    return reply


def errors_of(reply: httpx.Response) -> dict[str, str]:
    body = reply.json() if reply.content else {}
    return dict(body.get("errors", {})) if body.get("response_action") == "errors" else {}


async def test_impact_started_is_asked_in_the_configured_zone_and_gives_time_to_detect(
    bot: RunningBot, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    view, view_id = await open_declare_form(bot)
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert "Impact started" in labels
    picker = next(b["element"] for b in view["blocks"] if b.get("block_id") == DeclareField.IMPACT_TIME)
    assert picker["type"] == "timepicker" and picker["timezone"] == BERLIN

    started = datetime(2025, 1, 31, 11, 35, tzinfo=bot.ctx.config.tz)
    reply = await submit_declare(bot, view, view_id, day="2025-01-31", at="11:35")
    assert errors_of(reply) == {}
    await bot.settled()
    (incident,) = await bot.all_incidents()
    assert incident.impact_started_at == started
    assert incident.detected_at == incident.declared_at, "detected when declared, without an alert"
    ttd = timedelta(minutes=25, seconds=30)
    assert incident.ttd_seconds == int(ttd.total_seconds())

    await bot.advance(timedelta(minutes=1))
    stats = await bot.command_reply("stats", user_id=ALICE, channel_id=incident.channel_id or "")
    assert f"MTTD {format_duration(ttd)}" in stats

    await resolve(bot, incident)
    content = next(bot.ctx.config.postmortem_dir.glob("*.md")).read_text()
    assert f"| Time to detect (impact started → detected) | {format_duration(ttd)} |" in content
    assert f"| **Impact started** | {started:%Y-%m-%d %H:%M %Z} |" in content

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INCIDENT_BOT_CONFIG", "")
    assert await asyncio.to_thread(cli.main, ["report", "--since", "2025-01-01", "--format", "csv"]) == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["impact_started_at"] == _iso(started) and row["detected_at"] == _iso(incident.declared_at)
    assert row["time_to_detect_s"] == str(int(ttd.total_seconds()))
    assert await asyncio.to_thread(cli.main, ["report", "--since", "2025-01-01"]) == 0
    assert f"| MTTD (mean time to detect) | {format_duration(ttd)} |" in capsys.readouterr().out


async def test_a_time_alone_is_today_and_a_start_still_to_come_or_a_day_alone_is_refused(bot: RunningBot) -> None:
    view, view_id = await open_declare_form(bot)
    local_now = bot.clock.now().astimezone(bot.ctx.config.tz)
    later = local_now + timedelta(hours=2)
    refused = errors_of(await submit_declare(bot, view, view_id, day=f"{later:%Y-%m-%d}", at=f"{later:%H:%M}"))
    assert "still to come" in refused[DeclareField.IMPACT_DAY]
    refused = errors_of(await submit_declare(bot, view, view_id, day=f"{local_now:%Y-%m-%d}", at=None))
    assert "Pick the time" in refused[DeclareField.IMPACT_TIME]
    assert await bot.all_incidents() == []

    assert errors_of(await submit_declare(bot, view, view_id, day=None, at="11:50")) == {}
    (incident,) = await bot.all_incidents()
    assert incident.impact_started_at == datetime(2025, 1, 31, 10, 50, tzinfo=UTC)


async def test_without_an_impact_start_nothing_is_measured(bot: RunningBot) -> None:
    incident: Incident = await bot.declare()
    assert incident.impact_started_at is None and incident.ttd_seconds is None
    assert incident.detected_at == incident.declared_at
    await bot.advance(timedelta(minutes=1))
    stats = await bot.command_reply("stats", user_id=ALICE, channel_id=incident.channel_id or "")
    assert "*1 incident*" in stats and "MTTD —" in stats


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
