"""Benchmark: how many Web API round trips stand between a submitted declare and its last call.

Run from the repository root:

    python -m bench.declare_path                 # SQLite, 5 declares
    python -m bench.declare_path --declares 10 --latency 0.1

The real bot runs in this process against the local Slack, which answers every Web API
call after ``--latency`` seconds (100 ms by default). Each declare modal is submitted
and the Web API calls it causes are collected. The critical path is counted from
their timing, not guessed: a call's depth is one more than the deepest call that had
already been answered when it was sent, and the declare's round trips are the largest
depth. The physical minimum is 3 (create the channel, post the summary, pin it).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.local_slack.server import Call, FakeSlack
from bot.slack.ids import Callback
from tests.support import ALICE, BOB, BOT_TOKEN, declare_values, populate_workspace, start_bot, stop_bot

TARGET_ROUND_TRIPS = 4


def round_trips(calls: list[Call], latency: float) -> int:
    """The longest chain of calls each sent only after the previous one was answered."""
    depth: dict[int, int] = {}
    ordered = sorted(range(len(calls)), key=lambda i: calls[i].at)
    for i in ordered:
        answered_before = [depth[j] for j in depth if calls[j].at + latency <= calls[i].at + 1e-3]
        depth[i] = 1 + max(answered_before, default=0)
    return max(depth.values(), default=0)


async def one_declare(bot: object, slack: FakeSlack, n: int, latency: float) -> tuple[int, float, list[str]]:
    values = declare_values(title=f"Checkout errors {n}", severity=2, commander=ALICE, responders=[BOB])
    before = len(slack.calls)
    sent = time.monotonic()
    reply = await bot.requests.view_submission(  # type: ignore[attr-defined]
        callback_id=Callback.DECLARE, user_id=ALICE, values=values, view_id=f"VBENCH{n}",
        private_metadata='{"response_url": "%s"}' % slack.new_response_url(),
    )
    assert reply.status_code == 200, reply.text
    await bot.settled(timeout=60)  # type: ignore[attr-defined]
    calls = [c for c in slack.calls[before:] if c.at >= sent]
    last_answer = max(c.at for c in calls) + latency
    return round_trips(calls, latency), last_answer - sent, [c.method for c in sorted(calls, key=lambda c: c.at)]


async def main(declares: int, latency: float) -> None:
    slack = FakeSlack(token=BOT_TOKEN)
    await slack.start()
    populate_workspace(slack)
    with tempfile.TemporaryDirectory() as workdir:
        bot = await start_bot(slack, f"sqlite:///{Path(workdir) / 'bench.db'}")
        try:
            await one_declare(bot, slack, 0, 0.0)  # warm caches (the announcements channel's id)
            slack.set_latency(latency)
            results = [await one_declare(bot, slack, n, latency) for n in range(1, declares + 1)]
        finally:
            await stop_bot(bot)
            await slack.stop()
    trips = [r[0] for r in results]
    seconds = [r[1] for r in results]
    print(f"Web API latency {latency * 1000:.0f} ms, {declares} declares")
    print(f"calls per declare: {', '.join(results[0][2])}")
    print(f"sequential round trips: max {max(trips)}, median {statistics.median(trips)} (target <= {TARGET_ROUND_TRIPS})")
    print(f"submit to last answer: median {statistics.median(seconds) * 1000:.0f} ms, "
          f"max {max(seconds) * 1000:.0f} ms")
    if max(trips) > TARGET_ROUND_TRIPS:
        raise SystemExit(f"the critical path is {max(trips)} round trips, over {TARGET_ROUND_TRIPS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--declares", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds Slack takes to answer each call")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.declares, arguments.latency))
