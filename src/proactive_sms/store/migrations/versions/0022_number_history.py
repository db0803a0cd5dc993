"""number history: the waits of texts, removed DNC entries, the connection that carried a text,
indexes on the numbers of calling records

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A plain ADD COLUMN (no foreign key): SQLite keeps `message` and the triggers of 0011.
    op.add_column("message", sa.Column("connection_id", sa.Integer(), nullable=True))
    op.create_table(
        "message_wait",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("message_id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"],
                                name=op.f("fk_message_wait_message_id_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_wait")),
    )
    op.create_index("ix_message_wait_message", "message_wait", ["message_id", "id"])
    op.create_table(
        "dnc_removal",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("dnc_list_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("added_source", sa.String(length=20), nullable=False),
        sa.Column("added_note", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=20), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dnc_list_id"], ["dnc_list.id"],
                                name=op.f("fk_dnc_removal_dnc_list_id_dnc_list")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_removal")),
    )
    op.create_index("ix_dnc_removal_phone", "dnc_removal", ["phone", "dnc_list_id"])
    # The records that carry a number, for its history (else every record of a unit is read).
    op.create_index("ix_calling_record_sms_destination", "calling_record", ["sms_destination"])
    op.create_index("ix_calling_record_phone", "calling_record", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_calling_record_phone", table_name="calling_record")
    op.drop_index("ix_calling_record_sms_destination", table_name="calling_record")
    op.drop_index("ix_dnc_removal_phone", table_name="dnc_removal")
    op.drop_table("dnc_removal")
    op.drop_index("ix_message_wait_message", table_name="message_wait")
    op.drop_table("message_wait")
    # SQLite 3.35+ drops a column in place (no rebuild of `message`, its triggers stay).
    op.drop_column("message", "connection_id")
