"""``incident-bot playground``: the local Slack, the real bot against it, and the page, in one process.

Start-up order matters: the local Slack first (the bot proves its token there), then
the bot and its HTTP server on a free loopback port, then the page. A stop signal
ends the bot's server; then the page closes, the bot finishes what it acknowledged,
the workspace is saved, and the local Slack goes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from aiohttp import web

from bot.config.durations import format_duration
from bot.local_slack import FakeSlack, SignedRequests
from bot.playground import keeping, policy, wording
from bot.playground.acting import Actor
from bot.playground.team import BOT_TOKEN, SIGNING_SECRET, TEAM, seed
from bot.playground.web import make_app
from bot.runtime.runner import Runtime, StartupError

DATABASE = Path("playground.db")
POSTMORTEMS = Path("playground-postmortems")
HOST = "127.0.0.1"
QUIET = ("uvicorn.error", "uvicorn.access", "apscheduler", "bot", "handlers", "aiohttp.access")
SILENT = ("slack_bolt",)
"""Bolt warns that the token is unused because the bot authorizes itself: true, and no concern of a player."""


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for."""

    port: int = 3000
    fast: bool = False
    reset: bool = False


class PlaygroundError(Exception):
    """The playground cannot start; the message says what to do."""


def free_port() -> int:
    """A loopback port nobody listens on, for the bot's own HTTP server."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def quiet_logs() -> None:
    """Warnings only: the page shows what happens, and the terminal keeps the banner readable."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in SILENT:
        logging.getLogger(name).setLevel(logging.ERROR)


async def run(options: Options, *, environ: Mapping[str, str], out: TextIO = sys.stdout,
              started: asyncio.Event | None = None) -> None:
    """Run the playground until a stop signal (or, in tests, until the task is cancelled)."""
    if options.reset:
        keeping.reset(DATABASE)
    slack = FakeSlack(token=BOT_TOKEN)
    await slack.start()
    try:
        restored = await keeping.restore(slack, DATABASE)
        if not restored:
            seed(slack)
        await _serve(slack, options, environ=environ, out=out, restored=restored, started=started)
    finally:
        await slack.stop()


async def _serve(slack: FakeSlack, options: Options, *, environ: Mapping[str, str], out: TextIO, restored: bool,
                 started: asyncio.Event | None) -> None:
    """Take the page's port first (a taken port fails at once), then run the bot behind it."""
    bot_port = free_port()
    bot_url = f"http://{HOST}:{bot_port}"
    requests = SignedRequests(bot_url=bot_url, signing_secret=SIGNING_SECRET, slack=slack)
    # A closed tab cancels its long poll, and a stop does not wait for the ones still open.
    page = web.AppRunner(make_app(slack=slack, actor=Actor(slack, requests), bot_url=bot_url, port=options.port),
                         access_log=None, handle_signals=False, handler_cancellation=True, shutdown_timeout=1.0)
    await page.setup()
    try:
        try:
            await web.TCPSite(page, HOST, options.port).start()
        except OSError as exc:
            raise PlaygroundError(wording.notice("port_taken", host=HOST, port=options.port,
                                                 error=exc.strerror)) from exc
        settings = policy.bot_settings(slack_api_url=slack.api_url, database_url=policy.database_url(DATABASE),
                                       port=bot_port)
        config = policy.playground_config(fast=options.fast, postmortem_dir=POSTMORTEMS)
        runtime = Runtime(settings, config)
        await runtime.start()
        keeper = asyncio.get_running_loop().create_task(keeping.keep(slack, DATABASE), name="keep-workspace")
        try:
            async with _bot_serving(runtime, bot_port) as serving:
                out.write(banner(options, environ=environ, restored=restored,
                                 sev1_cadence=config.policy(1).update_every) + "\n")
                out.flush()
                if started is not None:
                    started.set()
                await asyncio.shield(serving)  # a stop signal ends it; a cancelled run stops it gracefully
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await runtime.stop()
            await keeping.save(slack, DATABASE)
    finally:
        await page.cleanup()
        await requests.aclose()


@contextlib.asynccontextmanager
async def _bot_serving(runtime: Runtime, port: int) -> AsyncIterator[asyncio.Task[None]]:
    """The bot's HTTP server, listening; yields its task, which ends when a stop signal ends the server."""
    server = runtime.http_server(host=HOST, port=port)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # its address is the bot's, not the page's
    serving = asyncio.get_running_loop().create_task(server.serve(), name="bot-http")
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.01)
        yield serving
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await serving


def banner(options: Options, *, environ: Mapping[str, str], restored: bool, sev1_cadence: timedelta) -> str:
    """What the terminal shows once everything listens: the address, that it is local, what it ignored."""
    return wording.banner(
        url=f"http://{HOST}:{options.port}/", ignored=policy.ignored_settings(environ),
        database=DATABASE.resolve(), restored=restored, postmortems=POSTMORTEMS, fast=options.fast,
        sev1_cadence=format_duration(sev1_cadence), team=TEAM,
    )


def main(options: Options, environ: Mapping[str, str]) -> int:
    """The command: 0 after a stop signal, 2 when it cannot start."""
    quiet_logs()
    try:
        asyncio.run(run(options, environ=environ))
    except (PlaygroundError, StartupError) as exc:
        print(f"incident-bot playground: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0
