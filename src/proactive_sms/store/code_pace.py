"""Each transport code's pace as its dispatching worker last wrote it.

Written by the worker that holds the code's lease, at its housekeeping, only when something
changed; read by the status commands, the API and /metrics, which may run in other processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from proactive_sms.store.dialect import insert
from proactive_sms.store.schema import code_pace


@dataclass(frozen=True)
class CodePace:
    registration_id: int
    limit_per_s: float  # the code's configured limit (or its skills' pacing, if lower)
    rate_per_s: float  # what it may send now: below the limit after the carrier throttled
    throttle_events: int  # throttle events since its worker started dispatching it
    last_throttle_at: datetime | None
    paused: bool  # paused after throttle events with nothing accepted between them

    @property
    def throttled(self) -> bool:
        """Whether the code is held below its limit by the carrier."""
        return self.rate_per_s < self.limit_per_s


def save(conn: Connection, paces: Sequence[CodePace], now: datetime) -> None:
    """Record these codes' paces (one statement)."""
    if not paces:
        return
    statement = insert(conn, code_pace).values([
        dict(registration_id=p.registration_id, limit_per_s=p.limit_per_s,
             rate_per_s=p.rate_per_s, throttle_events=p.throttle_events,
             last_throttle_at=p.last_throttle_at, paused=p.paused, updated_at=now)
        for p in paces])
    excluded = statement.excluded
    conn.execute(statement.on_conflict_do_update(
        index_elements=["registration_id"],
        set_={name: excluded[name] for name in (
            "limit_per_s", "rate_per_s", "throttle_events", "last_throttle_at", "paused",
            "updated_at")}))


def by_registration(conn: Connection,
                    registration_ids: Sequence[int] | None = None) -> dict[int, CodePace]:
    """The recorded paces, of these codes or of all."""
    query = select(code_pace)
    if registration_ids is not None:
        query = query.where(code_pace.c.registration_id.in_(list(registration_ids)))
    return {row.registration_id: CodePace(
        row.registration_id, row.limit_per_s, row.rate_per_s, row.throttle_events,
        row.last_throttle_at, row.paused) for row in conn.execute(query)}
