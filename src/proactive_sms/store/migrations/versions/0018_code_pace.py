"""code_pace: each transport code's rate after carrier throttling, and its throttle events

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_pace",
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("limit_per_s", sa.Float(), nullable=False),
        sa.Column("rate_per_s", sa.Float(), nullable=False),
        sa.Column("throttle_events", sa.Integer(), nullable=False),
        sa.Column("last_throttle_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["sms_registration.id"],
                                name=op.f("fk_code_pace_registration_id_sms_registration")),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_code_pace")),
    )


def downgrade() -> None:
    op.drop_table("code_pace")
