"""web console: console users, their sessions, sign-in attempts, the audit log

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"],
                                name=op.f("fk_console_user_business_unit_id_business_unit")),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"],
                                name=op.f("fk_console_user_agent_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_user")),
        sa.UniqueConstraint("username", name=op.f("uq_console_user_username")),
    )
    op.create_table(
        "console_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["console_user.id"],
                                name=op.f("fk_console_session_user_id_console_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_session_token_hash")),
    )
    op.create_index("ix_console_session_user", "console_session", ["user_id"])
    op.create_table(
        "login_attempt",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    op.create_index("ix_login_attempt_username", "login_attempt", ["username", "attempted_at"])
    op.create_index("ix_login_attempt_address", "login_attempt", ["address", "attempted_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"],
                                name=op.f("fk_audit_log_business_unit_id_business_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["console_user.id"],
                                name=op.f("fk_audit_log_user_id_console_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_bu_at", "audit_log", ["business_unit_id", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("login_attempt")
    op.drop_table("console_session")
    op.drop_table("console_user")
