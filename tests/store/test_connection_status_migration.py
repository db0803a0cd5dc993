"""Migration 0023: a connection's status is kept once, in carrier_link_status. An error that
only the connection's record held (the columns 0023 drops) moves there with its time; one that
a worker's row already holds (or a later one) is not written twice; downgrading puts each
connection's latest error back on its record."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import DateTime, Integer, Text, column, inspect, select, table, text

from proactive_sms.services.link_status import summarize
from proactive_sms.store import link_status
from proactive_sms.store.engine import alembic_config
from tests.store import older_schema

# The record's columns as 0012 made them and 0023 drops them (the schema module no longer has them).
_BEFORE_0023 = table("carrier_connection", column("id", Integer), column("last_error", Text),
                     column("last_error_at", DateTime(timezone=True)))
REFUSED = "connect or bind failed: bind refused: wrong password (ESME_RINVPASWD)"


def _connection(id_: int, name: str, error: str | None, at: str | None) -> str:
    error_sql = f"'{error}'" if error else "NULL"
    at_sql = f"'{at}'" if at else "NULL"
    return ("INSERT INTO carrier_connection (id, tenant_id, name, kind, host, port, system_id, "
            "password, window_size, created_at, last_error, last_error_at) VALUES "
            f"({id_}, 1, '{name}', 'smpp', '127.0.0.1', 2775, 'psms', 'sealed', 10, "
            f"'2026-03-01 10:00:00', {error_sql}, {at_sql})")


def _naive(moment: datetime | None) -> datetime | None:
    return moment and moment.replace(tzinfo=None)


def test_0023_moves_errors_kept_only_on_the_connection_into_the_link_status(bare_engine):
    older_schema.upgrade_to(bare_engine, "0018")
    older_schema.write(
        bare_engine,
        _connection(1, "refused", REFUSED, "2026-03-01 10:05:00"),
        _connection(2, "both", "session ended", "2026-03-01 10:05:00"),
        _connection(3, "fine", None, None),
        # connection 2's worker saw a later error than its record says: that one stands
        "INSERT INTO carrier_link_status (connection_id, worker_id, state, since, last_error, "
        "last_error_at, updated_at) VALUES (2, 'worker-1', 'bound', '2026-03-01 10:07:00', "
        "'cannot connect', '2026-03-01 10:06:00', '2026-03-01 10:07:00')")
    older_schema.upgrade_to(bare_engine, "head")

    with bare_engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("carrier_connection")}
        reports = link_status.of_connections(conn, [1, 2, 3])
    assert not {"last_error", "last_error_at"} & columns
    later = datetime(2026, 3, 2, tzinfo=UTC)
    refused = summarize(reports[1], later)
    assert (refused.state, refused.last_error, _naive(refused.last_error_at)) == (
        "no report", REFUSED, datetime(2026, 3, 1, 10, 5))
    assert [r.state for r in reports[1]] == ["unbound"]
    both = summarize(reports[2], later)
    assert (both.last_error, len(reports[2])) == ("cannot connect", 1)
    assert reports[3] == [] and summarize(reports[3], later).last_error is None

    command.downgrade(alembic_config(bare_engine), "0018")
    with bare_engine.connect() as conn:
        kept = {r.id: (r.last_error, _naive(r.last_error_at))
                for r in conn.execute(select(_BEFORE_0023))}
        workers = set(conn.scalars(text("SELECT worker_id FROM carrier_link_status")))
    assert kept == {1: (REFUSED, datetime(2026, 3, 1, 10, 5)),
                    2: ("cannot connect", datetime(2026, 3, 1, 10, 6)), 3: (None, None)}
    assert workers == {"worker-1"}
    older_schema.upgrade_to(bare_engine, "head")  # and up again
