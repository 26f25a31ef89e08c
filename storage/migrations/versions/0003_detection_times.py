"""detection times: when customers were first affected, and the time to detect it

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_METRICS_COLUMNS = ["severity", "drill", "declared_at", "tta_seconds", "tti_seconds", "ttr_seconds", "check_ins",
                    "late_check_ins", "late_seconds_total", "late_seconds_max"]
"""The covering index of the response metrics before this revision; it now covers time to detect too."""


def upgrade() -> None:
    op.add_column("incident", sa.Column("impact_started_at", storage.models.UTCDateTime(), nullable=True))
    op.add_column("incident", sa.Column("ttd_seconds", sa.Integer(), nullable=True))
    op.drop_index("ix_incident_metrics", table_name="incident")
    op.create_index("ix_incident_metrics", "incident", [*_METRICS_COLUMNS, "ttd_seconds"])


def downgrade() -> None:
    op.drop_index("ix_incident_metrics", table_name="incident")
    op.create_index("ix_incident_metrics", "incident", _METRICS_COLUMNS)
    with op.batch_alter_table("incident") as batch_op:
        batch_op.drop_column("ttd_seconds")
        batch_op.drop_column("impact_started_at")
