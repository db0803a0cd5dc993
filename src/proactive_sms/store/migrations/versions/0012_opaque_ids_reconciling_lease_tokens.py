"""carrier ids as given, receipts that settle uncertain texts, lease process tokens

- message_part and early_receipt keep the carrier id as the carrier gave it and, beside it, its
  folded reading (upper case, no leading zeros) for the fallback match. Rows stored before this
  revision hold the folded form already: their carrier_id_folded is a copy, so they stay
  matchable (exactly by a receipt that folds the same way, or through the fallback).
- early_receipt also keeps what a receipt says of its text (connection, recipient, submit and
  done dates, text prefix), so that it can settle an `uncertain` text whose id never came.
- transport_lease carries the holder's process token, a fencing number and a heartbeat.
- carrier_connection keeps its last error in words (a refused password says so), and may set
  its own enquire_link interval (null: the dispatcher's default, now 30 s).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_part") as batch:
        batch.add_column(sa.Column("carrier_id_folded", sa.String(length=80), nullable=False,
                                   server_default=""))
    op.execute("UPDATE message_part SET carrier_id_folded = carrier_message_id")
    op.create_index("ix_message_part_carrier_id_folded", "message_part", ["carrier_id_folded"])

    with op.batch_alter_table("early_receipt") as batch:
        batch.add_column(sa.Column("carrier_id_folded", sa.String(length=80), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("connection_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("recipient", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("text_prefix", sa.String(length=40), nullable=True))
    op.execute("UPDATE early_receipt SET carrier_id_folded = carrier_message_id")
    op.create_index(op.f("ix_early_receipt_carrier_id_folded"), "early_receipt",
                    ["carrier_id_folded"])

    with op.batch_alter_table("transport_lease") as batch:
        batch.add_column(sa.Column("process_token", sa.String(length=32), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("fence", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("carrier_connection") as batch:
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("enquire_link_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("carrier_connection") as batch:
        batch.drop_column("enquire_link_s")
        batch.drop_column("last_error_at")
        batch.drop_column("last_error")
    with op.batch_alter_table("transport_lease") as batch:
        batch.drop_column("renewed_at")
        batch.drop_column("fence")
        batch.drop_column("process_token")
    op.drop_index(op.f("ix_early_receipt_carrier_id_folded"), table_name="early_receipt")
    with op.batch_alter_table("early_receipt") as batch:
        batch.drop_column("text_prefix")
        batch.drop_column("done_at")
        batch.drop_column("submitted_at")
        batch.drop_column("recipient")
        batch.drop_column("connection_id")
        batch.drop_column("carrier_id_folded")
    op.drop_index("ix_message_part_carrier_id_folded", table_name="message_part")
    with op.batch_alter_table("message_part") as batch:
        batch.drop_column("carrier_id_folded")
