"""Response metrics: exact numbers from known times, `/incident stats`, the report command, /metrics."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime, timedelta

import httpx
import pytest

from bot import cli
from bot.metrics.stats import compute_report
from storage import queries
from storage.models import Incident, Phase
from tests.channel_commands import event_payload
from tests.clock import FakeClock
from tests.resolving import resolve
from tests.support import ALICE, BOB, DAVE, RunningBot

pytestmark = pytest.mark.asyncio

MIN = timedelta(minutes=1)
REPORT_COLUMNS = [
    "reference", "title", "severity", "phase", "private", "drill", "impact_started_at", "detected_at",
    "declared_at", "acknowledged_at", "identified_at", "resolved_at", "time_to_detect_s", "time_to_acknowledge_s",
    "time_to_identify_s", "time_to_resolve_s", "respond_met", "resolve_met", "updates", "late_updates",
]
"""The CSV report's header, in the order SPEC section 6 gives."""


@pytest.fixture
def bot_clock() -> FakeClock:
    return FakeClock()


def _seconds(offset: timedelta | None) -> int | None:
    return None if offset is None else int(offset.total_seconds())


async def store(bot: RunningBot, *, severity: int, ago: timedelta, ack: timedelta | None = None,
                identified: timedelta | None = None, resolved: timedelta | None = None, drill: bool = False,
                check_ins: tuple[timedelta, ...] = ()) -> int:
    """An incident declared `ago` before the bot's now, with its milestones at the given offsets from the declaration."""
    declared = bot.clock.now() - ago
    incident = Incident(request_key=f"test:{declared.timestamp()}:{severity}:{drill}", title="Stored",
                        severity=severity, declared_by=ALICE, declared_at=declared, drill=drill,
                        tta_seconds=_seconds(ack), tti_seconds=_seconds(identified), ttr_seconds=_seconds(resolved),
                        resolved_at=declared + resolved if resolved is not None else None,
                        phase=Phase.RESOLVED if resolved is not None else Phase.INVESTIGATING)
    async with bot.ctx.db.session() as session:
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        for offset in check_ins:
            await queries.record_check_in(session=session, incident_id=incident.id, at=declared + offset,
                                          cadence=bot.ctx.config.policy(severity).update_every)
    return incident.id


async def test_metrics_are_exact_and_leave_drills_out(bot: RunningBot) -> None:
    day = timedelta(days=1)
    # SEV-1 targets: respond 5m, resolve 1h, updates every 15m.
    await store(bot, severity=1, ago=2 * day, ack=2 * MIN, identified=10 * MIN, resolved=40 * MIN,
                check_ins=(10 * MIN, 25 * MIN, 40 * MIN))  # on time throughout
    await store(bot, severity=1, ago=3 * day, ack=8 * MIN, identified=30 * MIN, resolved=100 * MIN,
                check_ins=(20 * MIN, 30 * MIN, 100 * MIN))  # 5m late, on time, 55m late
    await store(bot, severity=1, ago=4 * MIN)  # open, still inside both windows: counts neither way
    await store(bot, severity=1, ago=day, ack=1 * MIN, resolved=5 * MIN, drill=True)
    await store(bot, severity=3, ago=40 * day, ack=MIN, resolved=MIN)  # outside a 30-day window

    report = await compute_report(bot.ctx, days=30)
    sev1 = report.by_severity[0].metrics
    assert sev1.declared == 3 and sev1.open == 1 and sev1.resolved == 2
    assert sev1.mtta == 5 * MIN and sev1.mtti == 20 * MIN and sev1.mttr == 70 * MIN
    assert (sev1.respond.met, sev1.respond.missed) == (1, 1)
    assert (sev1.resolve.met, sev1.resolve.missed) == (1, 1)
    assert sev1.cadence.check_ins == 6 and sev1.cadence.late == 2
    assert sev1.cadence.late_mean == 30 * MIN and sev1.cadence.late_max == 55 * MIN
    assert report.total.declared == 3 and report.drills == 1
    assert all(s.metrics.declared == 0 for s in report.by_severity[1:])

    longer = await compute_report(bot.ctx, days=60)
    assert longer.total.declared == 4 and longer.by_severity[2].metrics.mttr == MIN


async def test_an_unanswered_incident_past_its_window_misses_the_sla(bot: RunningBot) -> None:
    await store(bot, severity=2, ago=20 * MIN)  # SEV-2 must be acknowledged within 15m
    sev2 = (await compute_report(bot.ctx, days=1)).by_severity[1].metrics
    assert (sev2.respond.met, sev2.respond.missed) == (0, 1)
    assert (sev2.resolve.met, sev2.resolve.missed) == (0, 0)


async def test_stats_command_replies_with_the_metrics(bot: RunningBot) -> None:
    incident = await bot.declare("Checkout errors", severity=2)
    await bot.advance(4 * MIN)
    await bot.requests.command("status identified", user_id=ALICE, channel_id=incident.channel_id)
    await bot.wait_until(lambda: _identified(bot, incident.id))
    await bot.advance(20 * MIN)
    await resolve(bot, incident)
    await bot.declare("Game day", drill=True)
    await bot.advance(MIN)

    url = bot.slack.new_response_url()
    general = bot.slack.channel_by_name("general").id
    reply = await bot.requests.command("stats 7", user_id=ALICE, channel_id=general, response_url=url)
    assert reply.status_code == 200
    text = (await bot.slack.wait_for_response(url))[0]["text"]
    assert "last 7 days" in text
    assert "*1 incident*" in text and "*SEV-2*: 1 incident" in text
    assert "Response SLA met: 1/1 (100%)" in text
    assert "1 drill left out" in text

    resolved = await bot.incident(incident.id)
    assert (resolved.tta_seconds, resolved.tti_seconds, resolved.ttr_seconds) == (240, 240, 1440)
    assert "MTTA 4m" in text and "MTTR 24m" in text


async def _identified(bot: RunningBot, incident_id: int) -> bool:
    return (await bot.incident(incident_id)).tti_seconds is not None


@pytest.mark.parametrize("days", ["0", "abc", "-3", "99999", "1.5", "٣"])
async def test_stats_with_a_bad_number_of_days_shows_the_usage(bot: RunningBot, days: str) -> None:
    general = bot.slack.channel_by_name("general").id
    text = await bot.command_reply(f"stats {days}", user_id=ALICE, channel_id=general)
    assert "not a number of days" in text and "/incident stats [days]" in text


async def test_stats_with_nothing_declared_says_so(bot: RunningBot) -> None:
    url = bot.slack.new_response_url()
    general = bot.slack.channel_by_name("general").id
    await bot.requests.command("stats", user_id=ALICE, channel_id=general, response_url=url)
    text = (await bot.slack.wait_for_response(url))[0]["text"]
    assert "last 30 days" in text and "No incidents were declared" in text


async def test_report_command_prints_markdown_and_csv(bot: RunningBot, database_url: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    await store(bot, severity=1, ago=timedelta(days=2), ack=2 * MIN, identified=10 * MIN, resolved=40 * MIN)
    await store(bot, severity=4, ago=timedelta(days=3), ack=3 * MIN, resolved=90 * MIN)
    await store(bot, severity=2, ago=timedelta(days=1), drill=True)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("INCIDENT_BOT_CONFIG", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)

    assert await asyncio.to_thread(cli.main, ["report", "--since", "30d", "--format", "md"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("# Incident report")
    assert "| Declared | 2 | 1 | 0 | 0 | 1 |" in markdown
    assert "| MTTR (mean time to resolve) | 1h 5m | 40m | — | — | 1h 30m |" in markdown
    assert "1 drill was run" in markdown

    assert "## Incidents" in markdown and markdown.index("## Metrics") < markdown.index("## Incidents")
    assert "| INC-2 | Stored | SEV-4 | resolved |" in markdown and "| INC-3 (drill) | Stored | SEV-2 |" in markdown

    assert await asyncio.to_thread(cli.main, ["report", "--since", "30d", "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0] == REPORT_COLUMNS
    rows = [dict(zip(table[0], row)) for row in table[1:]]
    assert [(r["reference"], r["severity"], r["drill"]) for r in rows] == [
        ("INC-2", "SEV-4", "false"), ("INC-1", "SEV-1", "false"), ("INC-3", "SEV-2", "true")], "oldest first"
    sev1 = rows[1]
    declared = datetime.fromisoformat(sev1["declared_at"])
    assert sev1["acknowledged_at"] == (declared + 2 * MIN).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sev1["resolved_at"] == (declared + 40 * MIN).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (sev1["time_to_acknowledge_s"], sev1["time_to_identify_s"], sev1["time_to_resolve_s"]) == (
        "120", "600", "2400")
    assert (sev1["respond_met"], sev1["resolve_met"], sev1["phase"], sev1["private"]) == (
        "true", "true", "resolved", "false")
    assert rows[0]["resolve_met"] == "true", "SEV-4 resolved in 1h 30m, within 72h"
    unmeasured = rows[2]
    assert unmeasured["acknowledged_at"] == unmeasured["time_to_resolve_s"] == unmeasured["impact_started_at"] == ""
    assert unmeasured["detected_at"] == unmeasured["declared_at"]
    assert unmeasured["respond_met"] == "false", "open a day without a response: the 15m window has run out"


async def test_an_empty_report_range_is_a_clear_empty_report(bot: RunningBot, database_url: str,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    await store(bot, severity=1, ago=timedelta(days=10), ack=MIN, resolved=MIN)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await asyncio.to_thread(cli.main, ["report", "--since", "1d"]) == 0
    out = capsys.readouterr().out
    assert "No incidents were declared in this period." in out and "## Targets" in out
    assert await asyncio.to_thread(cli.main, ["report", "--since", "1d", "--format", "csv"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [REPORT_COLUMNS]


@pytest.mark.parametrize("since", ["yesterday", "0d", "2999-01-01", "2024-02-30"])
async def test_a_bad_report_range_is_refused(bot: RunningBot, database_url: str, since: str,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await asyncio.to_thread(cli.main, ["report", "--since", since]) == 2
    assert "--since" in capsys.readouterr().err


async def test_metrics_endpoint_exposes_response_metrics(bot: RunningBot) -> None:
    await store(bot, severity=2, ago=timedelta(hours=5), ack=4 * MIN, identified=20 * MIN, resolved=2 * 60 * MIN,
                check_ins=(20 * MIN, 60 * MIN))
    await store(bot, severity=3, ago=timedelta(hours=1), drill=True)
    async with httpx.AsyncClient(base_url=bot.url) as client:
        text = (await client.get("/metrics")).text
    assert 'incident_bot_incidents_declared{severity="SEV-2"} 1.0' in text
    assert 'incident_bot_mtta_seconds{severity="SEV-2"} 240.0' in text
    assert 'incident_bot_mttr_seconds{severity="SEV-2"} 7200.0' in text
    assert 'incident_bot_sla_compliance_ratio{severity="SEV-2",target="respond"} 1.0' in text
    assert 'incident_bot_late_updates{severity="SEV-2"} 1.0' in text
    assert 'incident_bot_update_lateness_max_seconds{severity="SEV-2"} 600.0' in text
    assert "incident_bot_drills_declared 1.0" in text
    assert 'incident_bot_mtta_seconds{severity="SEV-1"}' not in text


async def test_app_home_shows_the_response_metrics(bot: RunningBot) -> None:
    await store(bot, severity=1, ago=timedelta(days=2), ack=2 * MIN, identified=10 * MIN, resolved=40 * MIN)
    await store(bot, severity=2, ago=timedelta(days=1), drill=True)
    published = len(bot.slack.calls_to("views.publish"))
    answered = await bot.requests.event(event_payload("app_home_opened", user=ALICE, channel="D0HOME", tab="home"))
    assert answered.status_code == 200
    await bot.slack.wait_for("views.publish", count=published + 1)
    home = json.dumps(bot.slack.home_view(ALICE)["blocks"])
    assert "Response metrics, last 30 days" in home and "1 drill left out" in home
    assert "MTTA *2m*" in home and "MTTR *40m*" in home and "SEV-1: 1" in home


async def test_a_private_incident_counts_only_for_its_members(bot: RunningBot) -> None:
    await bot.declare("Leaked credentials", severity=1, private=True, responders=[BOB])
    await bot.advance(MIN)
    general = bot.slack.channel_by_name("general").id

    outsider = await bot.command_reply("stats", user_id=DAVE, channel_id=general)
    assert "No incidents were declared" in outsider and "SEV-1*: 1" not in outsider
    assert "Leaked credentials" not in await bot.command_reply("list", user_id=DAVE, channel_id=general)
    for member in (ALICE, BOB):
        assert "*SEV-1*: 1 incident, 1 open" in await bot.command_reply("stats", user_id=member, channel_id=general)

    async def home_of(user: str) -> str:
        published = len(bot.slack.calls_to("views.publish"))
        await bot.requests.event(event_payload("app_home_opened", user=user, channel="D0HOME", tab="home"))
        await bot.slack.wait_for("views.publish", count=published + 1)
        return json.dumps(bot.slack.home_view(user)["blocks"])

    assert "No incidents were declared" in await home_of(DAVE)
    assert "Incidents: *1*" in await home_of(BOB)

    async with httpx.AsyncClient(base_url=bot.url) as client:
        operators = (await client.get("/metrics")).text
    assert 'incident_bot_incidents_declared{severity="SEV-1"} 1.0' in operators, "operators count everything"
