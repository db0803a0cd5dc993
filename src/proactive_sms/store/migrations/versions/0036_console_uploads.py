"""console uploads in the database: console_upload and its chunks

Revision ID: 0036
Revises: 0026
Create Date: 2026-12-05 14:00:00

Two new tables, nothing rebuilt. A console upload (and its import's report and rejected rows)
used to wait in a folder of the server that took it; kept here, any API server serves any step.
"""

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0026"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "console_upload",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("business_unit_id", sa.Integer(), sa.ForeignKey(
            "business_unit.id", name="fk_console_upload_business_unit_id_business_unit"),
            nullable=False),
        sa.Column("token", sa.String(40), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("file_bytes", sa.BigInteger(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_console_upload"),
        sa.UniqueConstraint("token", name="uq_console_upload_token"),
    )
    op.create_index("ix_console_upload_created_at", "console_upload", ["created_at"])
    op.create_table(
        "console_upload_chunk",
        sa.Column("upload_id", _BIG_ID, sa.ForeignKey(
            "console_upload.id", name="fk_console_upload_chunk_upload_id_console_upload"),
            nullable=False),
        sa.Column("part", sa.String(10), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("upload_id", "part", "seq", name="pk_console_upload_chunk"),
    )


def downgrade() -> None:
    op.drop_table("console_upload_chunk")
    op.drop_index("ix_console_upload_created_at", table_name="console_upload")
    op.drop_table("console_upload")
