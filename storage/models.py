"""Database tables.

All tables live in this one module so that SQLModel's metadata is complete
wherever it is imported (Alembic, tests, the app) and no import cycles appear.
Times are stored as naive UTC and handed back timezone-aware, because SQLite
has no timezone type and PostgreSQL would otherwise shift them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
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

    __table_args__ = (
        Index("ix_incident_open", "resolved_at"),
        # Covers every column the response metrics read, in the order they
        # are grouped by, so stats over a window are range seeks that never
        # touch the wide incident rows nor sort (see bench/stats.py).
        Index("ix_incident_metrics", "severity", "drill", "declared_at", "tta_seconds", "tti_seconds",
              "ttr_seconds", "check_ins", "late_check_ins", "late_seconds_total", "late_seconds_max",
              "ttd_seconds"),
    )

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
    detected_at: datetime | None = _ts(default=None)  # when monitoring saw it first (declared from an alert)
    # When customers were first affected, if the declarer said; time to detect runs from it to
    # ``detected_at`` (the declaration itself unless an alert declared the incident).
    impact_started_at: datetime | None = _ts(default=None)
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

    # -- resolve and response metrics ------------------------------
    # What the metrics measure is kept on the incident itself, as whole
    # seconds since the declaration, so that MTTA/MTTI/MTTR and SLA compliance
    # aggregate in one pass over an index, never by walking timelines or
    # doing date arithmetic per row. "Check-ins" are posted updates, *No
    # change* answers and the resolution: each one's lateness against the
    # cadence is added up here when it happens.
    ttd_seconds: int | None = None  # impact start to detection; None when the impact start is unknown
    tta_seconds: int | None = None
    tti_seconds: int | None = None
    ttr_seconds: int | None = None
    resolved_by: str | None = Field(default=None, max_length=32)
    resolution_summary: str = ""
    root_cause: str = ""
    customers_affected: bool | None = None
    last_check_in_at: datetime | None = _ts(default=None)
    check_ins: int = 0
    late_check_ins: int = 0
    late_seconds_total: int = 0
    late_seconds_max: int = 0
    # Follow-ups after resolution, each done at most once (see bot/followups.py).
    review_reminded_at: datetime | None = _ts(default=None)
    archived_at: datetime | None = _ts(default=None)
    # The incident's own ticket (``incident_ticket = true``) and its post-mortem page in Confluence.
    ticket_id: str | None = Field(default=None, max_length=64)
    ticket_key: str | None = Field(default=None, max_length=64)
    ticket_url: str | None = Field(default=None, max_length=500)
    postmortem_page_id: str | None = Field(default=None, max_length=64)
    postmortem_page_url: str | None = Field(default=None, max_length=500)

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


# -- action items -------------------------------------------------


class ActionItem(SQLModel, table=True):
    """A follow-up task from an incident, numbered 1, 2, 3… within it so people can say "#2".

    The number is unique per incident, so two items added at the same moment
    (two replicas, a double submit) can never share one.
    """

    __table_args__ = (UniqueConstraint("incident_id", "number", name="uq_action_item_number"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    number: int
    text: str = Field(max_length=500)
    owner: str | None = Field(default=None, max_length=32)
    due: date | None = None
    created_by: str = Field(max_length=32)
    created_at: datetime = _ts(default_factory=utcnow)
    done_at: datetime | None = _ts(default=None)
    done_by: str | None = Field(default=None, max_length=32)
    # Its ticket in the tracker: the tracker's own id, the key people say (OPS-12) and its page.
    ticket_id: str | None = Field(default=None, max_length=64, index=True)
    ticket_key: str | None = Field(default=None, max_length=64)
    ticket_url: str | None = Field(default=None, max_length=500)

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


# -- status drafts -------------------------------------------------


class DraftState(StrEnum):
    """A status-page draft's decision; only a pending draft can be decided."""

    PENDING = "pending"
    APPROVED = "approved"  # decided: on the bot's status page, the other destinations in progress
    PUBLISHED = "published"  # every destination done, or given up on with the reason kept
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a newer draft of the same incident was approved first


class ExternalState(StrEnum):
    """Progress of one approved draft towards the external status page (Statuspage)."""

    NONE = "none"  # no external provider configured when it was approved
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class StatusDraft(SQLModel, table=True):
    """A proposed public status update and how far its publication has got.

    The decision is one atomic ``UPDATE … WHERE state = 'pending'`` so double
    clicks and concurrent approvers cannot both win; each destination records
    its own completion (``status_post_ts``, ``external_state``) so a publication
    cut short by a crash is finished at start-up without repeating a step.
    ``lease_*`` keep two replicas from publishing the same draft at once.
    """

    __table_args__ = (
        UniqueConstraint("incident_id", "source_key", name="uq_draft_source"),
        Index("ix_draft_incident", "incident_id", "id"),
        Index("ix_draft_state", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    phase: Phase = _enum_column(Phase)
    text: str
    what_changed: str = ""  # the update's own words, for the texts to copy
    state: DraftState = _enum_column(DraftState, default=DraftState.PENDING)
    source_key: str | None = Field(default=None, max_length=255)
    created_by: str = Field(max_length=32)
    created_at: datetime = _ts(default_factory=utcnow)
    edited_by: str | None = Field(default=None, max_length=32)
    edited_at: datetime | None = _ts(default=None)
    decided_by: str | None = Field(default=None, max_length=32)
    decided_at: datetime | None = _ts(default=None)
    reject_reason: str = ""

    message_channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    message_attempts: int = 0
    copy_posted: bool = False

    published_at: datetime | None = _ts(default=None)
    status_channel_id: str | None = Field(default=None, max_length=32)
    status_post_ts: str | None = Field(default=None, max_length=32)
    status_post_attempts: int = 0
    status_post_error: str | None = None
    external_state: ExternalState = _enum_column(ExternalState, default=ExternalState.NONE)
    external_attempts: int = 0
    external_error: str | None = None
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _ts(default=None)


class ExternalStatusIncident(SQLModel, table=True):
    """The external status page's incident for one of ours, and who is syncing it.

    ``create_started`` is saved before the create call, so a create whose
    answer was lost is looked up by name instead of being made twice.
    """

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    external_id: str | None = Field(default=None, max_length=64)
    create_started: bool = False
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _ts(default=None)


# -- update reminders and status updates ----------------------------


class IncidentUpdate(SQLModel, table=True):
    """One status update posted from the update modal, as the channel saw it.

    The fields follow the playbooks' update format (status, progress, next
    steps, ETA); ``eta`` keeps what was typed and ``eta_at`` the moment it
    meant, when it named one.
    """

    __table_args__ = (Index("ix_update_incident_posted", "incident_id", "posted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    phase: Phase = _enum_column(Phase)
    what_changed: str
    next_steps: str = ""
    eta: str = Field(default="", max_length=100)
    eta_at: datetime | None = _ts(default=None)
    customer_facing: bool = False
    posted_by: str = Field(max_length=32)
    posted_at: datetime = _ts(default_factory=utcnow)
    message_ts: str | None = Field(default=None, max_length=32)


class ReminderState(SQLModel, table=True):
    """Where an incident's update reminders stand.

    ``counted_from`` is the last update, *No change* or prompt, from which the
    fixed delay runs; ``prompt_ts`` is the prompt still waiting for an answer
    (cleared by the one answer that wins); ``unanswered`` counts prompts in a
    row nobody answered, for escalation; ``fired_steps`` names the escalation
    matrix steps already done, so each fires once. ``posting`` is set while a
    prompt is being posted, so an attempt cut short between Slack accepting the
    prompt and the bot recording it adopts that prompt instead of doubling it.
    """

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    counted_from: datetime = _ts(default_factory=utcnow)
    prompt_ts: str | None = Field(default=None, max_length=32)
    prompted_at: datetime | None = _ts(default=None)
    unanswered: int = 0
    escalated_at: datetime | None = _ts(default=None)
    fired_steps: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    prompt_rounds: int = 0
    posting: bool = False


# Alerts and pages live in their own module (this one would outgrow a reader);
# imported here so that this module's metadata still holds every table.
from storage.alert_models import Alert, AlertHandling, AlertStatus, OncallPage  # noqa: F401
from storage.work_models import FollowUpWork, WorkState  # noqa: E402,F401
