"""cadences of agent skills: steps, call outcomes, each record's progress

A message now also names its cadence step and that step's attempt (0 and 0 for agentless texts),
and invariant 1's unique constraint covers them: one message per (skill, record, SMS step
attempt), which for an agentless skill is still one per (skill, record).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SUBMITTED = sa.text("submitted_at IS NOT NULL")


def upgrade() -> None:
    # SQLite rebuilds the table to change a constraint; the partial index is dropped first and
    # made again after, so that its WHERE clause does not depend on how the rebuild reflects it.
    op.drop_index("ix_message_destination_submitted", table_name="message")
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("cadence_step", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("step_attempt", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.drop_constraint(op.f("uq_message_skill_id"), type_="unique")
        batch.create_unique_constraint(op.f("uq_message_skill_id"),
                                       ["skill_id", "record_id", "cadence_step", "step_attempt"])
    op.create_index("ix_message_destination_submitted", "message",
                    ["destination", "submitted_at"],
                    sqlite_where=_SUBMITTED, postgresql_where=_SUBMITTED)

    op.create_table(
        "cadence",
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_cadence_skill_id_skill")),
        sa.PrimaryKeyConstraint("skill_id", name=op.f("pk_cadence")),
    )
    op.create_table(
        "cadence_record",
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_call_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_reason", sa.String(length=40), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_cadence_record_skill_id_skill")),
        sa.ForeignKeyConstraint(["record_id"], ["calling_record.id"],
                                name=op.f("fk_cadence_record_record_id_calling_record")),
        sa.PrimaryKeyConstraint("skill_id", "record_id", name=op.f("pk_cadence_record")),
    )
    op.create_index("ix_cadence_record_due", "cadence_record",
                    ["skill_id", "done_reason", "due_at"])
    op.create_table(
        "cadence_outcome",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_cadence_outcome_skill_id_skill")),
        sa.ForeignKeyConstraint(["record_id"], ["calling_record.id"],
                                name=op.f("fk_cadence_outcome_record_id_calling_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cadence_outcome")),
        sa.UniqueConstraint("skill_id", "record_id", "step", "attempt",
                            name=op.f("uq_cadence_outcome_skill_id")),
    )


def downgrade() -> None:
    op.drop_table("cadence_outcome")
    op.drop_index("ix_cadence_record_due", table_name="cadence_record")
    op.drop_table("cadence_record")
    op.drop_table("cadence")
    op.drop_index("ix_message_destination_submitted", table_name="message")
    with op.batch_alter_table("message") as batch:
        batch.drop_constraint(op.f("uq_message_skill_id"), type_="unique")
        batch.create_unique_constraint(op.f("uq_message_skill_id"), ["skill_id", "record_id"])
        batch.drop_column("step_attempt")
        batch.drop_column("cadence_step")
    op.create_index("ix_message_destination_submitted", "message",
                    ["destination", "submitted_at"],
                    sqlite_where=_SUBMITTED, postgresql_where=_SUBMITTED)
