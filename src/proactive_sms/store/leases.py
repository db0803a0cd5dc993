"""Transport-code leases shared by dispatcher workers: who sends for which code, fairly, and how a
code's recent sends travel with it.

A lease names its holder twice: the worker id (stable across restarts, given by the operator) and
the process token (random per dispatcher process). Only the same process renews. Another process
takes a lease when it has lapsed (`expires_at`), when its holder handed it back (`released_at`),
or, with the same worker id, once the holder's heartbeat (`renewed_at`) has been silent for
`restart_takeover_s`: a restarted worker's old process is dead, so it takes its codes back in a few
seconds rather than lease_s, while a second *live* process with that worker id is refused. Each
change of holder raises `fence` (a compare-and-swap on it, so two takers cannot both win), and a
claim carries the fence its lane was started under (`held_with_fence`): a lane of an older tenure
claims nothing.

Sharing: every live process announces itself in `dispatch_worker` at each renewal. A process takes
codes up to its share, ceil(codes / live workers); a free code nobody took for `grace_s` may be
taken beyond it (a worker counted live may be stuck). A process over its share hands a bounded
number back per renewal while a live worker is short (`to_give_back`); the dispatcher stops those
lanes, lets their texts be answered, and `release`s the codes with the pacer's last window.

Handover and the limit: a released lease carries its holder's sends of the last window
(`recent_sends`), which seed the next holder's pacer. A lease taken from a holder that did not hand
it back (killed, paused, restarted) carries none: the new holder waits out one window (`Tenure.
unclean`). The old holder stops submitting when its own lease clock says the lease may have
lapsed, before anyone may take it (services.dispatch).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, func, select, tuple_, update

from proactive_sms.store.dialect import insert
from proactive_sms.store.schema import dispatch_worker, transport_lease

_LEASE = transport_lease.c


@dataclass(frozen=True)
class LeaseHolder:
    worker_id: str
    process_token: str  # random per dispatcher process


@dataclass(frozen=True)
class Tenure:
    """A code this process holds, under one fence."""

    registration_id: int
    fence: int
    # Taken at this renewal (not renewed): the lane starts now.
    new: bool = False
    # The last holder's sends of its last window (epoch seconds, weight), when it handed the code
    # back: the new pacer counts them.
    handed_sends: tuple[tuple[float, int], ...] = ()
    # Taken from a holder that did not hand it back: its last sends are unknown, wait a window.
    unclean: bool = False


@dataclass(frozen=True)
class Fleet:
    """What a process knows of the others at a renewal."""

    live_workers: int  # processes seen within the lease time, this one included
    codes: int  # codes to share
    held: Mapping[str, int]  # live lease count by process token
    free: int  # codes nobody holds

    @property
    def share(self) -> int:
        return math.ceil(self.codes / max(self.live_workers, 1))


def announce(conn: Connection, holder: LeaseHolder, now: datetime, live_s: float) -> None:
    """Say this process is alive (its heartbeat), and forget processes silent for long."""
    statement = insert(conn, dispatch_worker).values(
        process_token=holder.process_token, worker_id=holder.worker_id, started_at=now,
        seen_at=now)
    conn.execute(statement.on_conflict_do_update(index_elements=["process_token"],
                                                 set_={"seen_at": now}))
    # Rows of processes that died without retiring: kept a while (they read as not live).
    conn.execute(delete(dispatch_worker).where(
        dispatch_worker.c.seen_at < now - timedelta(seconds=max(20 * live_s, 300))))


def retire(conn: Connection, holder: LeaseHolder) -> None:
    """This process stops dispatching: the others count one worker fewer at once."""
    conn.execute(delete(dispatch_worker).where(
        dispatch_worker.c.process_token == holder.process_token))


def fleet(conn: Connection, registration_ids: Sequence[int], now: datetime,
          live_s: float) -> Fleet:
    """How many processes are live, and how many of these codes each holds."""
    live = conn.scalar(select(func.count()).select_from(dispatch_worker).where(
        dispatch_worker.c.seen_at > now - timedelta(seconds=live_s))) or 1
    held: dict[str, int] = dict(conn.execute(
        select(_LEASE.process_token, func.count())
        .where(_LEASE.registration_id.in_(list(registration_ids)), _LEASE.expires_at > now,
               _LEASE.released_at.is_(None))
        .group_by(_LEASE.process_token)).all()) if registration_ids else {}
    return Fleet(live, len(registration_ids), held, len(registration_ids) - sum(held.values()))


def to_give_back(fleet_now: Fleet, holder: LeaseHolder, going: int, max_moves: int) -> int:
    """How many codes this process should hand back now: what it holds over its share, no more
    than live workers are short of theirs (beyond the free codes they can take themselves), and
    at most `max_moves` at a time. `going`: codes it is handing back already."""
    mine = fleet_now.held.get(holder.process_token, 0) - going
    excess = mine - fleet_now.share
    if excess <= 0:
        return 0
    floor = fleet_now.codes // max(fleet_now.live_workers, 1)
    others_held = [n for token, n in fleet_now.held.items() if token != holder.process_token]
    # Live workers holding nothing do not appear in `held`.
    idle = max(fleet_now.live_workers - 1 - len(others_held), 0)
    short = sum(max(floor - n, 0) for n in others_held) + idle * floor
    short -= fleet_now.free + going
    return max(min(excess, short, max_moves), 0)


def renew_and_take(conn: Connection, holder: LeaseHolder, registration_ids: Sequence[int],
                   now: datetime, lease_s: float, restart_takeover_s: float,
                   share: int | None = None, grace_s: float = 2.0,
                   keep_out: Sequence[int] = ()) -> dict[int, Tenure]:
    """Renew this process's leases among `registration_ids` and take free ones up to `share`
    (None: all it can); returns every code it holds now. `keep_out`: codes not to take (being
    handed back by this process)."""
    wanted = list(dict.fromkeys(registration_ids))
    if not wanted:
        return {}
    expires = now + timedelta(seconds=lease_s)
    held = {r: Tenure(r, fence) for r, fence in conn.execute(
        update(transport_lease)
        .where(_LEASE.registration_id.in_(wanted), _LEASE.worker_id == holder.worker_id,
               _LEASE.process_token == holder.process_token, _LEASE.released_at.is_(None))
        .values(expires_at=expires, renewed_at=now)
        .returning(_LEASE.registration_id, _LEASE.fence))}
    room = len(wanted) if share is None else share - len(held)
    skip = set(held) | set(keep_out)
    rows = {row.registration_id: row for row in conn.execute(
        select(_LEASE.registration_id, _LEASE.worker_id, _LEASE.expires_at, _LEASE.renewed_at,
               _LEASE.released_at, _LEASE.recent_sends, _LEASE.fence)
        .where(_LEASE.registration_id.in_([r for r in wanted if r not in skip])))}
    silent_since = now - timedelta(seconds=restart_takeover_s)
    stale_since = now - timedelta(seconds=grace_s)
    restart, released, lapsed, long_free = [], [], [], []
    for r, row in rows.items():
        expires_at, renewed_at = _aware(row.expires_at), _aware(row.renewed_at)
        if row.released_at is not None:
            released.append(r)
        elif expires_at <= now:
            lapsed.append(r)
        elif row.worker_id == holder.worker_id and (renewed_at is None
                                                    or renewed_at <= silent_since):
            restart.append(r)
        else:
            continue
        if row.released_at is not None or expires_at <= now:
            freed_at = _aware(row.released_at) or expires_at
            if freed_at <= stale_since:
                long_free.append(r)
    never = [r for r in wanted if r not in skip and r not in rows]
    # A restarted worker's own codes first, then codes handed back, then lapsed, then new ones.
    chosen = (restart + released + lapsed + never)[:max(room, 0)]
    chosen += [r for r in long_free if r not in chosen]  # nobody took them: someone must
    taken = _take(conn, holder, [r for r in chosen if r in rows], rows, now, expires)
    taken.update(_insert(conn, holder, [r for r in chosen if r not in rows], now, expires))
    return {**held, **taken}


def _take(conn: Connection, holder: LeaseHolder, ids: list[int], rows: dict, now: datetime,
          expires: datetime) -> dict[int, Tenure]:
    """Take these leases if nobody changed them since they were read (same fence)."""
    if not ids:
        return {}
    got = conn.execute(
        update(transport_lease)
        .where(tuple_(_LEASE.registration_id, _LEASE.fence).in_(
            [(r, rows[r].fence) for r in ids]))
        .values(worker_id=holder.worker_id, process_token=holder.process_token,
                expires_at=expires, renewed_at=now, fence=_LEASE.fence + 1, released_at=None,
                recent_sends=None)
        .returning(_LEASE.registration_id, _LEASE.fence)).all()
    tenures = {}
    for r, fence in got:
        before = rows[r]
        if before.released_at is not None:
            tenures[r] = Tenure(r, fence, True, _parse_sends(before.recent_sends))
        else:
            tenures[r] = Tenure(r, fence, True, unclean=True)
    return tenures


def _insert(conn: Connection, holder: LeaseHolder, ids: list[int], now: datetime,
            expires: datetime) -> dict[int, Tenure]:
    if not ids:
        return {}
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT.
    got = conn.scalars(
        insert(conn, transport_lease)
        .values([{"registration_id": r, "worker_id": holder.worker_id,
                  "process_token": holder.process_token, "expires_at": expires,
                  "renewed_at": now, "fence": 1} for r in ids])
        .on_conflict_do_nothing()
        .returning(_LEASE.registration_id))
    return {r: Tenure(r, 1, True) for r in got}


def release(conn: Connection, holder: LeaseHolder,
            sends: Mapping[int, Sequence[tuple[float, int]]], now: datetime) -> set[int]:
    """Hand these codes back, each with its pacer's last window (epoch seconds, weight), if this
    process still holds them: free at once for the next holder."""
    released: set[int] = set()
    for registration_id, recent in sends.items():
        released.update(conn.scalars(
            update(transport_lease)
            .where(_LEASE.registration_id == registration_id,
                   _LEASE.worker_id == holder.worker_id,
                   _LEASE.process_token == holder.process_token,
                   _LEASE.released_at.is_(None))
            .values(expires_at=now, released_at=now,
                    recent_sends=json.dumps([[round(t, 4), w] for t, w in recent]))
            .returning(_LEASE.registration_id)))
    return released


def held_with_fence(conn: Connection, holder: LeaseHolder, fences: Mapping[int, int],
                    now: datetime) -> set[int]:
    """The codes of `fences` this process still holds under exactly that fence, unexpired and
    not handed back: the claim of a lane of any other tenure moves nothing."""
    if not fences:
        return set()
    # Every claim batch asks this: one statement built once (no list of codes in it), the
    # fences compared here; a process holds at most its share of the codes.
    rows = conn.execute(_HELD, {"worker_id": holder.worker_id,
                                "process_token": holder.process_token, "now": now})
    return {code for code, fence in rows if fences.get(code) == fence}


_HELD = select(_LEASE.registration_id, _LEASE.fence).where(
    _LEASE.worker_id == bindparam("worker_id"), _LEASE.process_token == bindparam("process_token"),
    _LEASE.expires_at > bindparam("now"), _LEASE.released_at.is_(None))


def holders(conn: Connection, now: datetime) -> dict[int, str]:
    """Each code's live holder (worker id), for status and tests."""
    return dict(conn.execute(select(_LEASE.registration_id, _LEASE.worker_id).where(
        _LEASE.expires_at > now, _LEASE.released_at.is_(None))).all())


def _parse_sends(raw: str | None) -> tuple[tuple[float, int], ...]:
    if not raw:
        return ()
    try:
        return tuple((float(t), int(w)) for t, w in json.loads(raw))
    except (ValueError, TypeError):
        return ()


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive UTC
