"""Follow-up work: what must follow a change, recorded with it.

Part of :mod:`storage.models` (which imports this module, so its metadata
holds this table too); kept apart only to keep each module short.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from storage.models import _enum_column, _ts, utcnow


class WorkState(StrEnum):
    """Where a piece of follow-up work stands."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class FollowUpWork(SQLModel, table=True):
    """Work that must follow a change, written in the change's own transaction.

    A worker in any replica claims due rows (``claimed_until`` is its lease), performs
    each one on its own and marks it done, retries it later with backoff, or marks it
    failed when Slack or another service refuses it for good. ``key`` makes recording
    the same work twice (a retried request, two replicas) a no-op.
    """

    __tablename__ = "follow_up_work"
    __table_args__ = (Index("ix_follow_up_work_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    key: str | None = Field(default=None, max_length=255, unique=True)
    requested_by: str | None = Field(default=None, max_length=32)
    state: WorkState = _enum_column(WorkState, default=WorkState.PENDING)
    attempts: int = 0
    due_at: datetime = _ts(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = _ts(default=None)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _ts(default_factory=utcnow)
    finished_at: datetime | None = _ts(default=None)
