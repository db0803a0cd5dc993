"""tracked links: a business unit's short link domain, each skill's link targets, clicks

Revision ID: 0035
Revises: 0030
Create Date: 2026-12-05 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("business_unit", sa.Column("link_domain", sa.String(200), nullable=True))
    op.create_table(
        "skill_link",
        sa.Column("skill_id", sa.Integer, sa.ForeignKey("skill.id",
                  name="fk_skill_link_skill_id_skill"), nullable=False),
        sa.Column("link_index", sa.Integer, nullable=False),
        sa.Column("target_url", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("skill_id", "link_index", name="pk_skill_link"),
    )
    op.create_table(
        "link_click",
        sa.Column("skill_id", sa.Integer, nullable=False),
        sa.Column("record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("link_index", sa.Integer, nullable=False),
        sa.Column("first_clicked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_clicked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clicks", sa.Integer, nullable=False),
        sa.Column("agent_class", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("skill_id", "record_id", "link_index", name="pk_link_click"),
    )


def downgrade() -> None:
    op.drop_table("link_click")
    op.drop_table("skill_link")
    with op.batch_alter_table("business_unit") as batch_op:
        batch_op.drop_column("link_domain")
