"""HTTP provider connections: provider, account, base_url, callback_url on carrier_connection;
carrier_callback (callbacks stored before they are acknowledged)

Revision ID: 0026
Revises: 0035
Create Date: 2026-12-05 10:00:00

Plain ADD COLUMN of nullable columns (SMPP connections leave them null) and a new table: no
table is rebuilt.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0035"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COLUMNS = (("provider", 30), ("account", 100), ("base_url", 300), ("callback_url", 300))


def upgrade() -> None:
    for name, length in _COLUMNS:
        op.add_column("carrier_connection", sa.Column(name, sa.String(length), nullable=True))
    op.create_table(
        "carrier_callback",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("connection_id", sa.Integer(), sa.ForeignKey("carrier_connection.id"),
                  nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("provider_message_id", sa.String(80), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(200), nullable=True),
        sa.UniqueConstraint("connection_id", "kind", "provider_message_id", "event",
                            name="uq_carrier_callback_event"),
    )
    op.create_index("ix_carrier_callback_unprocessed", "carrier_callback",
                    ["processed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_carrier_callback_unprocessed", table_name="carrier_callback")
    op.drop_table("carrier_callback")
    for name, _length in reversed(_COLUMNS):
        with op.batch_alter_table("carrier_connection") as batch:
            batch.drop_column(name)
