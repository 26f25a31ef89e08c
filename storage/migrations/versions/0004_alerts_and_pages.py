"""alerts and pages: alerts from monitoring and PagerDuty, pages to the on-call, when an incident was detected

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.add_column("incident", sa.Column("detected_at", storage.models.UTCDateTime(), nullable=True))
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", _text(20), nullable=False),
        sa.Column("key", _text(255), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("handling", sa.Enum("auto", "button", "page", name="alerthandling", native_enum=False, length=20),
                  nullable=False),
        sa.Column("title", _text(200), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=True),
        sa.Column("details", _text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("assignees", sa.JSON(), nullable=False),
        sa.Column("started_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("received_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("status", sa.Enum("firing", "acknowledged", "resolved", name="alertstatus", native_enum=False,
                                    length=20), nullable=False),
        sa.Column("status_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("announcement_channel_id", _text(32), nullable=True),
        sa.Column("announcement_ts", _text(32), nullable=True),
        sa.Column("dismissed_by", _text(32), nullable=True),
        sa.Column("dismissed_at", storage.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "key", "occurrence", name="uq_alert_occurrence"),
    )
    op.create_index(op.f("ix_alert_incident_id"), "alert", ["incident_id"])
    op.create_table(
        "oncall_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("action", _text(10), nullable=False),
        sa.Column("dedup_key", _text(255), nullable=False),
        sa.Column("summary", _text(1024), nullable=False),
        sa.Column("cause", _text(300), nullable=False),
        sa.Column("requested_by", _text(32), nullable=True),
        sa.Column("sent_at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_id"),
    )
    op.create_index(op.f("ix_oncall_page_incident_id"), "oncall_page", ["incident_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_oncall_page_incident_id"), table_name="oncall_page")
    op.drop_table("oncall_page")
    op.drop_index(op.f("ix_alert_incident_id"), table_name="alert")
    op.drop_table("alert")
    op.drop_column("incident", "detected_at")
