"""scheduled starts of skills, recurring notices and their runs; the business unit's zone

Revision ID: 0032
Revises: 0034
Create Date: 2026-12-05 10:00:00

New tables and one plain ADD COLUMN: no table is rebuilt (the triggers of 0011 on `message`
are untouched). A skill's status `scheduled` is a new value of a free-text column.
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("business_unit", sa.Column("time_zone", sa.String(64), nullable=True))
    op.create_table(
        "skill_start",
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_skill_start_skill_id_skill")),
        sa.PrimaryKeyConstraint("skill_id", name=op.f("pk_skill_start")),
    )
    op.create_index("ix_skill_start_state_start_at", "skill_start", ["state", "start_at"])
    op.create_table(
        "notice_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("calling_list_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("max_segments", sa.Integer(), nullable=False),
        sa.Column("calling_window", sa.JSON(), nullable=True),
        sa.Column("cron", sa.String(200), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["business_unit_id"], ["business_unit.id"],
                                name=op.f("fk_notice_schedule_business_unit_id_business_unit")),
        sa.ForeignKeyConstraint(["template_id"], ["template.id"],
                                name=op.f("fk_notice_schedule_template_id_template")),
        sa.ForeignKeyConstraint(["calling_list_id"], ["calling_list.id"],
                                name=op.f("fk_notice_schedule_calling_list_id_calling_list")),
        sa.ForeignKeyConstraint(
            ["registration_id"], ["sms_registration.id"],
            name=op.f("fk_notice_schedule_registration_id_sms_registration")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_notice_schedule_campaign_id_campaign")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_schedule")),
        sa.UniqueConstraint("business_unit_id", "name",
                            name=op.f("uq_notice_schedule_business_unit_id")),
    )
    op.create_index("ix_notice_schedule_status_next_run_at", "notice_schedule",
                    ["status", "next_run_at"])
    op.create_table(
        "notice_schedule_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["schedule_id"], ["notice_schedule.id"],
                                name=op.f("fk_notice_schedule_run_schedule_id_notice_schedule")),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"],
                                name=op.f("fk_notice_schedule_run_skill_id_skill")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_schedule_run")),
        sa.UniqueConstraint("schedule_id", "due_at",
                            name=op.f("uq_notice_schedule_run_schedule_id")),
    )
    op.create_index("ix_notice_schedule_run_state_heartbeat_at", "notice_schedule_run",
                    ["state", "heartbeat_at"])


def downgrade() -> None:
    op.drop_index("ix_notice_schedule_run_state_heartbeat_at", table_name="notice_schedule_run")
    op.drop_table("notice_schedule_run")
    op.drop_index("ix_notice_schedule_status_next_run_at", table_name="notice_schedule")
    op.drop_table("notice_schedule")
    op.drop_index("ix_skill_start_state_start_at", table_name="skill_start")
    op.drop_table("skill_start")
    with op.batch_alter_table("business_unit") as batch:
        batch.drop_column("time_zone")
