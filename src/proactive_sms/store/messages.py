"""Messages: the decisions of a launch, their lifecycle changes, and counts for reports."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ClauseElement, Connection, bindparam, func, or_, select, update

from proactive_sms.domain.message_states import MessageState, allowed_sources
from proactive_sms.domain.prices import PriceList
from proactive_sms.store import paging, pg_copy, skill_counters, webhook_events
from proactive_sms.store.dialect import is_postgres
from proactive_sms.store.schema import message, message_part, skill, sms_registration


class Decision(NamedTuple):
    """What launch decided for one record: a pending text, or a skip with its reason.

    A named tuple rather than a dataclass: launch makes one per record, a million for a large
    list, and a tuple is the cheapest immutable object Python builds.
    """

    record_id: int
    state: MessageState
    destination: str | None
    body: str | None = None
    encoding: str | None = None
    segments: int = 0
    skip_reason: str | None = None
    detail: str | None = None


# SQLite's bulk path: one prepared statement run by the driver for every row (see
# insert_decisions). Same columns and conflict rule as the SQLAlchemy statement below.
_INSERT_DECISIONS_SQLITE = (
    "INSERT INTO message (skill_id, record_id, destination, body, encoding, segments, state, "
    "skip_reason, detail, attempts, created_at, cost_micros) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
    "ON CONFLICT (skill_id, record_id, cadence_step, step_attempt) DO NOTHING"
)


_STATE_VALUES = {state: state.value for state in MessageState}  # .value is a slow property


def insert_decisions(conn: Connection, skill_id: int, decisions: Sequence[Decision],
                     now: datetime, prices: PriceList | None = None) -> int:
    """Store decisions; a record already decided keeps its first decision (invariant 1).

    `prices`: the code's prices, which fix each pending text's cost (None: not priced).

    Returns how many were really inserted. On SQLite the rows go straight to the driver's
    executemany, whose rowcount is exactly the rows inserted (a conflict changes none), and which
    skips SQLAlchemy's per-row parameter processing, most of the cost of a large launch. On
    PostgreSQL they are copied (store.pg_copy) and counted by one INSERT .. SELECT.
    """
    if not decisions:
        return 0
    costs = _costs(decisions, prices)
    if not is_postgres(conn):
        created = _sqlite_datetime(conn, now)
        rows = [
            (skill_id, d.record_id, d.destination, d.body, d.encoding, d.segments,
             _STATE_VALUES[d.state], d.skip_reason, d.detail, created, cost)
            for d, cost in zip(decisions, costs, strict=True)
        ]
        # Counted here, once per batch (SQLite has no per-row insert trigger: see
        # store.skill_counters.writers_count_inserts). BEGIN IMMEDIATE holds the write lock for
        # the whole transaction, so what was decided before cannot change meanwhile.
        conn.exec_driver_sql("SAVEPOINT psms_decisions")
        inserted = conn.exec_driver_sql(_INSERT_DECISIONS_SQLITE, rows).rowcount
        if inserted != len(rows):  # a resumed launch met records decided before its crash
            conn.exec_driver_sql("ROLLBACK TO psms_decisions")
            decisions = _not_decided(conn, skill_id, decisions)
            fresh = {d.record_id for d in decisions}
            rows = [row for row in rows if row[1] in fresh]
            inserted = (conn.exec_driver_sql(_INSERT_DECISIONS_SQLITE, rows).rowcount
                        if rows else 0)
        conn.exec_driver_sql("RELEASE psms_decisions")
        skill_counters.add(conn, skill_id, _decision_counts(decisions))
        return inserted
    # PostgreSQL: COPY into a staging table, then one INSERT .. SELECT (store.pg_copy); its
    # counters are kept by the table's triggers.
    return pg_copy.insert_decisions(conn, [
        (skill_id, d.record_id, d.destination, d.body, d.encoding, d.segments,
         _STATE_VALUES[d.state], d.skip_reason, d.detail, 0, now, cost)
        for d, cost in zip(decisions, costs, strict=True)
    ])


def _costs(decisions: Sequence[Decision], prices: PriceList | None) -> list[int | None]:
    """Each decision's cost: a pending text's segments at its destination's price; None for a
    skip, or when the code has no price for it."""
    if prices is None:
        return [None] * len(decisions)
    if prices.uniform:  # the usual case: one multiplication a text
        price = prices.default_micros
        if price is None:
            return [None] * len(decisions)
        return [d.segments * price if d.state is _PENDING else None for d in decisions]
    return [prices.cost(d.destination, d.segments) if d.state is _PENDING else None
            for d in decisions]


_PENDING = MessageState.PENDING


def _not_decided(conn: Connection, skill_id: int,
                 decisions: Sequence[Decision]) -> list[Decision]:
    """The decisions whose record the skill has no (agentless) text for yet, each record once
    (the first decision of a record wins, as ON CONFLICT DO NOTHING keeps the first)."""
    wanted = list(dict.fromkeys(d.record_id for d in decisions))
    decided: set[int] = set()
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        decided.update(row[0] for row in conn.exec_driver_sql(
            "SELECT record_id FROM message WHERE skill_id = ? AND cadence_step = 0 "
            f"AND step_attempt = 0 AND record_id IN ({', '.join('?' * len(chunk))})",
            (skill_id, *chunk)))
    fresh, seen = [], set()
    for d in decisions:
        if d.record_id not in decided and d.record_id not in seen:
            seen.add(d.record_id)
            fresh.append(d)
    return fresh


def _decision_counts(decisions: Sequence[Decision]) -> dict[tuple[str, str], list[int]]:
    """(state, skip reason or '') -> [texts, segments] of decisions (none of them held, so a
    pending one counts as pending)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for d in decisions:
        key = (_STATE_VALUES[d.state], d.skip_reason or "")
        found = counts.get(key)
        if found is None:
            counts[key] = [1, d.segments]
        else:
            found[0] += 1
            found[1] += d.segments
    return counts


def _sqlite_datetime(conn: Connection, moment: datetime) -> str:
    """`moment` as SQLAlchemy stores a DateTime on SQLite (its own bind processor says)."""
    column_type = message.c.created_at.type.dialect_impl(conn.dialect)
    return column_type.bind_processor(conn.dialect)(moment)


def destination_key(destination: str) -> int | str:
    """A compact, exact key for a destination, for sets of a million numbers.

    An E.164 number is "+" and at most 15 digits, the first never 0, so the digits read as one
    integer identify it (a small int takes half the memory of the string). Anything else is kept
    as it is; an int and a str never compare equal, so keys of both kinds can share a set.
    """
    digits = destination[1:]
    if destination[:1] == "+" and digits.isdigit() and digits.isascii() and digits[0] != "0":
        return int(digits)
    return destination


def live_destinations(conn: Connection, skill_id: int) -> set[int | str]:
    """Keys (`destination_key`) of the numbers the skill already has a text for.

    For skipping duplicates when a launch resumes; streamed, so no list of every number is built.
    """
    result = conn.execute(select(message.c.destination).where(
        message.c.skill_id == skill_id, message.c.state != MessageState.SKIPPED.value,
        message.c.destination.is_not(None),
    ).execution_options(yield_per=10_000))
    return {destination_key(d) for d in result.scalars()}


def count_decided(conn: Connection, skill_id: int) -> int:
    return conn.scalar(select(func.count()).select_from(message)
                       .where(message.c.skill_id == skill_id)) or 0


def transition(conn: Connection, message_ids: Iterable[int], new: MessageState,
               now: datetime, **values) -> int:
    """Move messages to `new` where the move is allowed; returns how many moved."""
    ids = list(message_ids)
    if not ids:
        return 0
    if new in (MessageState.DELIVERED, MessageState.UNDELIVERABLE, MessageState.EXPIRED,
               MessageState.FAILED, MessageState.SKIPPED, MessageState.CANCELLED):
        values.setdefault("finished_at", now)
    # message.status webhook events, in this transaction (None when no BU has a webhook).
    moving = webhook_events.moving_messages(conn, ids, new)
    moved = _transition(conn, ids, new, values)
    if moving:
        webhook_events.messages_moved(conn, moving, new, now, values)
    return moved


def set_connection(conn: Connection, message_ids: Sequence[int], connection_id: int) -> int:
    """Record the connection claimed texts go through (a code with several: failover), before
    their PDUs leave, so that a text left `submitting` by a crash stays with it too."""
    moved = 0
    ids = list(message_ids)
    for start in range(0, len(ids), 900):
        moved += conn.execute(update(message).where(
            message.c.id.in_(ids[start:start + 900]),
            message.c.state == MessageState.SUBMITTING.value)
            .values(connection_id=connection_id)).rowcount
    return moved


def _transition(conn: Connection, ids: list[int], new: MessageState, values: dict) -> int:
    if any(isinstance(v, ClauseElement) for v in values.values()):
        statement = _transition_statement(new, values)
        return sum(conn.execute(statement, {"t_ids": ids[start:start + 900]}).rowcount
                   for start in range(0, len(ids), 900))
    if is_postgres(conn):
        return _transition_postgres(conn, ids, new, values)
    return _transition_sqlite(conn, ids, new, values)


def _transition_sqlite(conn: Connection, ids: list[int], new: MessageState,
                       values: dict) -> int:
    """transition() straight through the driver: the same UPDATE, without SQLAlchemy's
    per-statement and per-value work (most of the cost when the dispatcher moves thousands of
    texts a second). Values are converted by their columns' own bind processors."""
    names = tuple(values)
    sql_head, sources = _transition_sqlite_sql(new, names)
    converted = [_driver_value(conn, name, values[name]) for name in names]
    moved = 0
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        sql = f"{sql_head} WHERE id IN ({', '.join('?' * len(chunk))}) AND state IN ({sources})"
        moved += conn.exec_driver_sql(
            sql, (new.value, *converted, *chunk, *(s.value for s in allowed_sources(new)))
        ).rowcount
    return moved


def _transition_postgres(conn: Connection, ids: list[int], new: MessageState,
                         values: dict) -> int:
    """transition() straight through psycopg: the ids as one array parameter, so the text of the
    statement is the same whatever their number and psycopg prepares it on the server after a
    few runs (no planning per batch); no SQLAlchemy compiling of an expanding IN per batch."""
    names = tuple(values)
    sql = _transition_postgres_sql(new, names)
    converted = [_driver_value(conn, name, values[name]) for name in names]
    return conn.exec_driver_sql(sql, (new.value, *converted, ids, _SOURCES[new])).rowcount


@functools.cache
def _transition_postgres_sql(new: MessageState, names: tuple[str, ...]) -> str:
    for name in names:
        if name not in message.c:
            raise ValueError(f"message has no column {name!r}")
    assignments = ", ".join(["state = %s", *(f"{name} = %s" for name in names)])
    return (f"UPDATE message SET {assignments} "
            "WHERE id = ANY(%s::bigint[]) AND state = ANY(%s::varchar[])")


_SOURCES = {state: sorted(s.value for s in allowed_sources(state)) for state in MessageState}


@functools.cache
def _transition_sqlite_sql(new: MessageState, names: tuple[str, ...]) -> tuple[str, str]:
    for name in names:
        if name not in message.c:
            raise ValueError(f"message has no column {name!r}")
    assignments = ", ".join(["state = ?", *(f"{name} = ?" for name in names)])
    return f"UPDATE message SET {assignments}", ", ".join("?" * len(allowed_sources(new)))


def _driver_value(conn: Connection, name: str, value):
    if value is None:
        return None
    key = (conn.dialect.name, name)
    if key not in _BIND_PROCESSORS:
        dialect = conn.dialect
        _BIND_PROCESSORS[key] = message.c[name].type.dialect_impl(dialect).bind_processor(
            dialect)
    process = _BIND_PROCESSORS[key]
    return process(value) if process is not None else value


_BIND_PROCESSORS: dict[tuple[str, str], object] = {}


def _transition_statement(new: MessageState, values: dict):
    sources = [s.value for s in allowed_sources(new)]
    return (update(message)
            .where(message.c.id.in_(bindparam("t_ids", expanding=True)),
                   message.c.state.in_(sources))
            .values(state=new.value, **values))


def cancel_pending(conn: Connection, skill_id: int, now: datetime) -> int:
    return conn.execute(
        update(message)
        .where(message.c.skill_id == skill_id, message.c.state == MessageState.PENDING.value)
        .values(state=MessageState.CANCELLED.value, finished_at=now)
    ).rowcount


def requeue_uncertain(conn: Connection, skill_id: int) -> int:
    """A person's explicit decision to send the `uncertain` messages of a skill again."""
    return conn.execute(
        update(message)
        .where(message.c.skill_id == skill_id, message.c.state == MessageState.UNCERTAIN.value)
        .values(state=MessageState.PENDING.value, next_attempt_at=None,
                detail="re-sent by explicit decision after an uncertain submit")
    ).rowcount


# --- the API's views of a BU's messages -----------------------------------------------------

@dataclass(frozen=True)
class StoredMessage:
    """One message row as stored (every column of `message`)."""

    id: int
    skill_id: int | None
    record_id: int | None
    kind: str
    registration_id: int | None
    priority: int
    conversation_id: int | None
    destination: str | None
    body: str | None
    encoding: str | None
    segments: int
    state: str
    skip_reason: str | None
    error_code: int | None
    detail: str | None
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    submitted_at: datetime | None
    sent_at: datetime | None
    finished_at: datetime | None
    cadence_step: int = 0  # an agent skill's SMS step (0: an agentless or system text)
    step_attempt: int = 0  # ... and that step's attempt
    connection_id: int | None = None  # the connection that carried it (accepted or uncertain)
    cost_micros: int | None = None  # what it costs, fixed when decided (None: not priced)


def _stored(row) -> StoredMessage:
    return StoredMessage(**row._mapping)


def _of_bu(business_unit_id: int):
    """A message of the BU: a text of one of its skills, or a system text (confirmation, help
    answer, agent reply) leaving from one of its codes."""
    return or_(
        message.c.skill_id.in_(select(skill.c.id).where(
            skill.c.business_unit_id == business_unit_id)),
        message.c.registration_id.in_(select(sms_registration.c.id).where(
            sms_registration.c.business_unit_id == business_unit_id)))


def page(conn: Connection, business_unit_id: int, after_id: int, limit: int, *,
         skill_id: int | None = None, state: MessageState | None = None,
         destination: str | None = None) -> paging.Page[StoredMessage]:
    """The BU's messages after an id, in id order, filtered by skill, state and number."""
    query = select(message).where(_of_bu(business_unit_id))
    if skill_id is not None:
        query = query.where(message.c.skill_id == skill_id)
    if state is not None:
        query = query.where(message.c.state == state.value)
    if destination is not None:
        query = query.where(message.c.destination == destination)
    return paging.fetch(conn, query, message.c.id, after_id, limit, _stored)


def find_in_bu(conn: Connection, business_unit_id: int,
               message_id: int) -> StoredMessage | None:
    """The message, or None when there is none of that id in the BU."""
    row = conn.execute(select(message).where(message.c.id == message_id,
                                             _of_bu(business_unit_id))).first()
    return _stored(row) if row else None


@dataclass(frozen=True)
class StoredPart:
    part_no: int
    carrier_message_id: str
    receipt_state: str | None
    receipt_error: int | None
    receipt_at: datetime | None


def parts(conn: Connection, message_id: int) -> list[StoredPart]:
    """The message's parts as the carrier accepted them, with their receipts."""
    rows = conn.execute(select(message_part).where(message_part.c.message_id == message_id)
                        .order_by(message_part.c.part_no))
    return [StoredPart(r.part_no, r.carrier_message_id, r.receipt_state, r.receipt_error,
                       r.receipt_at) for r in rows]
