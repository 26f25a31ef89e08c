"""tickets and pages: action items' and incidents' tickets, the post-mortem's Confluence page

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TICKET_COLUMNS = (("ticket_id", 64), ("ticket_key", 64), ("ticket_url", 500))
_PAGE_COLUMNS = (("postmortem_page_id", 64), ("postmortem_page_url", 500))


def _column(name: str, length: int) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)


def upgrade() -> None:
    for name, length in _TICKET_COLUMNS:
        op.add_column("actionitem", _column(name, length))
        op.add_column("incident", _column(name, length))
    for name, length in _PAGE_COLUMNS:
        op.add_column("incident", _column(name, length))
    op.create_index(op.f("ix_actionitem_ticket_id"), "actionitem", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_actionitem_ticket_id"), table_name="actionitem")
    for name, _ in _PAGE_COLUMNS:
        op.drop_column("incident", name)
    for name, _ in _TICKET_COLUMNS:
        op.drop_column("incident", name)
        op.drop_column("actionitem", name)
