"""``incident-bot report``: the incidents of a period and their metrics, as Markdown or CSV on standard output.

It reads the database and the policy file only, so it runs anywhere the
database is reachable, without Slack credentials.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.config.durations import parse_duration
from bot.config.render import Renderer
from bot.config.settings import IncidentConfig, load_config, load_database_settings
from bot.metrics.export import IncidentRow, incident_rows, to_csv
from bot.metrics.stats import Report, report_from
from storage import queries
from storage.db import Database, async_url

FORMATS = ("md", "csv")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReportError(Exception):
    """The report cannot be made; the message says what to fix."""


def parse_since(text: str, *, now: datetime, config: IncidentConfig) -> datetime:
    """``30d``/``12h`` (that long before now) or ``YYYY-MM-DD`` (midnight in the configured zone)."""
    if _DATE.match(text.strip()):
        try:
            day = datetime.strptime(text.strip(), "%Y-%m-%d")
        except ValueError:
            raise ReportError(f'--since: "{text}" is not a real date') from None
        start = day.replace(tzinfo=config.tz).astimezone(UTC)
        if start >= now:
            raise ReportError(f'--since: "{text}" is not in the past')
        return start
    try:
        return now - parse_duration(text)
    except (ValueError, OverflowError) as exc:
        raise ReportError(f"--since: {exc}, or a date as YYYY-MM-DD") from None


def render(report: Report, incidents: Sequence[IncidentRow], renderer: Renderer, fmt: str) -> str:
    """The report in one of :data:`FORMATS`: Markdown metrics tables and incident list, or one CSV row per incident."""
    if fmt == "csv":
        return to_csv(incidents)
    return renderer.markdown("report.md", report=report, incidents=incidents)


async def make_report(*, database_url: str, config: IncidentConfig, since: str, fmt: str, now: datetime) -> str:
    """Compute and render the report for incidents declared from ``since`` until ``now``."""
    start = parse_since(since, now=now, config=config)
    db = Database(database_url)
    try:
        report = await report_from(db, config, since=start, until=now)
        async with db.session() as session:
            incidents = incident_rows(config, await queries.incidents_declared(session=session, since=start,
                                                                               until=now), until=now)
    except (OperationalError, ProgrammingError) as exc:
        raise ReportError(
            f"the database at DATABASE_URL cannot be read ({exc.orig}); run `incident-bot migrate` "
            "if it has never been set up"
        ) from None
    finally:
        await db.dispose()
    return render(report, incidents, Renderer(timezone=config.tz, override_dir=config.templates_dir), fmt)


def report_inputs(environ: Mapping[str, str]) -> tuple[str, IncidentConfig]:
    """DATABASE_URL and the policy file, as the bot reads them, but without requiring Slack tokens."""
    settings = load_database_settings(environ)
    async_url(settings.database_url)
    return settings.database_url, load_config(settings.config_path)
