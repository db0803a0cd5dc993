"""webhooks: per-BU endpoints, their events and delivery log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"],
                                name=op.f("fk_webhook_endpoint_business_unit_id_business_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
        sa.UniqueConstraint("business_unit_id",
                            name=op.f("uq_webhook_endpoint_business_unit_id")),
    )
    op.create_table(
        "webhook_event",
        sa.Column("id", BigId, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"],
                                name=op.f("fk_webhook_event_business_unit_id_business_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_event")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webhook_event_public_id")),
    )
    op.create_index("ix_webhook_event_due", "webhook_event", ["state", "next_attempt_at"])
    op.create_index("ix_webhook_event_bu", "webhook_event", ["business_unit_id", "id"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["webhook_event.id"],
                                name=op.f("fk_webhook_attempt_event_id_webhook_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index("ix_webhook_attempt_event", "webhook_attempt", ["event_id", "attempt_no"])


def downgrade() -> None:
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_event")
    op.drop_table("webhook_endpoint")
