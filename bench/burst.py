"""Fire a burst of signed requests at the bot at once and report each one's ack latency.

Runs as its own process (``python -m bench.burst HOST PORT``) so that the
measuring client shares a CPU with neither the bot nor the Slack stand-in.
It reads ``[{"body": ..., "headers": {...}}, ...]`` as JSON on stdin and
writes ``[[seconds, status], ...]`` as JSON on stdout, in the same order.

Each request opens its own connection, as Slack's deliveries do, and its
latency runs from the start of the connection to the response's status line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any


async def one(host: str, port: int, request: dict[str, Any], go: asyncio.Event) -> tuple[float, int]:
    body = request["body"].encode()
    head = "".join(f"{name}: {value}\r\n" for name, value in request["headers"].items())
    message = (f"POST /slack/events HTTP/1.1\r\nHost: {host}:{port}\r\n{head}"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    await go.wait()
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(message)
    status_line = await reader.readline()
    elapsed = time.perf_counter() - started
    await reader.read()
    writer.close()
    return elapsed, int(status_line.split()[1])


async def burst(host: str, port: int, requests: list[dict[str, Any]]) -> list[tuple[float, int]]:
    go = asyncio.Event()
    tasks = [asyncio.create_task(one(host, port, request, go)) for request in requests]
    await asyncio.sleep(0.05)  # every task is parked at the start line
    go.set()
    return list(await asyncio.gather(*tasks))


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    requests = json.load(sys.stdin)
    json.dump(asyncio.run(burst(host, port, requests)), sys.stdout)


if __name__ == "__main__":
    main()
