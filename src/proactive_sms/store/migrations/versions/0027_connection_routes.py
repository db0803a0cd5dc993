"""routes: a registration's ordered carrier connections, breaker state and the carrying one

- `registration_connection`: each registration's connections in order (position 0 first).
  Every existing registration's one connection becomes its first. `sms_registration.
  connection_id` stays, always the route's first (store.registrations.set_route keeps the
  two in step), so readers that want "the code's connection" need no join.
- `carrier_link_status.breaker`, `breaker_since`, `breaker_reason`: each worker's circuit
  breaker of the connection (domain.circuit_breaker), beside its bound/unbound state.
- `route_status`: which connection carries each code's texts now (written by the dispatcher
  that holds the code's lease), since when, and how many times it failed over and came back.

Plain CREATE TABLE and ADD COLUMN: no table is rebuilt (the triggers of 0011 are untouched).

Revision ID: 0027
Revises: 0033
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0033"
branch_labels = None
depends_on = None

_registration = sa.table(
    "sms_registration",
    sa.column("id", sa.Integer()),
    sa.column("connection_id", sa.Integer()),
)
_route = sa.table(
    "registration_connection",
    sa.column("registration_id", sa.Integer()),
    sa.column("position", sa.Integer()),
    sa.column("connection_id", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "registration_connection",
        sa.Column("registration_id", sa.Integer(), sa.ForeignKey("sms_registration.id"),
                  primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("connection_id", sa.Integer(), sa.ForeignKey("carrier_connection.id"),
                  nullable=False),
        sa.UniqueConstraint("registration_id", "connection_id",
                            name="uq_registration_connection_once"),
    )
    op.create_index("ix_registration_connection_connection", "registration_connection",
                    ["connection_id"])
    op.execute(_route.insert().from_select(
        ["registration_id", "position", "connection_id"],
        sa.select(_registration.c.id, sa.literal(0), _registration.c.connection_id)
        .where(_registration.c.connection_id.is_not(None))))
    op.add_column("carrier_link_status", sa.Column("breaker", sa.String(10), nullable=True))
    op.add_column("carrier_link_status", sa.Column("breaker_since", sa.DateTime(timezone=True),
                                                   nullable=True))
    op.add_column("carrier_link_status", sa.Column("breaker_reason", sa.Text(), nullable=True))
    op.create_table(
        "route_status",
        sa.Column("registration_id", sa.Integer(), sa.ForeignKey("sms_registration.id"),
                  primary_key=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failovers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("returns", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("worker_id", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("route_status")
    with op.batch_alter_table("carrier_link_status") as batch:
        batch.drop_column("breaker_reason")
        batch.drop_column("breaker_since")
        batch.drop_column("breaker")
    op.drop_index("ix_registration_connection_connection", "registration_connection")
    op.drop_table("registration_connection")
