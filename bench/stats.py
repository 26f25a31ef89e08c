"""Benchmark: `/incident stats 365` and `incident-bot report` over 100,000 stored incidents on SQLite.

Fills a fresh SQLite database (migrated like the bot's) with incidents spread
over the last year, each with a timeline, role assignment and the milestones
the metrics read, then times the computations the bot runs:

* the `/incident stats 365` reply: aggregate in SQL and render the Slack text;
* `incident-bot report --since 365d` in Markdown and in CSV, in process;
* the whole `incident-bot report` command as a fresh process (start-up included), for reference.

Run from the repository root:  python -m bench.stats [--incidents 100000] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert

from bot.clock import SystemClock
from bot.config.settings import IncidentConfig
from bot.config.render import Renderer
from bot.metrics.report import make_report
from bot.metrics.stats import report_from
from storage.db import Database, migrate, sync_url
from storage.models import Incident, Phase, Role, RoleAssignment, TimelineEvent, utcnow

TARGET_MS = 200.0
TIMELINE_KINDS = ("channel_created", "invited", "summary_pinned", "announced", "phase_changed", "note")


def fill(url: str, incidents: int, seed: int = 6) -> int:
    """Insert `incidents` incidents with timelines; returns the number of timeline rows."""
    rng = random.Random(seed)
    config = IncidentConfig()
    now = utcnow()
    engine = create_engine(sync_url(url))
    timeline_rows = 0
    batch = 5_000
    with engine.begin() as connection:
        for start in range(0, incidents, batch):
            rows, roles, events = [], [], []
            for number in range(start, min(start + batch, incidents)):
                severity = rng.choices((1, 2, 3, 4), weights=(1, 3, 6, 4))[0]
                declared = now - timedelta(seconds=rng.uniform(0, 365 * 86_400))
                cadence = config.policy(severity).update_every
                ack = timedelta(seconds=rng.expovariate(1 / 600))
                identified = ack + timedelta(seconds=rng.expovariate(1 / 1_800))
                resolved = identified + timedelta(seconds=rng.expovariate(1 / 7_200))
                is_open = declared + resolved > now
                check_ins = max(1, int(resolved / cadence))
                late = rng.randint(0, check_ins)
                rows.append({
                    "id": number + 1, "request_key": f"bench:{number}", "title": f"Bench incident {number}",
                    "severity": severity, "phase": Phase.INVESTIGATING if is_open else Phase.RESOLVED,
                    "description": "Generated for the stats benchmark", "affected_services": "bench",
                    "customer_impact": False, "customer_facing": False, "private": False,
                    "drill": rng.random() < 0.03, "declared_by": "U0BENCH", "declared_at": declared,
                    "resolved_at": None if is_open else declared + resolved, "responders": [],
                    "channel_name": f"inc-bench-{number}", "channel_id": f"CBENCH{number:08d}",
                    "members_invited": True, "summary_pinned": True, "topic_set": True, "announced": True,
                    "declarer_told": True, "tta_seconds": int(ack.total_seconds()),
                    "tti_seconds": None if is_open else int(identified.total_seconds()),
                    "ttr_seconds": None if is_open else int(resolved.total_seconds()),
                    "resolution_summary": "" if is_open else "Fixed", "check_ins": check_ins,
                    "late_check_ins": late, "late_seconds_total": late * 120, "late_seconds_max": 300 if late else 0,
                })
                roles.append({"incident_id": number + 1, "role": Role.IC, "user_id": "U0BENCH",
                              "assigned_by": "U0BENCH", "assigned_at": declared})
                for step, kind in enumerate(TIMELINE_KINDS):
                    events.append({"incident_id": number + 1, "at": declared + timedelta(seconds=step * 30),
                                   "kind": kind, "actor": "U0BENCH", "text": f"{kind} (bench)", "data": {}})
            connection.execute(insert(Incident.__table__), rows)  # type: ignore[attr-defined]
            connection.execute(insert(RoleAssignment.__table__), roles)  # type: ignore[attr-defined]
            connection.execute(insert(TimelineEvent.__table__), events)  # type: ignore[attr-defined]
            timeline_rows += len(events)
    engine.dispose()
    return timeline_rows


@dataclass
class Timing:
    """Wall-clock milliseconds of a first (cold) run and of the warm runs, and the CPU time of the warm runs.

    CPU time (all threads of this process, the database driver's included)
    shows the cost of the work itself when other processes share the machine.
    """

    first: float
    wall: list[float]
    cpu: list[float]


async def timed(runs: int, work: Callable[[], Awaitable[object]]) -> Timing:
    started = time.perf_counter()
    await work()
    timing = Timing(first=(time.perf_counter() - started) * 1000, wall=[], cpu=[])
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        await work()
        timing.wall.append((time.perf_counter() - started) * 1000)
        timing.cpu.append((time.process_time() - cpu) * 1000)
    return timing


def summary(name: str, timing: Timing) -> dict[str, object]:
    """The wall-clock p95 decides the verdict; everything else is shown as measured."""
    ordered = sorted(timing.wall)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    result: dict[str, object] = {
        "measure": name, "runs": len(timing.wall), "first_ms": round(timing.first, 1),
        "median_ms": round(statistics.median(timing.wall), 1), "p95_ms": round(p95, 1),
        "max_ms": round(max(timing.wall), 1), "within_target": p95 < TARGET_MS,
    }
    if timing.cpu:
        result["cpu_median_ms"] = round(statistics.median(timing.cpu), 1)
    return result


async def measure(url: str, runs: int) -> list[dict[str, object]]:
    config = IncidentConfig()
    renderer = Renderer(timezone=config.tz)
    db = Database(url)

    async def stats_365() -> str:
        report = await report_from(db, config, days=365, until=SystemClock().now())
        assert report.total.declared > 0
        return renderer.slack("stats", report=report)

    try:
        results = [summary("/incident stats 365", await timed(runs, stats_365))]
    finally:
        await db.dispose()
    for fmt in ("md", "csv"):
        async def report(fmt: str = fmt) -> str:
            return await make_report(database_url=url, config=config, since="365d", fmt=fmt,
                                     now=SystemClock().now())
        results.append(summary(f"incident-bot report --since 365d --format {fmt} (in process)",
                               await timed(runs, report)))
    return results


def whole_command(url: str, runs: int) -> dict[str, object]:
    """The report as an operator runs it: a new Python process, imports and all."""
    env = {**os.environ, "DATABASE_URL": url}
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot.cli", "report", "--since", "365d", "--format", "csv"],
                       env=env, check=True, capture_output=True)
        samples.append((time.perf_counter() - started) * 1000)
    result = summary("incident-bot report --since 365d --format csv (new process, start-up included)",
                     Timing(first=samples[0], wall=samples, cpu=[]))
    result["within_target"] = None
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--process-runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        migrate(url)
        started = time.perf_counter()
        events = fill(url, args.incidents)
        print(f"stored {args.incidents:,} incidents and {events:,} timeline entries "
              f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results = asyncio.run(measure(url, args.runs))
        if args.process_runs:
            results.append(whole_command(url, args.process_runs))
    for result in results:
        print(json.dumps(result))
    return 0 if all(r["within_target"] is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
