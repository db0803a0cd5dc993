"""The webhook outbox and its delivery log.

Events are added in the transaction of the change they report, only for BUs with an active
endpoint that wants the type (store.webhooks.watched). Senders claim due events with a lease (and
SKIP LOCKED on PostgreSQL), so several can run; each attempt is logged in `webhook_attempt`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from proactive_sms.domain.message_states import MessageState, allowed_sources
from proactive_sms.domain.webhook_events import (
    REPORTED_MESSAGE_STATES,
    EventType,
    envelope,
    new_event_id,
)
from proactive_sms.store.schema import (
    message,
    skill,
    sms_registration,
    webhook_attempt,
    webhook_event,
)
from proactive_sms.store.webhooks import aware, watched

PENDING, DELIVERED, GIVEN_UP, CANCELLED = "pending", "delivered", "given_up", "cancelled"


@dataclass(frozen=True)
class Event:
    id: int
    public_id: str
    business_unit_id: int
    type: str
    occurred_at: datetime
    body: str
    state: str
    attempts: int  # in the current round (a redelivery starts a new round)
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def _event(row) -> Event:
    (id_, public_id, bu_id, type_, occurred_at, body, state, attempts, next_at,
     delivered_at) = row
    return Event(id_, public_id, bu_id, type_, aware(occurred_at), body, state, attempts,
                 aware(next_at), aware(delivered_at))


@dataclass(frozen=True)
class Attempt:
    event_id: int
    attempt_no: int
    attempted_at: datetime
    url: str
    http_status: int | None
    error: str | None
    duration_ms: int
    outcome: str  # delivered | retrying | given_up
    next_attempt_at: datetime | None


def emit(conn: Connection, business_unit_id: int, event_type: EventType,
         data: dict[str, Any], now: datetime) -> str | None:
    """Add one event if the BU's endpoint wants it; its public id, or None."""
    added = emit_many(conn, [(business_unit_id, event_type, data)], now)
    return added[0] if added else None


def emit_many(conn: Connection, events: Sequence[tuple[int, EventType, dict[str, Any]]],
              now: datetime) -> list[str]:
    """Add the events whose BU's endpoint wants them, in one statement; their public ids."""
    watching = watched(conn)
    rows = []
    for business_unit_id, event_type, data in events:
        watch = watching.get(business_unit_id)
        if watch is None or not (event_type is EventType.PING or watch.wants(event_type)):
            continue
        public_id = new_event_id()
        rows.append({"public_id": public_id, "business_unit_id": business_unit_id,
                     "type": event_type.value, "occurred_at": now,
                     "body": envelope(public_id, event_type, now, watch.business_unit, data),
                     "state": PENDING, "attempts": 0, "next_attempt_at": now})
    if rows:
        conn.execute(webhook_event.insert(), rows)
    return [row["public_id"] for row in rows]


def wants(conn: Connection, business_unit_id: int, event_type: EventType) -> bool:
    """Whether an event of this type for this BU would be kept (to skip building its data)."""
    watch = watched(conn).get(business_unit_id)
    return watch is not None and watch.wants(event_type)


# --- message.status: hooked into store.messages.transition -------------------------------------

_of_skill = skill.alias("ws")
_code = sms_registration.alias("wr")


def moving_messages(conn: Connection, ids: Sequence[int], new: MessageState) -> list | None:
    """Before a transition to `new`: the messages that will move and whose BU wants
    message.status events, locked until the transaction ends. None (at the cost of one
    dictionary look-up) when no BU has an endpoint or the state is not reported."""
    if new.value not in REPORTED_MESSAGE_STATES:
        return None
    watching = watched(conn)
    if not any(w.wants(EventType.MESSAGE_STATUS) for w in watching.values()):
        return None
    bu_id = func.coalesce(_of_skill.c.business_unit_id, _code.c.business_unit_id)
    query = (
        select(message.c.id, message.c.kind, message.c.destination, message.c.error_code,
               message.c.detail, _of_skill.c.id, _of_skill.c.name, _code.c.code, bu_id)
        .select_from(message)
        .outerjoin(_of_skill, _of_skill.c.id == message.c.skill_id)
        .outerjoin(_code, _code.c.id == func.coalesce(message.c.registration_id,
                                                      _of_skill.c.registration_id))
        .where(message.c.state.in_([s.value for s in allowed_sources(new)]))
        .with_for_update(of=message)
    )
    rows = []
    for start in range(0, len(ids), 900):
        chunk = list(ids[start:start + 900])
        rows += [r for r in conn.execute(query.where(message.c.id.in_(chunk)))
                 if r[-1] in watching and watching[r[-1]].wants(EventType.MESSAGE_STATUS)]
    return rows


def messages_moved(conn: Connection, moving: list, new: MessageState, now: datetime,
                   values: Mapping[str, Any]) -> None:
    """After the transition: one message.status event per message that moved."""
    emit_many(conn, [(bu_id, EventType.MESSAGE_STATUS, {
        "message_id": message_id, "state": new.value, "kind": kind,
        "skill_id": skill_id, "skill": skill_name, "code": code, "destination": destination,
        "error_code": values.get("error_code", error_code),
        "skip_reason": values.get("skip_reason"),
        "detail": values.get("detail", detail),
    }) for (message_id, kind, destination, error_code, detail, skill_id, skill_name, code,
            bu_id) in moving], now)


# --- the sender's side ---------------------------------------------------------------------------

_EVENT_COLUMNS = (webhook_event.c.id, webhook_event.c.public_id,
                  webhook_event.c.business_unit_id, webhook_event.c.type,
                  webhook_event.c.occurred_at, webhook_event.c.body, webhook_event.c.state,
                  webhook_event.c.attempts, webhook_event.c.next_attempt_at,
                  webhook_event.c.delivered_at)


def _claimable(now: datetime):
    return (webhook_event.c.state == PENDING,
            webhook_event.c.next_attempt_at <= now,
            or_(webhook_event.c.claimed_until.is_(None), webhook_event.c.claimed_until <= now))


def claim_due(conn: Connection, now: datetime, lease_until: datetime, limit: int,
              only: Sequence[int] | None = None,
              skip_units: Sequence[int] = ()) -> list[Event]:
    """Take up to `limit` due events (or just `only`, if due) until `lease_until`: no other
    sender takes them meanwhile. A sender that dies leaves them to others once the lease ends.
    `skip_units`: BUs whose events are left alone (the caller is still delivering theirs)."""
    query = (select(webhook_event.c.id).where(*_claimable(now))
             .order_by(webhook_event.c.next_attempt_at, webhook_event.c.id).limit(limit))
    if only is not None:
        query = query.where(webhook_event.c.id.in_(list(only)))
    if skip_units:
        query = query.where(webhook_event.c.business_unit_id.not_in(list(skip_units)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.scalars(query))
    if not ids:
        return []
    rows = conn.execute(update(webhook_event)
                        .where(webhook_event.c.id.in_(ids), *_claimable(now))
                        .values(claimed_until=lease_until)
                        .returning(*_EVENT_COLUMNS)).all()
    return sorted((_event(row) for row in rows), key=lambda e: e.id)


def record_attempt(conn: Connection, event: Event, attempt: Attempt) -> None:
    """Log the attempt and move the event on: delivered, due again later, or given up."""
    conn.execute(webhook_attempt.insert().values(
        event_id=event.id, attempt_no=attempt.attempt_no, attempted_at=attempt.attempted_at,
        url=attempt.url[:2000], http_status=attempt.http_status, error=attempt.error,
        duration_ms=attempt.duration_ms, outcome=attempt.outcome,
        next_attempt_at=attempt.next_attempt_at))
    state = {"delivered": DELIVERED, "given_up": GIVEN_UP}.get(attempt.outcome, PENDING)
    conn.execute(update(webhook_event).where(webhook_event.c.id == event.id).values(
        state=state, attempts=attempt.attempt_no, next_attempt_at=attempt.next_attempt_at,
        claimed_until=None,
        delivered_at=attempt.attempted_at if state == DELIVERED else None))


def cancel(conn: Connection, event_ids: Iterable[int]) -> int:
    """Events whose BU no longer has an active endpoint: not sent."""
    ids = list(event_ids)
    if not ids:
        return 0
    return conn.execute(update(webhook_event)
                        .where(webhook_event.c.id.in_(ids), webhook_event.c.state == PENDING)
                        .values(state=CANCELLED, next_attempt_at=None,
                                claimed_until=None)).rowcount


def cancel_pending_of(conn: Connection, business_unit_id: int) -> int:
    return conn.execute(update(webhook_event)
                        .where(webhook_event.c.business_unit_id == business_unit_id,
                               webhook_event.c.state == PENDING)
                        .values(state=CANCELLED, next_attempt_at=None,
                                claimed_until=None)).rowcount


def requeue(conn: Connection, event_id: int, now: datetime) -> None:
    """A redelivery asked for by the BU: a new round of attempts, the first one now."""
    conn.execute(update(webhook_event).where(webhook_event.c.id == event_id).values(
        state=PENDING, attempts=0, next_attempt_at=now, claimed_until=None,
        delivered_at=None))


def prune(conn: Connection, before: datetime) -> int:
    """Forget finished events (and their attempts) that occurred before `before`."""
    old = select(webhook_event.c.id).where(webhook_event.c.state != PENDING,
                                           webhook_event.c.occurred_at < before)
    conn.execute(delete(webhook_attempt).where(webhook_attempt.c.event_id.in_(old)))
    return conn.execute(delete(webhook_event).where(webhook_event.c.id.in_(old))).rowcount


# --- the delivery log --------------------------------------------------------------------------

def list_events(conn: Connection, business_unit_id: int, before_id: int | None,
                limit: int) -> list[Event]:
    """The BU's events, newest first, those with an id below `before_id` (the cursor)."""
    query = (select(*_EVENT_COLUMNS)
             .where(webhook_event.c.business_unit_id == business_unit_id)
             .order_by(webhook_event.c.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(webhook_event.c.id < before_id)
    return [_event(row) for row in conn.execute(query)]


def find_event(conn: Connection, business_unit_id: int, public_id: str) -> Event | None:
    row = conn.execute(select(*_EVENT_COLUMNS).where(
        webhook_event.c.business_unit_id == business_unit_id,
        webhook_event.c.public_id == public_id)).first()
    return _event(row) if row else None


def event_by_id(conn: Connection, event_id: int) -> Event | None:
    row = conn.execute(select(*_EVENT_COLUMNS).where(webhook_event.c.id == event_id)).first()
    return _event(row) if row else None


def attempts_of(conn: Connection, event_ids: Sequence[int]) -> dict[int, list[Attempt]]:
    """Every attempt of these events, oldest first."""
    found: dict[int, list[Attempt]] = {i: [] for i in event_ids}
    if not found:
        return found
    rows = conn.execute(
        select(webhook_attempt.c.event_id, webhook_attempt.c.attempt_no,
               webhook_attempt.c.attempted_at, webhook_attempt.c.url,
               webhook_attempt.c.http_status, webhook_attempt.c.error,
               webhook_attempt.c.duration_ms, webhook_attempt.c.outcome,
               webhook_attempt.c.next_attempt_at)
        .where(webhook_attempt.c.event_id.in_(list(found)))
        .order_by(webhook_attempt.c.id))
    for event_id, no, at, url, status, error, duration_ms, outcome, next_at in rows:
        found[event_id].append(Attempt(event_id, no, aware(at), url, status, error, duration_ms,
                                       outcome, aware(next_at)))
    return found
