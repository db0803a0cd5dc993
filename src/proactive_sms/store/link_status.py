"""Carrier link status: what each dispatcher last saw of each connection it runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from proactive_sms.store.dialect import insert
from proactive_sms.store.schema import carrier_link_status


@dataclass(frozen=True)
class LinkStatus:
    connection_id: int
    worker_id: str
    state: str  # bound | unbound | stopped
    since: datetime
    last_error: str | None
    last_error_at: datetime | None
    updated_at: datetime
    # That worker's circuit breaker of the connection (domain.circuit_breaker): closed, open
    # or half_open, since when, and why; None before the first report.
    breaker: str | None = None
    breaker_since: datetime | None = None
    breaker_reason: str | None = None


@dataclass(frozen=True)
class BreakerReport:
    state: str
    reason: str
    since: datetime


def record(conn: Connection, connection_id: int, worker_id: str, state: str,
           error: str | None, now: datetime, breaker: BreakerReport | None = None) -> None:
    """Store what the worker sees now: the state (its `since` moves only when it changes) and,
    when given, a new last error and its breaker's state."""
    current = conn.execute(select(carrier_link_status.c.state).where(
        carrier_link_status.c.connection_id == connection_id,
        carrier_link_status.c.worker_id == worker_id)).scalar()
    values: dict = {"state": state, "updated_at": now}
    if breaker is not None:
        values.update(breaker=breaker.state, breaker_reason=breaker.reason[:2000] or None,
                      breaker_since=breaker.since)
    if current != state:
        values["since"] = now
    if error is not None:
        values["last_error"] = error[:2000]
        values["last_error_at"] = now
    if current is None:
        conn.execute(insert(conn, carrier_link_status).values(
            connection_id=connection_id, worker_id=worker_id, **{"since": now, **values})
            .on_conflict_do_nothing())
        return
    conn.execute(update(carrier_link_status).where(
        carrier_link_status.c.connection_id == connection_id,
        carrier_link_status.c.worker_id == worker_id).values(**values))


def of_connections(conn: Connection,
                   connection_ids: Sequence[int]) -> dict[int, list[LinkStatus]]:
    """Connection id -> every worker's status of it, latest change first."""
    found: dict[int, list[LinkStatus]] = {i: [] for i in connection_ids}
    if not connection_ids:
        return found
    rows = conn.execute(select(carrier_link_status)
                        .where(carrier_link_status.c.connection_id.in_(list(connection_ids)))
                        .order_by(carrier_link_status.c.updated_at.desc()))
    for row in rows:
        found[row.connection_id].append(LinkStatus(
            row.connection_id, row.worker_id, row.state, row.since, row.last_error,
            row.last_error_at, row.updated_at, row.breaker, row.breaker_since,
            row.breaker_reason))
    return found
