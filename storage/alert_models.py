"""Alerts from monitoring and PagerDuty, and the pages the bot sends to the on-call.

Part of :mod:`storage.models` (which imports this module, so its metadata
holds these tables too); kept apart only to keep each module short.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import _enum_column, _ts, utcnow


class AlertStatus(StrEnum):
    """Where an alert stands at its source."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertHandling(StrEnum):
    """What the bot did with an alert when it first fired."""

    AUTO = "auto"  # declared an incident by itself
    BUTTON = "button"  # asked in the announcements channel (*Declare incident* / *Dismiss*)
    PAGE = "page"  # the bot's own page coming back from PagerDuty


class Alert(SQLModel, table=True):
    """One firing of an alert from monitoring or PagerDuty, and what became of it.

    ``key`` names the alert at its source (a PagerDuty incident's id, a digest of
    an Alertmanager group key). ``occurrence`` counts its firings after
    resolutions; being part of a unique key, it lets exactly one of many
    concurrent deliveries open an occurrence, so one alert never declares twice.
    ``incident_id`` is the incident it was declared as (or, for the bot's own
    page, the incident that paged).
    """

    __table_args__ = (UniqueConstraint("source", "key", "occurrence", name="uq_alert_occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)
    key: str = Field(max_length=255)
    occurrence: int = 1
    handling: AlertHandling = _enum_column(AlertHandling)
    title: str = Field(max_length=200)
    severity: int | None = None
    details: str = ""
    links: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    assignees: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: datetime = _ts(default_factory=utcnow)
    received_at: datetime = _ts(default_factory=utcnow)
    status: AlertStatus = _enum_column(AlertStatus, default=AlertStatus.FIRING)
    status_at: datetime = _ts(default_factory=utcnow)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    announcement_channel_id: str | None = Field(default=None, max_length=32)
    announcement_ts: str | None = Field(default=None, max_length=32)
    dismissed_by: str | None = Field(default=None, max_length=32)
    dismissed_at: datetime | None = _ts(default=None)


class OncallPage(SQLModel, table=True):
    """A page sent to the on-call through PagerDuty (a trigger, or the resolve that ends it).

    ``cause`` is the change that made the bot page ("Declared as SEV-1"), and
    ``work_id`` the piece of follow-up work that sent it, so a piece tried again
    after PagerDuty accepted it records the page once.
    """

    __tablename__ = "oncall_page"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    work_id: int = Field(unique=True)
    action: str = Field(max_length=10)
    dedup_key: str = Field(max_length=255)
    summary: str = Field(max_length=1024)
    cause: str = Field(default="", max_length=300)
    requested_by: str | None = Field(default=None, max_length=32)
    sent_at: datetime = _ts(default_factory=utcnow)

