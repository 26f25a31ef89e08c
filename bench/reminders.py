"""Benchmark: update reminders with 10,000 open incidents armed.

Run from the repository root:

    python -m bench.reminders                        # SQLite in a temporary directory
    python -m bench.reminders --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.reminders --incidents 2000 --due 200 --idle 10   # a quick look

The bot runs as its own process (``incident-bot serve``) against the local Slack
stand-in, which runs in this process and timestamps every call on arrival. The
database is filled with finished declares (channel, pinned summary, IC), as if
10,000 incidents were open, SEV-3 (update every 60m) except ``--due`` of them,
SEV-2 with ``update_every = "2m"``. Three phases:

A. *Armed and idle*: start the bot; its start-up reconciliation arms one job per
   incident in the in-memory job store before the bot answers ``/healthz``. Then measure the bot's RSS and its CPU over
   ``--idle`` seconds with nothing due.
B. *Lateness*: with the bot stopped, the ``--due`` incidents are re-planned to
   fall due spread over one minute starting ``--lead`` seconds ahead (the other
   jobs stay armed); the bot is started again and every prompt's lateness is
   measured as the time the local Slack received it minus the incident's due time.
C. *Restart catch-up*: the bot is stopped right after the last of those prompts;
   each of the ``--due`` incidents is now armed for a cadence (2m) later. Once
   all of them are overdue the bot is started, and the time from starting the
   process to the last overdue prompt is measured; exactly one prompt per
   incident must arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from storage.db import create_sync_engine, migrate
from storage.models import Incident, Role, RoleAssignment, utcnow
from tests.processes import BotProcess
from tests.reminding import is_prompt
from bot.local_slack.server import Call, FakeSlack
from tests.support import ALICE, populate_workspace

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CADENCE = timedelta(minutes=2)
CONFIG = '[severities.SEV-2]\nupdate_every = "2m"\n'


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Seeded:
    """Which incidents the bench watches: channel id -> incident id, for the ones falling due."""

    due_channels: dict[str, int]


def seed(url: str, slack: FakeSlack, *, incidents: int, due: int) -> Seeded:
    """Open incidents as a finished declare leaves them, each with its own channel and pinned summary."""
    migrate(url)
    engine = create_sync_engine(url)
    declared = utcnow() - timedelta(minutes=10)
    far = utcnow() + timedelta(hours=2)
    due_channels: dict[str, int] = {}
    with Session(engine) as session:
        rows = []
        for number in range(incidents):
            channel = slack.add_channel(f"inc-bench-{number:05d}", members=[slack.bot_user_id, ALICE])
            summary = slack.add_message(channel, slack.bot_user_id, f"Summary of bench incident {number}")
            rows.append(Incident(
                id=number + 1, request_key=f"bench:{number}", title=f"Bench incident {number}",
                severity=2 if number < due else 3, declared_by=ALICE, declared_at=declared,
                next_update_due=far, channel_name=f"inc-bench-{number:05d}", channel_id=channel,
                members_invited=True, summary_ts=summary.ts, summary_pinned=True, topic_set=True,
                announced=True, declarer_told=True,
            ))
            if number < due:
                due_channels[channel] = number + 1
        session.add_all(rows)
        session.flush()
        session.add_all(RoleAssignment(incident_id=number + 1, role=Role.IC, user_id=ALICE, assigned_by=ALICE,
                                       assigned_at=declared) for number in range(incidents))
        session.commit()
    engine.dispose()
    return Seeded(due_channels=due_channels)


def replan(url: str, seeded: Seeded, *, lead: float, window: float) -> dict[int, float]:
    """Make the watched incidents fall due spread over ``window`` seconds from ``lead`` seconds ahead."""
    start = time.time() + lead
    ids = sorted(seeded.due_channels.values())
    due = {incident_id: start + window * i / len(ids) for i, incident_id in enumerate(ids)}
    engine = create_sync_engine(url)
    with engine.begin() as connection:
        for incident_id, at in due.items():
            connection.execute(text("UPDATE incident SET next_update_due = :at WHERE id = :id"),
                               {"at": utcnow() + timedelta(seconds=at - time.time()), "id": incident_id})
    engine.dispose()
    return due


def prompts_since(slack: FakeSlack, seeded: Seeded, since: int) -> list[Call]:
    return [c for c in slack.calls[since:] if is_prompt(c) and c.ok and c.params.get("channel") in seeded.due_channels]


async def wait_prompts(slack: FakeSlack, seeded: Seeded, since: int, count: int, timeout: float) -> list[Call]:
    deadline = time.time() + timeout
    while len(found := prompts_since(slack, seeded, since)) < count:
        if time.time() > deadline:
            raise AssertionError(f"only {len(found)} of {count} prompts arrived within {timeout}s")
        await asyncio.sleep(0.1)
    return found


async def run(args: argparse.Namespace) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    url = args.database_url or f"sqlite:///{workdir / 'bot.db'}"
    config = workdir / "incident-bot.toml"
    config.write_text(CONFIG)
    slack = FakeSlack(clock=time.time)
    await slack.start()
    populate_workspace(slack)
    results: dict[str, float] = {}

    def bot() -> BotProcess:
        return BotProcess(api_url=slack.api_url, database_url=url, log_path=workdir / "bot.log", config_path=config)

    try:
        started = time.time()
        seeded = seed(url, slack, incidents=args.incidents, due=args.due)
        print(f"seeded {args.incidents} open incidents in {time.time() - started:.1f}s ({workdir})")

        # A: armed and idle.
        process = bot()
        started = time.time()
        await process.start()
        results["arm_seconds"] = time.time() - started
        await asyncio.sleep(2)
        assert process.process is not None
        pid = process.process.pid
        before = cpu_seconds(pid)
        await asyncio.sleep(args.idle)
        results["idle_cpu_percent"] = 100 * (cpu_seconds(pid) - before) / args.idle
        results["idle_rss_mib"] = rss_mib(pid)
        print(f"A: {args.incidents} incidents armed {results['arm_seconds']:.1f}s after start; idle CPU "
              f"{results['idle_cpu_percent']:.2f}% over {args.idle}s; RSS {results['idle_rss_mib']:.0f} MiB")
        process.stop()

        # B: lateness while --due incidents fall due within one minute.
        due = replan(url, seeded, lead=args.lead, window=args.window)
        mark = len(slack.calls)
        process = bot()
        await process.start()
        assert process.process is not None
        pid = process.process.pid
        before = cpu_seconds(pid)
        window_start = time.time()
        calls = await wait_prompts(slack, seeded, mark, args.due, timeout=args.lead + args.window + 120)
        results["window_cpu_percent"] = 100 * (cpu_seconds(pid) - before) / (time.time() - window_start)
        results["window_rss_mib"] = rss_mib(pid)
        process.stop()
        lateness = [c.at - due[seeded.due_channels[c.params["channel"]]] for c in calls]
        results.update({
            "late_p50_ms": 1000 * percentile(lateness, 0.50),
            "late_p99_ms": 1000 * percentile(lateness, 0.99),
            "late_max_ms": 1000 * max(lateness),
            "late_mean_ms": 1000 * statistics.fmean(lateness),
        })
        early = sum(1 for value in lateness if value < 0)
        print(f"B: {len(calls)} prompts; lateness p50 {results['late_p50_ms']:.0f} ms, p99 "
              f"{results['late_p99_ms']:.0f} ms, max {results['late_max_ms']:.0f} ms ({early} early)")

        # C: restart with every watched incident overdue.
        last_due = max(c.at for c in calls) + CADENCE.total_seconds()
        await asyncio.sleep(max(0.0, last_due + 3 - time.time()))
        mark = len(slack.calls)
        process = bot()
        started = time.time()
        await process.start()
        healthy = time.time() - started
        assert process.process is not None
        pid = process.process.pid
        calls = await wait_prompts(slack, seeded, mark, args.due, timeout=300)
        results["restart_last_prompt_seconds"] = max(c.at for c in calls) - started
        results["restart_healthy_seconds"] = healthy
        results["restart_cpu_percent"] = 100 * cpu_seconds(pid) / (time.time() - started)
        await asyncio.sleep(5)
        repeated = len(prompts_since(slack, seeded, mark)) - args.due
        process.stop()
        results["restart_extra_prompts"] = repeated
        per_channel = {c.params["channel"] for c in calls}
        print(f"C: {len(calls)} overdue prompts to {len(per_channel)} channels; last one "
              f"{results['restart_last_prompt_seconds']:.1f}s after the process started "
              f"(healthy after {healthy:.1f}s, bot CPU {results['restart_cpu_percent']:.0f}% of a core); "
              f"{repeated} extra prompts within 5s")
    finally:
        await slack.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which --due incidents fall due")
    parser.add_argument("--lead", type=float, default=30.0, help="seconds from restart to the first due prompt")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measurement")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print(json.dumps({k: round(v, 2) for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
