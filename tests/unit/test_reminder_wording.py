"""The update reminder's wording, with and without an incident commander."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config.render import Renderer
from bot.config.settings import IncidentConfig
from storage.models import Incident


def prompt(ic: str | None) -> str:
    incident = Incident(id=7, request_key="k", title="Checkout errors", severity=2, declared_by="U0BOT",
                        declared_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    return Renderer(timezone=IncidentConfig().tz).slack(
        "reminder_prompt", incident=incident, ic=ic, last_update_at=None, since=timedelta(minutes=30),
        cadence=timedelta(minutes=30), missed=0)


def test_the_commander_is_called_by_name() -> None:
    text = prompt("U0ALICE")
    assert text.startswith(":alarm_clock: <@U0ALICE>, time for an update on *INC-7*")
    assert "Nobody is the incident commander" not in text


def test_an_incident_without_a_commander_says_how_to_take_the_role() -> None:
    text = prompt(None)
    assert text.startswith(":alarm_clock: Time for an update on *INC-7*")
    assert "nobody," not in text and "take the role with `/incident ic @you`" in text
