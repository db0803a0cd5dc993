"""template bidi marks: fence merged values where needed (auto) or never (off)

Revision ID: 0034
Revises: 0025
Create Date: 2026-12-05 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: every existing template keeps the marks, now only
    # where a value would otherwise be shown in another order.
    op.add_column("template", sa.Column("bidi_marks", sa.String(4), nullable=False,
                                        server_default="auto"))


def downgrade() -> None:
    with op.batch_alter_table("template") as batch_op:
        batch_op.drop_column("bidi_marks")
