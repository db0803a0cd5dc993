"""Carrier link status: the dispatcher records what it sees of each connection, the console
reads it.

The dispatcher owns the carrier sessions; a console (or API) process may run without one
(`psms serve --no-dispatch`, workers elsewhere), so the status lives in the store: one row per
(connection, worker), written when a link binds, drops or fails, and refreshed every
HEARTBEAT_S so that a row nobody refreshes any more (a worker that died) reads as "no report"
rather than as a link that is still up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from proactive_sms.store import link_status
from proactive_sms.store.link_status import LinkStatus

HEARTBEAT_S = 30.0
# A row older than this is a worker that stopped reporting without saying so (killed).
STALE_AFTER_S = 3 * HEARTBEAT_S


@dataclass(frozen=True)
class LinkChange:
    connection_id: int
    state: str  # bound | unbound | stopped
    error: str | None  # a new error since the last record, else None


class LinkStatusRecorder:
    """What the dispatcher last recorded of each carrier, to write only what changed.

    A carrier is read through two attributes (SmppCarrier has both): `bound` and
    `last_error`/`last_error_count` (the count grows with each error, so the same text twice is
    still two errors). A carrier without `bound` (a test double) is not reported.
    """

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._seen: dict[int, tuple[str, int]] = {}
        self._written_at: dict[int, float] = {}

    def changes(self, carriers: Mapping[int, object], now_s: float) -> list[LinkChange]:
        """What to write now (now_s: a monotonic clock): changes, and heartbeats that are due."""
        found = []
        for connection_id, carrier in carriers.items():
            bound = getattr(carrier, "bound", None)
            if bound is None:
                continue
            state = "bound" if bound else "unbound"
            count = int(getattr(carrier, "last_error_count", 0) or 0)
            previous = self._seen.get(connection_id)
            new_error = count != (previous[1] if previous else 0)
            due = now_s - self._written_at.get(connection_id, float("-inf")) >= HEARTBEAT_S
            if previous == (state, count) and not due:
                continue
            self._seen[connection_id] = (state, count)
            self._written_at[connection_id] = now_s
            found.append(LinkChange(connection_id, state,
                                    getattr(carrier, "last_error", None) if new_error else None))
        return found

    def stopped(self, connection_ids: Iterable[int]) -> list[LinkChange]:
        """The dispatcher is ending: its links are down on purpose, not broken."""
        return [LinkChange(i, "stopped", None) for i in connection_ids if i in self._seen]

    def write(self, conn: Connection, changes: list[LinkChange], now: datetime) -> None:
        for change in changes:
            link_status.record(conn, change.connection_id, self.worker_id, change.state,
                               change.error, now)


@dataclass(frozen=True)
class LinkSummary:
    """One connection's status as a person reads it, from every worker's report."""

    state: str  # bound | unbound | stopped | no report
    since: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    workers: list[LinkStatus]


def summarize(reports: list[LinkStatus], now: datetime) -> LinkSummary:
    """Bound when a live worker has it bound; else what the latest live report says; "no
    report" when no dispatcher runs it (or none has said anything for STALE_AFTER_S)."""
    live = [r for r in reports if _age_s(r.updated_at, now) <= STALE_AFTER_S]
    bound = [r for r in live if r.state == "bound"]
    errors = [r for r in reports if r.last_error_at is not None]
    latest_error = max(errors, key=lambda r: _utc(r.last_error_at)) if errors else None
    error_text = latest_error.last_error if latest_error else None
    error_at = _utc(latest_error.last_error_at) if latest_error else None
    if bound:
        return LinkSummary("bound", min(_utc(r.since) for r in bound), error_text, error_at,
                           reports)
    if live:
        newest = max(live, key=lambda r: _utc(r.since))
        return LinkSummary(newest.state, _utc(newest.since), error_text, error_at, reports)
    return LinkSummary("no report", None, error_text, error_at, reports)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite


def _age_s(moment: datetime, now: datetime) -> float:
    return (_utc(now) - _utc(moment)) / timedelta(seconds=1)
