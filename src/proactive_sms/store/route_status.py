"""Which connection carries each code's texts now, and how often it failed over and came back.

Written by the dispatcher that holds the code's lease (one writer per code), read by the
console, the API and /metrics, which may run in other processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from proactive_sms.store.dialect import insert
from proactive_sms.store.schema import route_status, sms_registration


@dataclass(frozen=True)
class RouteStatus:
    registration_id: int
    connection_id: int | None  # carrying now; None: no connection of its route can
    since: datetime
    failovers: int  # times its texts moved to a later connection of the route
    returns: int  # times they moved back to an earlier one
    worker_id: str
    updated_at: datetime


def record(conn: Connection, registration_id: int, connection_id: int | None, worker_id: str,
           now: datetime, *, failover: bool = False, came_back: bool = False) -> None:
    """The code's carrying connection is `connection_id` from now (a failover or a return
    counts one more of its kind)."""
    counts = {"failovers": route_status.c.failovers + int(failover),
              "returns": route_status.c.returns + int(came_back)}
    values = {"connection_id": connection_id, "since": now, "worker_id": worker_id,
              "updated_at": now}
    done = conn.execute(update(route_status)
                        .where(route_status.c.registration_id == registration_id)
                        .values(**values, **counts)).rowcount
    if not done:
        conn.execute(insert(conn, route_status).values(
            registration_id=registration_id, failovers=int(failover), returns=int(came_back),
            **values).on_conflict_do_nothing())


def of_registrations(conn: Connection, registration_ids: Sequence[int]) -> dict[int, RouteStatus]:
    if not registration_ids:
        return {}
    rows = conn.execute(select(route_status)
                        .where(route_status.c.registration_id.in_(list(registration_ids))))
    return {row.registration_id: RouteStatus(
        row.registration_id, row.connection_id, row.since, row.failovers, row.returns,
        row.worker_id, row.updated_at) for row in rows}


def counts_by_code(conn: Connection) -> list[tuple[str, int, int]]:
    """(code, failovers, returns) of every code that has a route status: for /metrics."""
    rows = conn.execute(select(sms_registration.c.code, route_status.c.failovers,
                               route_status.c.returns)
                        .join(sms_registration,
                              sms_registration.c.id == route_status.c.registration_id)
                        .order_by(sms_registration.c.code))
    return [(row.code, row.failovers, row.returns) for row in rows]
