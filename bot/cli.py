"""The ``incident-bot`` command.

``incident-bot`` runs in Socket Mode when SLACK_APP_TOKEN is set;
``incident-bot serve`` runs HTTP mode; ``incident-bot migrate`` and
``incident-bot check-config`` help operators prepare a deployment;
``incident-bot playground`` runs the bot against a built-in local Slack.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from bot.clock import SystemClock
from bot.integrations.checks import check_secrets
from bot.config.settings import ConfigError, IncidentConfig, Settings, load_config, load_settings
from bot.metrics.report import FORMATS, ReportError, make_report, report_inputs
from bot.playground import command as playground
from bot.runtime.runner import Runtime, StartupError
from storage.db import DatabaseURLError, migrate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="incident-bot", description="Slack incident response bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run in Socket Mode (the default when SLACK_APP_TOKEN is set)")
    sub.add_parser("serve", help="run in HTTP mode: Slack posts to /slack/events on HOST:PORT")
    sub.add_parser("migrate", help="bring the database schema up to date and exit")
    sub.add_parser("check-config", help="validate the environment and the TOML config, then exit")
    report = sub.add_parser("report", help="print response metrics (MTTA, MTTR, SLA) of recent incidents")
    report.add_argument("--since", default="30d", help='how far back: a duration ("30d", "12h") or a date YYYY-MM-DD')
    report.add_argument("--format", choices=FORMATS, default="md", help="Markdown (default) or CSV")
    play = sub.add_parser("playground", help="try the bot without Slack: a local Slack and a page on 127.0.0.1")
    play.add_argument("--port", type=int, default=3000, help="where the page listens on 127.0.0.1 (default 3000)")
    play.add_argument("--fast", action="store_true", help="every minute of every cadence and delay is a second")
    play.add_argument("--reset", action="store_true", help="delete playground.db and start afresh")
    return parser


def _load() -> tuple[Settings, IncidentConfig]:
    settings = load_settings()
    return settings, load_config(settings.config_path)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "playground":
        return playground.main(playground.Options(port=args.port, fast=args.fast, reset=args.reset), os.environ)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "report":
            url, policy = report_inputs(os.environ)
            print(asyncio.run(make_report(database_url=url, config=policy, since=args.since, fmt=args.format,
                                          now=SystemClock().now())), end="")
            return 0
        settings, config = _load()
        if args.command == "check-config":
            check_secrets(settings, config)
            print("configuration OK")
            return 0
        if args.command == "migrate":
            migrate(settings.database_url)
            print("database schema is up to date")
            return 0
        runtime = Runtime(settings, config)
        if args.command == "serve":
            asyncio.run(runtime.serve_http(host=settings.host, port=settings.port))
        elif settings.socket_mode:
            asyncio.run(runtime.serve_socket_mode(host=settings.host, port=settings.port))
        else:
            print("incident-bot: set SLACK_APP_TOKEN for Socket Mode, or run `incident-bot serve` for HTTP mode",
                  file=sys.stderr)
            return 2
    except (ConfigError, StartupError, DatabaseURLError, ReportError) as exc:
        print(f"incident-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
