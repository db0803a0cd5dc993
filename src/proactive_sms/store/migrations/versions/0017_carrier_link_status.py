"""carrier link status: bound or not, and the last error, per connection and worker

Revision ID: 0017
Revises: 0014 (written against 0009; the merge of h-web chains it after 0010)
Create Date: 2026-12-05 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_link_status",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["carrier_connection.id"],
            name=op.f("fk_carrier_link_status_connection_id_carrier_connection")),
        sa.PrimaryKeyConstraint("connection_id", "worker_id",
                                name=op.f("pk_carrier_link_status")),
    )


def downgrade() -> None:
    op.drop_table("carrier_link_status")
