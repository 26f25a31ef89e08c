"""The report's incidents, one row each: the times and measures a spreadsheet can sort and chart.

``incident-bot report --format csv`` is these rows under a fixed header (SPEC
§6); the Markdown report lists them under its metrics tables. Whether an SLA
was met is decided as the aggregates decide it (:mod:`storage.queries.metrics`):
an open incident whose window has run out missed it, one still inside its
window is undecided and its cell stays empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.config.settings import IncidentConfig
from storage.models import Incident

CSV_COLUMNS = (
    "reference", "title", "severity", "phase", "private", "drill", "impact_started_at", "detected_at",
    "declared_at", "acknowledged_at", "identified_at", "resolved_at", "time_to_detect_s", "time_to_acknowledge_s",
    "time_to_identify_s", "time_to_resolve_s", "respond_met", "resolve_met", "updates", "late_updates",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is run as a formula by spreadsheets; a title never should be."""


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One incident as the report shows it: its milestones as times, and its SLAs decided at ``until``."""

    incident: Incident
    detected_at: datetime
    acknowledged_at: datetime | None
    identified_at: datetime | None
    ttd: timedelta | None
    tta: timedelta | None
    tti: timedelta | None
    ttr: timedelta | None
    respond_met: bool | None
    resolve_met: bool | None


def incident_rows(config: IncidentConfig, incidents: Iterable[Incident], *, until: datetime) -> list[IncidentRow]:
    """The rows of ``incidents``, their open SLA windows judged at ``until``."""
    return [_row(config, incident, until) for incident in incidents]


def _row(config: IncidentConfig, incident: Incident, until: datetime) -> IncidentRow:
    policy = config.policy(incident.severity)
    tta, tti, ttr = (_seconds(incident.tta_seconds), _seconds(incident.tti_seconds),
                     _seconds(incident.ttr_seconds))
    waited = until - incident.declared_at
    return IncidentRow(
        incident=incident,
        detected_at=incident.detected_at or incident.declared_at,
        acknowledged_at=incident.declared_at + tta if tta is not None else None,
        identified_at=incident.declared_at + tti if tti is not None else None,
        ttd=_seconds(incident.ttd_seconds),
        tta=tta,
        tti=tti,
        ttr=ttr,
        respond_met=_met(tta, policy.respond_within, waited),
        resolve_met=_met(ttr, policy.resolve_within, waited),
    )


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def _met(took: timedelta | None, target: timedelta, waited: timedelta) -> bool | None:
    """Met or missed once measured; missed once the target has passed unmeasured; else undecided."""
    if took is not None:
        return took <= target
    return False if waited > target else None


def to_csv(rows: Sequence[IncidentRow]) -> str:
    """The rows as CSV, header first: ISO 8601 UTC times, whole seconds, empty cells for what was not measured."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        incident = row.incident
        writer.writerow([
            incident.reference, _plain(incident.title), f"SEV-{incident.severity}", incident.phase.value,
            _flag(incident.private), _flag(incident.drill), _iso(incident.impact_started_at), _iso(row.detected_at),
            _iso(incident.declared_at), _iso(row.acknowledged_at), _iso(row.identified_at),
            _iso(incident.resolved_at), _whole(row.ttd), _whole(row.tta), _whole(row.tti), _whole(row.ttr),
            _flag(row.respond_met), _flag(row.resolve_met), incident.check_ins, incident.late_check_ins,
        ])
    return out.getvalue()


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _whole(duration: timedelta | None) -> str:
    return "" if duration is None else str(int(duration.total_seconds()))


def _flag(value: bool | None) -> str:
    return "" if value is None else str(value).lower()


def _plain(text: str) -> str:
    """User text that a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
