"""Recording what the carrier said: accepted parts with their ids, and delivery receipts.

A receipt names a carrier id. Ids are opaque, case-sensitive strings, stored as the carrier gave
them: a receipt is matched to the part whose id is exactly its own, and only when none is, to the
one part whose folded id (upper case, no leading zeros, or the hex/decimal reading: see
carriers.base.receipt_id_candidates) is one of its readings; two parts behind one reading are
ambiguous and match neither. A receipt seen twice changes nothing the second time. A receipt that
arrives before its submit_sm_resp was recorded is held in `early_receipt` and applied the moment
the id is stored (or settles an `uncertain` text: store.unmatched_receipts).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ARRAY, Connection, String, any_, bindparam, delete, func, select

from proactive_sms.carriers.base import (
    DeliveryReceipt,
    ReceiptState,
    clean_message_id,
    normalize_message_id,
    receipt_id_candidates,
)
from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import messages
from proactive_sms.store.dialect import is_postgres
from proactive_sms.store.schema import early_receipt, message, message_part

log = logging.getLogger(__name__)

# What a final receipt state means for the message.
_FINAL = {
    ReceiptState.DELIVERED: MessageState.DELIVERED,
    ReceiptState.UNDELIVERABLE: MessageState.UNDELIVERABLE,
    ReceiptState.REJECTED: MessageState.UNDELIVERABLE,
    ReceiptState.DELETED: MessageState.UNDELIVERABLE,
    ReceiptState.UNKNOWN: MessageState.UNDELIVERABLE,
    ReceiptState.EXPIRED: MessageState.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: int
    carrier_ids: tuple[str, ...]
    connection_id: int | None = None  # the connection that carried it, kept with the text


@dataclass
class ReceiptOutcome:
    applied: int = 0
    duplicates: int = 0
    held: int = 0  # early: kept until the submit is recorded
    ignored: int = 0  # not final (enroute, accepted)
    # Matching nothing in a transaction that stores parts, left for the caller to hold in a
    # transaction of its own (apply_receipts' `unplaced`, hold_unplaced).
    unplaced: int = 0

    def add(self, other: ReceiptOutcome) -> None:
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.held += other.held
        self.ignored += other.ignored
        self.unplaced += other.unplaced


# A receipt with its connection and when it came (kept with it if held).
Came = tuple[DeliveryReceipt, int | None, datetime]


# Storing accepted ids and holding receipts that match nothing run in concurrent transactions.
# Under PostgreSQL's READ COMMITTED, a receipt could miss a part that is being inserted and be
# held as early, while the insert misses that uncommitted early receipt: held forever. One
# transaction-scoped advisory lock, in two modes, makes those two take turns (SQLite's BEGIN
# IMMEDIATE already does): a transaction that stores parts takes it shared, so the store batches
# of many workers never wait for one another; one about to hold receipts takes it exclusive and
# looks for their parts once more first: it waits for the parts being stored to commit, and
# parts stored after it wait for it to commit and then see its held receipts. Receipts that find
# their part take no lock. (Taken exclusive for every batch, the lock made the workers' store
# transactions run one at a time: 3 workers sent half what 1 did, docs/benchmarks.md.)
_RECEIPTS_LOCK_KEY = 0x7053_4D53  # "pSMS"
_SHARED, _EXCLUSIVE = "shared", "exclusive"
_TURN_TAKEN = "psms_receipts_turn"  # conn.info: (the transaction that holds the lock, its mode)
_LOCK_SQL = {_SHARED: "SELECT pg_advisory_xact_lock_shared(%s)",
             _EXCLUSIVE: "SELECT pg_advisory_xact_lock(%s)"}


def _turn_held(conn: Connection) -> str | None:
    """The mode this transaction holds the lock in, if any."""
    transaction = conn.get_transaction()
    taken = conn.info.get(_TURN_TAKEN)
    return taken[1] if taken is not None and taken[0] is transaction else None


def _take_turn(conn: Connection, mode: str) -> None:
    """Take the lock in `mode` until the transaction ends (once: one round trip is enough)."""
    if conn.dialect.name != "postgresql" or _turn_held(conn) in (mode, _EXCLUSIVE):
        return
    conn.exec_driver_sql(_LOCK_SQL[mode], (_RECEIPTS_LOCK_KEY,))
    conn.info[_TURN_TAKEN] = (conn.get_transaction(), mode)


def record_accepted(conn: Connection, accepted: Sequence[Accepted], now: datetime) -> int:
    """Mark texts `sent` and store their parts' carrier ids; apply any receipts held for them."""
    if not accepted:
        return 0
    _take_turn(conn, _SHARED)
    # One statement per connection (a batch holds the answers of a few lanes at most).
    by_connection: dict[int | None, list[int]] = {}
    for a in accepted:
        by_connection.setdefault(a.connection_id, []).append(a.message_id)
    moved = sum(messages.transition(conn, ids, MessageState.SENT, now, sent_at=now,
                                    connection_id=connection_id)
                for connection_id, ids in by_connection.items())
    parts = [
        {"message_id": a.message_id, "part_no": n, "carrier_message_id": cid,
         "carrier_id_folded": normalize_message_id(cid)}
        for a in accepted for n, cid in enumerate(a.carrier_ids, start=1)
    ]
    if parts:
        if is_postgres(conn):
            # One statement, its text the same for every batch (prepared), that also says
            # whether any receipt is held: one round trip for both.
            held = conn.exec_driver_sql(_INSERT_PARTS_POSTGRES, tuple(
                [p[name] for p in parts] for name in ("message_id", "part_no",
                                                      "carrier_message_id",
                                                      "carrier_id_folded"))).scalar()
        else:  # the driver's executemany: no per-row work in SQLAlchemy
            conn.exec_driver_sql(
                "INSERT INTO message_part (message_id, part_no, carrier_message_id, "
                "carrier_id_folded) VALUES (?, ?, ?, ?)",
                [(p["message_id"], p["part_no"], p["carrier_message_id"],
                  p["carrier_id_folded"]) for p in parts])
            held = True  # _apply_held looks (a query of no round trip here)
        if held:
            _apply_held(conn, [p["carrier_message_id"] for p in parts], now)
    return moved


def apply_receipts(conn: Connection, receipts: Iterable[DeliveryReceipt],
                   now: datetime, connection_id: int | None = None,
                   unplaced: list[Came] | None = None) -> ReceiptOutcome:
    """Apply a batch of receipts in a few statements, with the effect of applying them one by one
    in order: the first receipt of a part counts (later ones are duplicates), a long text is
    delivered once every part is, and a message takes the first final state it is given.

    `connection_id`: the connection they came on, kept with a receipt that matches nothing (it
    may settle an `uncertain` text of that connection later).

    `unplaced`: in a transaction that also stores parts (record_accepted), the receipts that
    match nothing are put there instead of held, and the caller holds them after this
    transaction, in one of its own (hold_unplaced): holding them here would mean waiting for
    every other worker's parts while holding up theirs. Without it they are held here all the
    same, the lock turned exclusive (two transactions doing that at once deadlock, and
    PostgreSQL fails one of them: nothing is half-written)."""
    return _apply(conn, [(receipt, connection_id, now) for receipt in receipts], now,
                  unplaced=unplaced)


def hold_unplaced(conn: Connection, unplaced: Sequence[Came], now: datetime) -> ReceiptOutcome:
    """The receipts apply_receipts left `unplaced`, in a transaction that stores no parts:
    looked for once more (their part may have been committed since) and held if still
    unmatched."""
    return _apply(conn, list(unplaced), now)


def _apply(conn: Connection, receipts: Iterable[Came], now: datetime,
           unplaced: list[Came] | None = None, held_before: bool = False) -> ReceiptOutcome:
    """apply_receipts, each receipt with its connection and when it came (kept if held).
    `held_before`: they were held already, and are held again as they were if they still
    match nothing (concurrent part writers saw them held all along: no lock needed)."""
    outcome = ReceiptOutcome()
    # (receipt, its connection and arrival, its id as given, every folded reading once the
    # exact one missed)
    final: list[tuple[DeliveryReceipt, tuple[int | None, datetime], str, tuple[str, ...]]] = []
    for receipt, connection_id, received_at in receipts:
        if receipt.state not in _FINAL:
            outcome.ignored += 1
        else:
            final.append((receipt, (connection_id, received_at),
                          clean_message_id(receipt.carrier_message_id), ()))
    if not final:
        return outcome
    # Most receipts give the id exactly as it was stored: look those up first, and the folded
    # readings only for receipts whose id matched nothing.
    exact_hits: dict[str, set[tuple[int, int]]] = {}
    parts_of: dict[int, list[int]] = {}
    receipt_states: dict[tuple[int, int], str | None] = {}
    # message id -> the connection that carried it: two SMSCs behind one code (failover) may
    # hand out the same ids, and a receipt is only ever for a text its own connection carried.
    carried_by: dict[int, int | None] = {}
    _parts_for(conn, _EXACT, list(dict.fromkeys(exact for *_, exact, _ in final if exact)),
               (exact_hits, parts_of, receipt_states, carried_by))
    for i, (receipt, came, exact, _) in enumerate(final):
        if exact and not _ours(exact_hits.get(exact, ()), came[0], carried_by):
            final[i] = (receipt, came, exact, receipt_id_candidates(exact))
    folded_hits: dict[str, set[tuple[int, int]]] = {}
    readings = dict.fromkeys(c for *_, candidates in final for c in candidates)
    if readings:
        _parts_for(conn, _FOLDED, list(readings),
                   (folded_hits, parts_of, receipt_states, carried_by))

    early: list[Came] = []
    part_updates: list[dict] = []
    outcomes: dict[int, tuple[MessageState, int | None]] = {}  # first final state per message
    for receipt, (connection_id, received_at), exact, candidates in final:
        part = (_pick(_ours(exact_hits.get(exact, ()), connection_id, carried_by),
                      receipt_states) if exact else None)
        if part is None:
            part = _by_reading(exact, candidates,
                               {reading: _ours(keys, connection_id, carried_by)
                                for reading, keys in folded_hits.items()}, receipt_states)
        if part is None:
            early.append((receipt, connection_id, received_at))
            continue
        if receipt_states[part] is not None:
            outcome.duplicates += 1
            continue
        receipt_states[part] = receipt.state.value
        part_updates.append({"b_message_id": part[0], "b_part_no": part[1],
                             "b_state": receipt.state.value, "b_error": receipt.error_code,
                             "b_at": now})
        outcome.applied += 1
        message_id = part[0]
        state = _FINAL[receipt.state]
        if state is MessageState.DELIVERED:
            # A long text is delivered when every part is.
            if any(receipt_states[(message_id, n)] != ReceiptState.DELIVERED.value
                   for n in parts_of[message_id]):
                continue
            outcomes.setdefault(message_id, (state, None))
        else:
            outcomes.setdefault(message_id, (state, receipt.error_code))

    if part_updates:
        if is_postgres(conn):  # one statement, its text the same for every batch (prepared)
            conn.exec_driver_sql(_UPDATE_PARTS_POSTGRES, (
                now, [u["b_message_id"] for u in part_updates],
                [u["b_part_no"] for u in part_updates], [u["b_state"] for u in part_updates],
                [u["b_error"] for u in part_updates]))
        else:  # the driver's executemany: no per-row work in SQLAlchemy
            at = _sqlite_datetime(conn, now)
            conn.exec_driver_sql(
                "UPDATE message_part SET receipt_state = ?, receipt_error = ?, receipt_at = ? "
                "WHERE message_id = ? AND part_no = ?",
                [(u["b_state"], u["b_error"], at, u["b_message_id"], u["b_part_no"])
                 for u in part_updates])
    # Final states are terminal, so the first one given to a message is the only one that can
    # take; the transition's guard (from sent or uncertain only) does the rest.
    groups: dict[tuple[MessageState, int | None], list[int]] = {}
    for message_id, key in outcomes.items():
        groups.setdefault(key, []).append(message_id)
    for (state, error_code), ids in groups.items():
        messages.transition(conn, ids, state, now, error_code=error_code)
    if early:
        _hold(conn, early, now, outcome, unplaced, held_before)
    return outcome


def _hold(conn: Connection, early: list[Came], now: datetime, outcome: ReceiptOutcome,
          unplaced: list[Came] | None, held_before: bool) -> None:
    """Hold receipts that matched nothing, under the lock's exclusive turn (see _take_turn):
    looked for once more when taking it, a part committed meanwhile is found."""
    turn = _turn_held(conn)
    if is_postgres(conn) and not held_before and turn != _EXCLUSIVE:
        if turn == _SHARED and unplaced is not None:
            unplaced.extend(early)
            outcome.unplaced += len(early)
            return
        _take_turn(conn, _EXCLUSIVE)
        outcome.add(_apply(conn, early, now))
        return
    conn.execute(early_receipt.insert(), [_held_row(*came) for came in early])
    outcome.held += len(early)


def _held_row(receipt: DeliveryReceipt, connection_id: int | None, received_at: datetime) -> dict:
    exact = clean_message_id(receipt.carrier_message_id)
    return {"carrier_message_id": exact, "carrier_id_folded": normalize_message_id(exact),
            "state": receipt.state.value, "error_code": receipt.error_code,
            "raw": receipt.raw, "received_at": received_at, "connection_id": connection_id,
            # no text of ours has a longer number (String(20))
            "recipient": receipt.recipient if 0 < len(receipt.recipient) <= 20 else None,
            "submitted_at": receipt.submitted_at, "done_at": receipt.done_at,
            "text_prefix": receipt.text_prefix[:40] or None}


# PostgreSQL: a batch's parts as columns of arrays, one statement whatever their number.
_INSERT_PARTS_POSTGRES = (
    "WITH parts AS (INSERT INTO message_part (message_id, part_no, carrier_message_id, "
    "carrier_id_folded) SELECT * FROM unnest(%s::bigint[], %s::integer[], %s::varchar[], "
    "%s::varchar[]) RETURNING 1) "
    "SELECT EXISTS (SELECT 1 FROM early_receipt) FROM (SELECT count(*) FROM parts) AS written"
)
_UPDATE_PARTS_POSTGRES = (
    "UPDATE message_part AS p SET receipt_state = u.state, receipt_error = u.error, "
    "receipt_at = %s FROM unnest(%s::bigint[], %s::integer[], %s::varchar[], %s::integer[]) "
    "AS u(message_id, part_no, state, error) "
    "WHERE p.message_id = u.message_id AND p.part_no = u.part_no"
)


def _ours(keys: Iterable[tuple[int, int]], connection_id: int | None,
          carried_by: dict[int, int | None]) -> set[tuple[int, int]]:
    """The parts a receipt that came on `connection_id` may be for: those of texts carried by
    that connection, or by one not recorded (texts stored before 0022, receipts of unknown
    origin)."""
    if connection_id is None:
        return set(keys)
    return {key for key in keys if carried_by.get(key[0]) in (None, connection_id)}


def _pick(keys: Iterable[tuple[int, int]],
          receipt_states: dict[tuple[int, int], str | None]) -> tuple[int, int] | None:
    """The part a receipt is for among those with its id: the only one, or the only one still
    waiting for its receipt (a carrier that recycles ids); the latest when all have theirs (a
    duplicate); None when several wait (not knowable which)."""
    keys = sorted(keys)
    if len(keys) <= 1:
        return keys[0] if keys else None
    waiting = [key for key in keys if receipt_states[key] is None]
    if not waiting:
        return keys[-1]
    return waiting[0] if len(waiting) == 1 else None


def _by_reading(exact: str, readings: tuple[str, ...],
                folded_hits: dict[str, set[tuple[int, int]]],
                receipt_states: dict[tuple[int, int], str | None]) -> tuple[int, int] | None:
    """The part behind the first reading that has any (readings are most literal first); None
    when that reading names several parts waiting for a receipt: which one the carrier meant
    is not knowable."""
    for reading in readings:
        keys = folded_hits.get(reading)
        if keys:
            part = _pick(keys, receipt_states)
            if part is None:
                log.warning("receipt id %r matches %d stored ids once folded (%r) and none "
                            "exactly: not applied", exact, len(keys), reading)
            return part
    return None


_EXACT, _FOLDED = "carrier_message_id", "carrier_id_folded"
_HIT = message_part.alias("hit")
# Every part of every message that has a part with one of these ids (built once per column:
# this runs for every batch of receipts). PostgreSQL only (SQLite has the driver-level text
# below): the ids as one array, so the text is the same for every batch and psycopg prepares it.
_PARTS_OF_HITS = {
    column: select(message_part.c.message_id, message_part.c.part_no,
                   message_part.c[column], message_part.c.receipt_state,
                   message.c.connection_id)
    .join(message, message.c.id == message_part.c.message_id)
    .where(message_part.c.message_id.in_(
        select(_HIT.c.message_id)
        .where(_HIT.c[column] == any_(bindparam("spellings", type_=ARRAY(String))))))
    for column in (_EXACT, _FOLDED)
}
_ANY_HELD = select(early_receipt.c.id).limit(1)


def _parts_for(conn: Connection, column: str, spellings: list[str],
               found: tuple[dict[str, set[tuple[int, int]]], dict[int, list[int]],
                            dict[tuple[int, int], str | None], dict[int, int | None]]) -> None:
    """Add every part of every message that has a part whose `column` is one of `spellings` to
    `found`: (id in that column -> the (message id, part no) that have it, message id -> its
    part numbers, (message id, part no) -> receipt state so far, message id -> the connection
    that carried it)."""
    hits, parts_of, receipt_states, carried_by = found
    sqlite = not is_postgres(conn)
    for start in range(0, len(spellings), 900):  # stay under SQLite's bound-parameter limit
        chunk = spellings[start:start + 900]
        if sqlite:
            rows = conn.exec_driver_sql(_PARTS_OF_HITS_SQLITE.format(
                column=column, marks=", ".join("?" * len(chunk))), tuple(chunk)).all()
        else:
            rows = conn.execute(_PARTS_OF_HITS[column], {"spellings": chunk}).all()
        for message_id, part_no, carrier_id, receipt_state, connection_id in rows:
            key = (message_id, part_no)
            carried_by[message_id] = connection_id
            hits.setdefault(carrier_id, set()).add(key)
            if key in receipt_states:
                continue
            receipt_states[key] = receipt_state
            parts_of.setdefault(message_id, []).append(part_no)


_PARTS_OF_HITS_SQLITE = (
    "SELECT p.message_id, p.part_no, p.{column}, p.receipt_state, m.connection_id "
    "FROM message_part p JOIN message m ON m.id = p.message_id "
    "WHERE p.message_id IN (SELECT message_id FROM message_part "
    "WHERE {column} IN ({marks}))"
)


def _sqlite_datetime(conn: Connection, moment: datetime) -> str:
    """`moment` as SQLAlchemy stores a DateTime on SQLite (its own bind processor says)."""
    column_type = message_part.c.receipt_at.type.dialect_impl(conn.dialect)
    return column_type.bind_processor(conn.dialect)(moment)


def _apply_held(conn: Connection, carrier_ids: list[str], now: datetime) -> None:
    # Nearly always none are held: one cheap look saves matching every reading of every id.
    if conn.scalar(_ANY_HELD) is None:
        return
    readings = list({c for cid in carrier_ids for c in receipt_id_candidates(cid)})
    held = []
    for column, values in ((early_receipt.c.carrier_message_id, carrier_ids),
                           (early_receipt.c.carrier_id_folded, readings)):
        for start in range(0, len(values), 900):
            held += conn.execute(select(early_receipt).where(
                column.in_(values[start:start + 900]))).all()
    if not held:
        return
    held = sorted({h.id: h for h in held}.values(), key=lambda h: h.id)  # in the order they came
    conn.execute(delete(early_receipt).where(early_receipt.c.id.in_([h.id for h in held])))
    # One that still matches nothing (another id of the same reading) is held again as it was.
    _apply(conn, [(held_receipt(h), h.connection_id, h.received_at) for h in held], now,
           held_before=True)


def held_receipt(row) -> DeliveryReceipt:
    """The DeliveryReceipt an early_receipt row holds."""
    return DeliveryReceipt(row.carrier_message_id, ReceiptState(row.state), row.error_code,
                           raw=row.raw, recipient=row.recipient or "",
                           done_at=row.done_at, submitted_at=row.submitted_at,
                           text_prefix=row.text_prefix or "")


def pending_early_receipts(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(early_receipt)) or 0
