"""versions for optimistic concurrency (calling lists, skills, campaigns) and archiving

Every user edit of a calling list, a skill or a campaign raises `version` with a conditional
UPDATE (store.errors.StaleVersion). `archived_at` hides a finished skill, or a calling list that
finished skills still report on, from the lists without deleting what reports need.

Columns added in place (a constant default): no table is rebuilt, so the triggers of 0011 on
`message` are untouched.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None

_VERSIONED = ("calling_list", "skill", "campaign")
_ARCHIVED = ("calling_list", "skill")


def upgrade() -> None:
    for table in _VERSIONED:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False,
                                       server_default="1"))
    for table in _ARCHIVED:
        op.add_column(table, sa.Column("archived_at", sa.DateTime(timezone=True),
                                       nullable=True))


def downgrade() -> None:
    for table in _ARCHIVED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("archived_at")
    for table in _VERSIONED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
