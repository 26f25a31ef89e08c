"""Database tables.

All tables live in this one module so that SQLModel's metadata is complete
wherever it is imported (Alembic, tests, the app) and no import cycles appear.
Times are stored as naive UTC and handed back timezone-aware, because SQLite
has no timezone type and PostgreSQL would otherwise shift them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Enum, Index, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp column that always round-trips as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time, aware and in UTC (the only form stored)."""
    return datetime.now(UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)  # type: ignore[arg-type]


def _enum_column(enum: type[StrEnum], **kwargs: Any) -> Any:
    """Enums stored by value as plain strings: readable, and no PostgreSQL enum types to migrate."""
    sa_type = Enum(enum, native_enum=False, values_callable=lambda e: [m.value for m in e], length=20,
                   validate_strings=True)
    return Field(sa_type=sa_type, **kwargs)  # type: ignore[arg-type]


class Phase(StrEnum):
    """Where an incident is in its life, in the order it normally moves."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Role(StrEnum):
    """The incident roles from the playbooks."""

    IC = "ic"
    TECH = "tech"
    COMMS = "comms"
    SCRIBE = "scribe"


class Incident(SQLModel, table=True):
    """One incident and how far its declare sequence has got.

    The ``*_done`` style columns record each Slack step of the declare sequence
    as it completes, so that start-up can finish a declare a crash cut short
    without repeating a step.
    """

    __table_args__ = (Index("ix_incident_open", "resolved_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_key: str = Field(unique=True, max_length=255)
    title: str = Field(max_length=200)
    severity: int
    phase: Phase = _enum_column(Phase, default=Phase.INVESTIGATING)
    description: str = ""
    affected_services: str = ""
    customer_impact: bool = False
    customer_facing: bool = False
    private: bool = False
    drill: bool = False
    declared_by: str = Field(max_length=32)
    declared_at: datetime = _ts(default_factory=utcnow)
    resolved_at: datetime | None = _ts(default=None)
    last_update_at: datetime | None = _ts(default=None)
    next_update_due: datetime | None = _ts(default=None)
    responders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    origin_channel_id: str | None = Field(default=None, max_length=32)
    origin_response_url: str | None = None

    channel_name: str | None = Field(default=None, max_length=80)
    channel_id: str | None = Field(default=None, unique=True, max_length=32)
    members_invited: bool = False
    summary_ts: str | None = Field(default=None, max_length=32)
    summary_pinned: bool = False
    topic_set: bool = False
    announcement_channel_id: str | None = Field(default=None, max_length=32)
    announcement_ts: str | None = Field(default=None, max_length=32)
    announced: bool = False
    declarer_told: bool = False
    setup_error: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def reference(self) -> str:
        """The short name responders say out loud: INC-42."""
        return f"INC-{self.id}"

    @property
    def setup_complete(self) -> bool:
        return self.announced and self.declarer_told


class RoleAssignment(SQLModel, table=True):
    """Who held a role and when; a handover ends one row and starts another."""

    __table_args__ = (Index("ix_role_current", "incident_id", "role", "ended_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    role: Role = _enum_column(Role)
    user_id: str = Field(max_length=32, index=True)
    assigned_by: str = Field(max_length=32)
    assigned_at: datetime = _ts(default_factory=utcnow)
    ended_at: datetime | None = _ts(default=None)


class TimelineEvent(SQLModel, table=True):
    """One entry on an incident's timeline.

    ``dedupe_key`` is unique per incident so that Slack's retried deliveries
    and repeated reactions can never log the same thing twice.
    """

    __table_args__ = (
        UniqueConstraint("incident_id", "dedupe_key", name="uq_timeline_dedupe"),
        Index("ix_timeline_incident_at", "incident_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    at: datetime = _ts(default_factory=utcnow)
    kind: str = Field(max_length=40)
    actor: str | None = Field(default=None, max_length=32)
    text: str = ""
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=255)


class ProcessedDelivery(SQLModel, table=True):
    """Slack deliveries already handled (event ids, action ids), for exactly-once effects."""

    key: str = Field(primary_key=True, max_length=255)
    at: datetime = _ts(default_factory=utcnow)
