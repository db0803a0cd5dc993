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

from proactive_sms.domain.circuit_breaker import CircuitBreaker
from proactive_sms.store import link_status
from proactive_sms.store.link_status import BreakerReport, LinkStatus

HEARTBEAT_S = 30.0
# A row older than this is a worker that stopped reporting without saying so (killed).
STALE_AFTER_S = 3 * HEARTBEAT_S


@dataclass(frozen=True)
class LinkChange:
    connection_id: int
    state: str  # bound | unbound | stopped
    error: str | None  # a new error since the last record, else None
    # The dispatcher's breaker of the connection: (state, reason, seconds in that state).
    breaker: tuple[str, str, float] | None = None


class LinkStatusRecorder:
    """What the dispatcher last recorded of each carrier, to write only what changed.

    A carrier is read through two attributes (SmppCarrier has both): `bound` and
    `last_error`/`last_error_count` (the count grows with each error, so the same text twice is
    still two errors). A carrier without `bound` (a test double) is not reported.
    """

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._seen: dict[int, tuple[str, int, tuple[str, float] | None]] = {}
        self._written_at: dict[int, float] = {}

    def changes(self, carriers: Mapping[int, object], now_s: float,
                breakers: Mapping[int, CircuitBreaker] | None = None) -> list[LinkChange]:
        """What to write now (now_s: a monotonic clock): changes, and heartbeats that are due.
        `breakers`: each connection's circuit breaker, whose state is written with the link's."""
        found = []
        for connection_id, carrier in carriers.items():
            bound = getattr(carrier, "bound", None)
            if bound is None:
                continue
            state = "bound" if bound else "unbound"
            count = int(getattr(carrier, "last_error_count", 0) or 0)
            breaker = (breakers or {}).get(connection_id)
            breaker_seen = (breaker.state.value, breaker.since_s) if breaker else None
            previous = self._seen.get(connection_id)
            new_error = count != (previous[1] if previous else 0)
            due = now_s - self._written_at.get(connection_id, float("-inf")) >= HEARTBEAT_S
            if previous == (state, count, breaker_seen) and not due:
                continue
            self._seen[connection_id] = (state, count, breaker_seen)
            self._written_at[connection_id] = now_s
            found.append(LinkChange(
                connection_id, state,
                getattr(carrier, "last_error", None) if new_error else None,
                (breaker.state.value, breaker.reason, max(0.0, now_s - breaker.since_s))
                if breaker else None))
        return found

    def stopped(self, connection_ids: Iterable[int]) -> list[LinkChange]:
        """The dispatcher is ending: its links are down on purpose, not broken."""
        return [LinkChange(i, "stopped", None) for i in connection_ids if i in self._seen]

    def write(self, conn: Connection, changes: list[LinkChange], now: datetime) -> None:
        for change in changes:
            breaker = None
            if change.breaker is not None:
                state, reason, age_s = change.breaker
                breaker = BreakerReport(state, reason, now - timedelta(seconds=age_s))
            link_status.record(conn, change.connection_id, self.worker_id, change.state,
                               change.error, now, breaker)


@dataclass(frozen=True)
class LinkSummary:
    """One connection's status as a person reads it, from every worker's report."""

    state: str  # bound | unbound | stopped | no report
    since: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    workers: list[LinkStatus]
    # The breaker as the live workers report it: open if any has it open, half_open if any
    # probes, closed when all say so; None when no live worker reports one.
    breaker: str | None = None
    breaker_reason: str | None = None


def summarize(reports: list[LinkStatus], now: datetime) -> LinkSummary:
    """Bound when a live worker has it bound; else what the latest live report says; "no
    report" when no dispatcher runs it (or none has said anything for STALE_AFTER_S)."""
    live = [r for r in reports if _age_s(r.updated_at, now) <= STALE_AFTER_S]
    bound = [r for r in live if r.state == "bound"]
    errors = [r for r in reports if r.last_error_at is not None]
    latest_error = max(errors, key=lambda r: _utc(r.last_error_at)) if errors else None
    error_text = latest_error.last_error if latest_error else None
    error_at = _utc(latest_error.last_error_at) if latest_error else None
    breaker, breaker_reason = _breaker(live)
    if bound:
        return LinkSummary("bound", min(_utc(r.since) for r in bound), error_text, error_at,
                           reports, breaker, breaker_reason)
    if live:
        newest = max(live, key=lambda r: _utc(r.since))
        return LinkSummary(newest.state, _utc(newest.since), error_text, error_at, reports,
                           breaker, breaker_reason)
    return LinkSummary("no report", None, error_text, error_at, reports)


def _breaker(live: list[LinkStatus]) -> tuple[str | None, str | None]:
    for state in ("open", "half_open", "closed"):
        hits = [r for r in live if r.breaker == state and r.state != "stopped"]
        if hits:
            return state, hits[0].breaker_reason
    return None, None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite


def _age_s(moment: datetime, now: datetime) -> float:
    return (_utc(now) - _utc(moment)) / timedelta(seconds=1)
