"""Load benchmark: ack latency under a slow Slack, and a declare storm under rate limits.

Run from the repository root:

    python -m bench.load                     # both parts, SQLite
    python -m bench.load --database-url postgresql://postgres@127.0.0.1:5432/test   # in a new schema, dropped after
    python -m bench.load --skip-storm        # only the ack-latency part (about a minute)

Part 1 starts the real bot (`incident-bot serve`, its own process) against the local Slack
stand-in answering every Web API call after 1 s, then sends rounds of 200 concurrent signed
requests (slash commands and button presses) from a client in a third process
(`bench.burst`) and reports ack latency p50/p99. It then checks that every one of those
requests was also worked on: each modal opened, each answer sent.

Part 2 rate-limits `conversations.create` to Slack's tier 2 (20 per minute), submits 100
declare modals within 10 s, and waits until every incident has finished its declare; it
checks that each ended with exactly one channel and that none was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.slack.ids import Action, Callback
from tests.processes import BotProcess, stored_incidents
from bot.local_slack.requests import Prepared, SignedRequests
from bot.local_slack.server import FakeSlack
from tests.support import (
    ALICE,
    SIGNING_SECRET,
    declare_values,
    drop_postgres_schema,
    fresh_postgres_schema,
    populate_workspace,
)


KINDS = ("list", "help", "declare", "button")
"""The request mix, round-robin: two commands answered at the response_url, one that opens
a modal, and the summary's *Post update* button, which opens one too."""
ROUND_GAP_SECONDS = 2.5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def ack_latency(slack: FakeSlack, bot: BotProcess, rounds: int, concurrency: int) -> None:
    requests = SignedRequests(bot_url=bot.url, signing_secret=SIGNING_SECRET, slack=slack)
    general = slack.channel_by_name("general").id  # type: ignore[union-attr]
    # One incident to press buttons and run channel commands in.
    values = declare_values(title="Load target", severity=3, commander=ALICE)
    await requests.view_submission(callback_id=Callback.DECLARE, user_id=ALICE, values=values, view_id="VLOAD")
    while not (found := [i for i in await stored_incidents(bot.env["DATABASE_URL"]) if i.declarer_told]):
        await asyncio.sleep(0.2)
    channel = found[0].channel_id
    assert channel is not None
    await requests.aclose()

    def one(i: int) -> Prepared:
        kind = KINDS[i % len(KINDS)]
        if kind == "button":
            return requests.prepare_block_actions(user_id=ALICE, action_id=Action.POST_UPDATE, channel_id=channel,
                                                  message_ts=found[0].summary_ts)
        text = f"declare Load {i}" if kind == "declare" else kind
        return requests.prepare_command(text, user_id=ALICE, channel_id=general)

    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    statuses: dict[int, int] = {}
    round_p99s: list[float] = []
    for _ in range(rounds):
        prepared = [one(i) for i in range(concurrency)]
        results = await fire(bot, prepared)
        round_p99s.append(percentile([elapsed for elapsed, _ in results], 0.99))
        for i, (elapsed, status) in enumerate(results):
            latencies.append(elapsed)
            by_kind.setdefault(KINDS[i % len(KINDS)], []).append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
        await asyncio.sleep(ROUND_GAP_SECONDS)  # the round's work (Slack answering after 1 s) finishes
    print(f"ack latency over {len(latencies)} requests ({concurrency} concurrent, Slack answering after 1 s):")
    print(f"  p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms, mean {statistics.mean(latencies) * 1000:.1f} ms; statuses {statuses}")
    for kind, values in by_kind.items():
        print(f"  {kind:8} p50 {percentile(values, 0.5) * 1000:.1f} ms, p99 {percentile(values, 0.99) * 1000:.1f} ms")
    print("  p99 of each round: " + ", ".join(f"{value * 1000:.1f} ms" for value in round_p99s))
    await confirm_work_done(slack, rounds * concurrency)


async def fire(bot: BotProcess, prepared: list[Prepared]) -> list[tuple[float, int]]:
    """One burst from `bench.burst` in its own process; its (latency, status) per request."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.burst", "127.0.0.1", str(bot.port),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    payload = json.dumps([{"body": p.body.decode(), "headers": p.headers} for p in prepared]).encode()
    out, _ = await process.communicate(payload)
    if process.returncode != 0:
        raise SystemExit(f"the burst client failed with exit code {process.returncode}")
    return [(float(elapsed), int(status)) for elapsed, status in json.loads(out)]


async def confirm_work_done(slack: FakeSlack, sent: int) -> None:
    """Acks are only half the story: every command and press must also have been worked on."""
    per_kind = sent // len(KINDS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        opened = len([call for call in slack.calls_to("views.open") if call.response.get("ok")])
        answered = sum(len(slack.responses_to(url)) for url in slack.workspace.response_urls)
        if opened >= 2 * per_kind and answered >= 2 * per_kind:
            print(f"  work after the acks: {opened} modals opened, {answered} answers sent; none lost")
            return
        await asyncio.sleep(0.5)
    raise SystemExit(f"work lost after the acks: {opened} modals opened and {answered} answers sent "
                     f"for {2 * per_kind} each")


async def declare_storm(slack: FakeSlack, bot: BotProcess, count: int, within: float) -> None:
    slack.set_latency(0)
    slack.rate_limit("conversations.create", per_minute=20)
    requests = SignedRequests(bot_url=bot.url, signing_secret=SIGNING_SECRET, slack=slack)
    before = {i.id for i in await stored_incidents(bot.env["DATABASE_URL"])}
    started = time.monotonic()
    for n in range(count):
        values = declare_values(title=f"Storm {n}", severity=2, commander=ALICE)
        # On a fixed timetable, so the time each submission takes does not stretch the storm.
        await asyncio.sleep(max(0.0, started + n * within / count - time.monotonic()))
        await requests.view_submission(callback_id=Callback.DECLARE, user_id=ALICE, values=values,
                                       view_id=f"VSTORM{n}")
    submitted = time.monotonic() - started
    while True:
        ours = [i for i in await stored_incidents(bot.env["DATABASE_URL"]) if i.id not in before]
        done = [i for i in ours if i.declarer_told]
        if len(done) == count:
            break
        await asyncio.sleep(1)
    elapsed = time.monotonic() - started
    await requests.aclose()
    names = [c.name for c in slack.channels.values() if c.name.startswith("inc-") and "storm-" in c.name]
    per_incident = {i.id: i.channel_id for i in ours}
    assert len(set(per_incident.values())) == count, "an incident shares or lacks a channel"
    assert len(names) == count, f"{len(names)} storm channels for {count} incidents"
    floor = (count - 20) / 20 * 60  # the first 20 pass at once, then 20 a minute
    print(f"declare storm: {count} incidents submitted in {submitted:.1f} s; all finished after {elapsed:.1f} s "
          f"(rate-limit floor {floor:.0f} s); {len(names)} channels, one per incident, none lost")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--storm", type=int, default=100)
    parser.add_argument("--skip-storm", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, empty_database(args.database_url, Path(tmp)) as database_url:
        async with FakeSlack() as slack:
            populate_workspace(slack)
            slack.set_latency(1.0)
            bot = BotProcess(api_url=slack.api_url, database_url=database_url, log_path=Path(tmp) / "bot.log")
            await bot.start()
            try:
                await ack_latency(slack, bot, args.rounds, args.concurrency)
                if not args.skip_storm:
                    await declare_storm(slack, bot, args.storm, 10.0)
            finally:
                bot.stop()


@contextmanager
def empty_database(url: str | None, tmp: Path) -> Iterator[str]:
    """A new SQLite file, or a new schema in the given PostgreSQL database (dropped afterwards)."""
    if url is None:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    schema_url, schema = fresh_postgres_schema(url)
    try:
        yield schema_url
    finally:
        drop_postgres_schema(url, schema)


if __name__ == "__main__":
    asyncio.run(main())
