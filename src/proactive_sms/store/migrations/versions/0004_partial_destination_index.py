"""partial index on message destination: only texts that were submitted

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 20:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SUBMITTED = sa.text("submitted_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_message_destination", table_name="message")
    op.create_index("ix_message_destination_submitted", "message",
                    ["destination", "submitted_at"],
                    sqlite_where=_SUBMITTED, postgresql_where=_SUBMITTED)


def downgrade() -> None:
    op.drop_index("ix_message_destination_submitted", table_name="message")
    op.create_index("ix_message_destination", "message", ["destination", "sent_at"])
