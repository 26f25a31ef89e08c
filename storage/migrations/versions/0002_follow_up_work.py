"""follow-up work: what must follow a change, recorded with it

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_DECLARE_LEASE_COLUMNS = ("setup_attempts", "setup_retry_at", "setup_lease_owner", "setup_lease_until")
"""The declare's own retry bookkeeping, replaced by follow-up work."""


def upgrade() -> None:
    op.create_table(
        "follow_up_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("state", sa.Enum("pending", "done", "failed", name="workstate", native_enum=False, length=20),
                  nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("claimed_until", storage.models.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("finished_at", storage.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_follow_up_work_due", "follow_up_work", ["state", "due_at"])
    op.create_index(op.f("ix_follow_up_work_incident_id"), "follow_up_work", ["incident_id"])
    for column in _DECLARE_LEASE_COLUMNS:  # plain DROP COLUMN: SQLite has it since 3.35
        op.drop_column("incident", column)


def downgrade() -> None:
    op.add_column("incident", sa.Column("setup_attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("incident", sa.Column("setup_retry_at", storage.models.UTCDateTime(), nullable=True))
    op.add_column("incident", sa.Column("setup_lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64),
                                        nullable=True))
    op.add_column("incident", sa.Column("setup_lease_until", storage.models.UTCDateTime(), nullable=True))
    op.drop_index(op.f("ix_follow_up_work_incident_id"), table_name="follow_up_work")
    op.drop_index("ix_follow_up_work_due", table_name="follow_up_work")
    op.drop_table("follow_up_work")
