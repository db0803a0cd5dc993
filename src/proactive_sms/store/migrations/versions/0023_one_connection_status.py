"""one connection status: carrier_connection.last_error/_at move into carrier_link_status

A connection's status was kept twice: the dispatcher copied its carrier's last error onto the
connection's record (cleared at the next bind) and also wrote carrier_link_status (per worker,
state and since, the last error kept with its time). carrier_link_status is the one kept: it
knows which worker saw what and whether that worker is still alive. An error recorded only on
the connection becomes a row of a worker named PRE_0023_WORKER, 'unbound' since the error (what
the record said: not bound then), so readers go on showing it with its time.

Revision ID: 0023
Revises: 0018
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

PRE_0023_WORKER = "(recorded before 0023)"

_connection = sa.table(
    "carrier_connection",
    sa.column("id", sa.Integer()),
    sa.column("last_error", sa.Text()),
    sa.column("last_error_at", sa.DateTime(timezone=True)),
)
_link = sa.table(
    "carrier_link_status",
    sa.column("connection_id", sa.Integer()),
    sa.column("worker_id", sa.String()),
    sa.column("state", sa.String()),
    sa.column("since", sa.DateTime(timezone=True)),
    sa.column("last_error", sa.Text()),
    sa.column("last_error_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    # Only errors that no worker's row already holds (the same or a later one) are moved.
    later = sa.select(_link.c.connection_id).where(
        _link.c.connection_id == _connection.c.id,
        _link.c.last_error_at >= _connection.c.last_error_at)
    op.execute(_link.insert().from_select(
        ["connection_id", "worker_id", "state", "since", "last_error", "last_error_at",
         "updated_at"],
        sa.select(_connection.c.id, sa.literal(PRE_0023_WORKER), sa.literal("unbound"),
                  _connection.c.last_error_at, _connection.c.last_error,
                  _connection.c.last_error_at, _connection.c.last_error_at)
        .where(_connection.c.last_error.is_not(None), _connection.c.last_error_at.is_not(None),
               ~sa.exists(later))))
    # Not batch mode: on SQLite it rebuilds the table, and dropping carrier_connection with
    # foreign keys on fails while registrations refer to it. SQLite >= 3.35 drops a plain
    # column in place.
    op.drop_column("carrier_connection", "last_error_at")
    op.drop_column("carrier_connection", "last_error")


def downgrade() -> None:
    op.add_column("carrier_connection", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column("carrier_connection",
                  sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True))
    # Each connection's latest error back onto its record (as 0012 kept it: None once bound is
    # not known any more, so the latest error is kept).
    latest = (sa.select(_link.c.last_error, _link.c.last_error_at)
              .where(_link.c.connection_id == _connection.c.id,
                     _link.c.last_error_at.is_not(None))
              .order_by(_link.c.last_error_at.desc()).limit(1))
    op.execute(_connection.update().values(
        last_error=latest.with_only_columns(_link.c.last_error).scalar_subquery(),
        last_error_at=latest.with_only_columns(_link.c.last_error_at).scalar_subquery()))
    op.execute(_link.delete().where(_link.c.worker_id == PRE_0023_WORKER))
