"""Workers share codes: each live dispatcher announces itself (dispatch_worker), and a code's
lease carries the last window's sends across a handover (transport_lease.recent_sends,
released_at).

Revision ID: 0029
Revises: 0027
Create Date: 2026-12-05 10:00:00

Plain ADD COLUMN and a new table on both databases: nothing is rebuilt.
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transport_lease", sa.Column("released_at", sa.DateTime(timezone=True),
                                               nullable=True))
    op.add_column("transport_lease", sa.Column("recent_sends", sa.Text(), nullable=True))
    op.create_table(
        "dispatch_worker",
        sa.Column("process_token", sa.String(32), nullable=False),
        sa.Column("worker_id", sa.String(100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("process_token", name=op.f("pk_dispatch_worker")),
    )


def downgrade() -> None:
    op.drop_table("dispatch_worker")
    with op.batch_alter_table("transport_lease") as batch:
        batch.drop_column("recent_sends")
        batch.drop_column("released_at")
