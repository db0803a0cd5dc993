"""agents of a business unit, their skills, availability and conversations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain nullable columns: SQLite adds them in place, without copying the table.
    op.add_column("conversation", sa.Column("unanswered_since", sa.DateTime(timezone=True),
                                            nullable=True))
    op.add_column("conversation", sa.Column("first_answer_at", sa.DateTime(timezone=True),
                                            nullable=True))
    # Open conversations whose customer spoke last are waiting since their last reply (the
    # first unanswered one is not recorded before this revision).
    op.execute("UPDATE conversation SET unanswered_since = last_inbound_at "
               "WHERE status = 'open' AND (last_answer_at IS NULL "
               "OR last_answer_at < last_inbound_at)")
    op.execute("UPDATE conversation SET first_answer_at = (SELECT MIN(m.created_at) "
               "FROM message m WHERE m.conversation_id = conversation.id "
               "AND m.kind = 'agent_reply')")
    op.create_index("ix_conversation_skill_status", "conversation", ["skill_id", "status"])

    op.create_table(
        "agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("availability", sa.String(length=10), nullable=False),
        sa.Column("max_open_conversations", sa.Integer(), nullable=True),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"],
                                name=op.f("fk_agent_business_unit_id_business_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent")),
        sa.UniqueConstraint("business_unit_id", "name",
                            name=op.f("uq_agent_business_unit_id")),
    )
    op.create_table(
        "agent_skill",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"],
                                name=op.f("fk_agent_skill_agent_id_agent")),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_agent_skill_skill_id_skill")),
        sa.PrimaryKeyConstraint("agent_id", "skill_id", name=op.f("pk_agent_skill")),
    )
    op.create_index("ix_agent_skill_skill", "agent_skill", ["skill_id"])
    op.create_table(
        "conversation_assignment",
        sa.Column("conversation_id", BigId, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"],
                                name=op.f("fk_conversation_assignment_agent_id_agent")),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversation.id"],
            name=op.f("fk_conversation_assignment_conversation_id_conversation")),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_assignment")),
    )
    op.create_index("ix_conversation_assignment_agent", "conversation_assignment", ["agent_id"])
    op.create_table(
        "agent_answer",
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", BigId, nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"],
                                name=op.f("fk_agent_answer_agent_id_agent")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"],
                                name=op.f("fk_agent_answer_conversation_id_conversation")),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"],
                                name=op.f("fk_agent_answer_message_id_message")),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_agent_answer")),
    )
    op.create_index("ix_agent_answer_conversation", "agent_answer",
                    ["conversation_id", "answered_at"])
    op.create_index("ix_agent_answer_agent", "agent_answer", ["agent_id", "answered_at"])


def downgrade() -> None:
    op.drop_table("agent_answer")
    op.drop_table("conversation_assignment")
    op.drop_table("agent_skill")
    op.drop_table("agent")
    op.drop_index("ix_conversation_skill_status", table_name="conversation")
    with op.batch_alter_table("conversation") as batch_op:
        batch_op.drop_column("first_answer_at")
        batch_op.drop_column("unanswered_since")
