"""version (optimistic concurrency) on editable rows; archived_at on rows history refers to

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 07:00:00

Plain ADD COLUMN with a constant default on both databases: no table is rebuilt (so the
triggers of 0011 on `message` are untouched).
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

VERSIONED = ("carrier_connection", "sms_registration", "template", "api_key",
             "webhook_endpoint", "agent", "console_user")
ARCHIVABLE = ("carrier_connection", "sms_registration", "template", "agent")


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False,
                                       server_default="1"))
    for table in ARCHIVABLE:
        op.add_column(table, sa.Column("archived_at", sa.DateTime(timezone=True),
                                       nullable=True))


def downgrade() -> None:
    for table in ARCHIVABLE:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("archived_at")
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
