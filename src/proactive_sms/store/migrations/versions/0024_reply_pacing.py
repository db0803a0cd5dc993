"""reply pacing: a skill's setting (on by default) and prior, and the bound its agents set

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (no table rebuild): `skill` carries no triggers.
    op.add_column("skill", sa.Column("reply_pacing", sa.Boolean(), nullable=False,
                                     server_default=sa.text("true")))
    op.add_column("skill", sa.Column("reply_rate_prior", sa.Float(), nullable=True))
    op.create_table(
        "skill_reply_pace",
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("available_agents", sa.Integer(), nullable=False),
        sa.Column("free_places", sa.Integer(), nullable=False),
        sa.Column("reply_rate", sa.Float(), nullable=False),
        sa.Column("texts_per_min", sa.Float(), nullable=False),
        sa.Column("replies_in_flight", sa.Float(), nullable=False),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_skill_reply_pace_skill_id_skill")),
        sa.PrimaryKeyConstraint("skill_id", name=op.f("pk_skill_reply_pace")),
    )


def downgrade() -> None:
    op.drop_table("skill_reply_pace")
    with op.batch_alter_table("skill") as batch_op:
        batch_op.drop_column("reply_rate_prior")
        batch_op.drop_column("reply_pacing")
