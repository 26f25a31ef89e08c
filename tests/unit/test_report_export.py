"""The report's CSV: one row per incident that a spreadsheet reads as it was meant."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from bot.config.settings import IncidentConfig
from bot.metrics.export import CSV_COLUMNS, incident_rows, to_csv
from storage.models import Incident, Phase

DECLARED = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)


def incident(title: str, **fields: object) -> Incident:
    return Incident(id=7, request_key="k", title=title, severity=2, declared_by="U0ALICE", declared_at=DECLARED,
                    **fields)


def rows_of(*incidents: Incident, until: datetime) -> list[dict[str, str]]:
    text = to_csv(incident_rows(IncidentConfig(), incidents, until=until))
    table = list(csv.reader(io.StringIO(text)))
    assert tuple(table[0]) == CSV_COLUMNS
    return [dict(zip(table[0], row)) for row in table[1:]]


def test_titles_stay_one_cell_and_never_run_as_a_formula() -> None:
    (commas, formula) = rows_of(incident('Checkout, "cart" and\nlogin'), incident('=HYPERLINK("http://x")'),
                                until=DECLARED + timedelta(minutes=1))
    assert commas["title"] == 'Checkout, "cart" and\nlogin'
    assert formula["title"] == '\'=HYPERLINK("http://x")'


def test_an_open_incident_is_undecided_inside_its_windows_and_missed_after() -> None:
    quiet = incident("Quiet", phase=Phase.INVESTIGATING)
    (inside,) = rows_of(quiet, until=DECLARED + timedelta(minutes=10))  # SEV-2: respond within 15m
    assert (inside["respond_met"], inside["resolve_met"]) == ("", "")
    (after,) = rows_of(quiet, until=DECLARED + timedelta(hours=5))  # and resolve within 4h
    assert (after["respond_met"], after["resolve_met"]) == ("false", "false")


def test_times_are_utc_and_measures_whole_seconds() -> None:
    detected = incident("Detected", impact_started_at=DECLARED - timedelta(minutes=20), ttd_seconds=1200,
                        tta_seconds=300, tti_seconds=900, ttr_seconds=3600, resolved_at=DECLARED + timedelta(hours=1),
                        phase=Phase.RESOLVED, check_ins=4, late_check_ins=1)
    (row,) = rows_of(detected, until=DECLARED + timedelta(days=1))
    assert (row["impact_started_at"], row["detected_at"], row["acknowledged_at"], row["identified_at"]) == (
        "2030-01-31T11:40:00Z", "2030-01-31T12:00:00Z", "2030-01-31T12:05:00Z", "2030-01-31T12:15:00Z")
    assert (row["time_to_detect_s"], row["time_to_acknowledge_s"], row["time_to_resolve_s"]) == ("1200", "300", "3600")
    assert (row["respond_met"], row["resolve_met"], row["updates"], row["late_updates"]) == ("true", "true", "4", "1")
