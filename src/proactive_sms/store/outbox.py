"""The dispatcher's queries: reading pending texts, claiming them, recording what happened.

Claiming is one transaction that checks the DNC list at that moment and moves the texts from
`pending` to `submitting`; only texts of dispatched skills move: running ones, and launching
ones (the batches a launch has committed go out while it decides the rest). Nothing is ever
moved out of `submitting` except by recording the carrier's answer, or by start-up recovery
to `uncertain`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    DateTime,
    String,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)

from proactive_sms.domain.message_states import (
    DNC_EXEMPT_KINDS,
    MessageKind,
    MessageState,
    SkipReason,
)
from proactive_sms.domain.send_timing import SendDecision, Verdict
from proactive_sms.store import (
    leases,
    message_waits,
    messages,
    review_holds,
    webhook_events,
)
from proactive_sms.store.dialect import is_postgres
from proactive_sms.store.leases import LeaseHolder
from proactive_sms.store.schema import (
    calling_record,
    dnc_entry,
    inbound_message,
    message,
    skill,
    transport_lease,
)

# The statuses whose pending texts are sent: a launching skill's committed batches go out while
# the launch decides the rest (the first text leaves in about a second whatever the list's size).
DISPATCHED = ("running", "launching")
_DISPATCHED_SQL = ", ".join(f"'{status}'" for status in DISPATCHED)
_EXEMPT = frozenset(kind.value for kind in DNC_EXEMPT_KINDS)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    skill_id: int | None  # None: a system text (confirmation, help answer, agent reply)
    destination: str
    body: str
    encoding: str
    segments: int
    attempts: int
    kind: str = MessageKind.SKILL.value
    # What decides the recipient's calling window (from the calling-list record).
    time_zone: str | None = None
    postal_code: str | None = None
    expiration_date: date | None = None


_FETCH_PENDING = (
    select(message.c.id, message.c.skill_id, message.c.destination, message.c.body,
           message.c.encoding, message.c.segments, message.c.attempts, message.c.kind,
           calling_record.c.time_zone, calling_record.c.postal_code,
           calling_record.c.expiration_date)
    .join(skill, skill.c.id == message.c.skill_id)
    .join(calling_record, calling_record.c.id == message.c.record_id)
    .where(
        skill.c.registration_id == bindparam("registration_id"),
        skill.c.status.in_(DISPATCHED),
        message.c.state == MessageState.PENDING.value,
        message.c.id > bindparam("after_id"),
        or_(message.c.next_attempt_at.is_(None), message.c.next_attempt_at <= bindparam("now")),
    )
    .order_by(message.c.id)
    .limit(bindparam("limit"))
)


def fetch_pending(conn: Connection, registration_id: int, after_id: int, limit: int,
                  now: datetime, except_skill_ids: Sequence[int] = ()) -> list[OutboxItem]:
    """Pending texts of the code's dispatched skills (DISPATCHED), due now, in id order after
    a cursor (none of `except_skill_ids`: skills whose texts wait for their agents)."""
    if not is_postgres(conn):  # straight through the driver: every lane reads all its texts
        return _fetch_pending_sqlite(conn, registration_id, after_id, limit, now,
                                     except_skill_ids)
    query = _FETCH_PENDING
    if except_skill_ids:
        query = query.where(message.c.skill_id.not_in(list(except_skill_ids)))
    rows = conn.execute(query, {"registration_id": registration_id,
                                         "after_id": after_id, "now": now, "limit": limit})
    return [OutboxItem(*row) for row in rows]


_FETCH_PENDING_SQLITE = (
    "SELECT m.id, m.skill_id, m.destination, m.body, m.encoding, m.segments, m.attempts, "
    "m.kind, r.time_zone, r.postal_code, r.expiration_date "
    "FROM message m JOIN skill s ON s.id = m.skill_id "
    "JOIN calling_record r ON r.id = m.record_id "
    f"WHERE s.registration_id = ? AND s.status IN ({_DISPATCHED_SQL}) "
    f"AND m.state = '{MessageState.PENDING.value}' AND m.id > ? "
    "AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= ?){} "
    "ORDER BY m.id LIMIT ?"
)


def _fetch_pending_sqlite(conn: Connection, registration_id: int, after_id: int, limit: int,
                          now: datetime, except_skill_ids: Sequence[int]) -> list[OutboxItem]:
    """fetch_pending's query as SQL text: the rows' values need no conversion but the date."""
    skipped = list(except_skill_ids)
    sql = _FETCH_PENDING_SQLITE.format(
        f" AND m.skill_id NOT IN ({', '.join('?' * len(skipped))})" if skipped else "")
    as_date = calling_record.c.expiration_date.type.dialect_impl(conn.dialect).result_processor(
        conn.dialect, None)
    rows = conn.exec_driver_sql(sql, (registration_id, after_id, _sqlite_datetime(conn, now),
                                      *skipped, limit))
    return [OutboxItem(*row[:10], as_date(row[10]) if row[10] is not None else None)
            for row in rows]


_FETCH_SYSTEM = (
    select(message.c.id, message.c.skill_id, message.c.destination, message.c.body,
           message.c.encoding, message.c.segments, message.c.attempts, message.c.kind)
    .where(
        message.c.registration_id == bindparam("registration_id"),
        message.c.skill_id.is_(None),
        message.c.state == MessageState.PENDING.value,
        or_(message.c.next_attempt_at.is_(None), message.c.next_attempt_at <= bindparam("now")),
    )
    .order_by(message.c.id)
    .limit(bindparam("limit"))
)


def fetch_system_pending(conn: Connection, registration_id: int, limit: int,
                         now: datetime) -> list[OutboxItem]:
    """Pending system texts of the code (confirmations, help answers, agent replies): few, and
    they go before bulk texts."""
    rows = conn.execute(_FETCH_SYSTEM, {"registration_id": registration_id, "now": now,
                                        "limit": limit})
    return [OutboxItem(*row) for row in rows]


_FETCH_SYSTEM_BY_CODE = (
    select(message.c.registration_id, message.c.id, message.c.skill_id, message.c.destination,
           message.c.body, message.c.encoding, message.c.segments, message.c.attempts,
           message.c.kind)
    .where(
        message.c.registration_id.in_(bindparam("registration_ids", expanding=True)),
        message.c.skill_id.is_(None),
        message.c.state == MessageState.PENDING.value,
        or_(message.c.next_attempt_at.is_(None), message.c.next_attempt_at <= bindparam("now")),
    )
    .order_by(message.c.id)
)


def fetch_system_pending_by_code(conn: Connection, registration_ids: Sequence[int], limit: int,
                                 now: datetime) -> dict[int, list[OutboxItem]]:
    """fetch_system_pending for many codes in one query (at most `limit` texts per code)."""
    found: dict[int, list[OutboxItem]] = {r: [] for r in registration_ids}
    if not found:
        return found
    for registration_id, *row in conn.execute(
            _FETCH_SYSTEM_BY_CODE, {"registration_ids": list(found), "now": now}):
        items = found[registration_id]
        if len(items) < limit:
            items.append(OutboxItem(*row))
    return found


@dataclass(frozen=True)
class Claim:
    claimed: set[int]  # now `submitting`: send them
    dnc: set[int]  # skipped: the number went on the DNC list after launch
    gone: set[int]  # no longer pending, or the skill is not running: drop them
    # Not now: outside the calling window or over the frequency cap (pending, due later), or
    # ended (expired, or skipped without a time zone).
    later: set[int] = field(default_factory=set)
    # For claimed texts: the moment after which the carrier must not deliver them.
    validity: dict[int, datetime] = field(default_factory=dict)


# Decides for one text at the moment of claiming; given when the recipient was texted in the
# last 24 hours. Returns a domain.send_timing.SendDecision.
Timing = Callable[[OutboxItem, list[datetime]], SendDecision]


# Built once: a claim runs for every group of texts. _CLAIM and _CLAIM_LEASED run on PostgreSQL
# only (SQLite has driver-level texts below), with the ids as one array: the statement's text is
# the same whatever their number, so SQLAlchemy compiles it once and psycopg prepares it.
_ANY_ID = message.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))
_DNC_SKIP = {"skip_reason": SkipReason.DNC.value,
             "detail": "on the DNC list at the moment of sending"}
_SKIP_DNC = (
    update(message)
    .where(message.c.id.in_(bindparam("ids", expanding=True)),
           message.c.state == MessageState.PENDING.value)
    .values(state=MessageState.SKIPPED.value, finished_at=bindparam("now"), **_DNC_SKIP)
    .returning(message.c.id)
)
_CLAIM = (
    update(message)
    .where(_ANY_ID,
           message.c.state == MessageState.PENDING.value,
           or_(message.c.skill_id.is_(None),
               message.c.skill_id.in_(select(skill.c.id).where(skill.c.status.in_(DISPATCHED)))))
    .values(state=MessageState.SUBMITTING.value, submitted_at=bindparam("now"),
            attempts=message.c.attempts + 1)
    .returning(message.c.id)
)


_HELD_CODES = (select(transport_lease.c.registration_id)
               .where(transport_lease.c.worker_id == bindparam("l_worker"),
                      transport_lease.c.process_token == bindparam("l_token")))
_CLAIM_LEASED = (
    update(message)
    .where(_ANY_ID,
           message.c.state == MessageState.PENDING.value,
           or_(and_(message.c.skill_id.is_(None), message.c.registration_id.in_(_HELD_CODES)),
               message.c.skill_id.in_(select(skill.c.id).where(
                   skill.c.status.in_(DISPATCHED), skill.c.registration_id.in_(_HELD_CODES)))))
    .values(state=MessageState.SUBMITTING.value, submitted_at=bindparam("now"),
            attempts=message.c.attempts + 1)
    .returning(message.c.id)
)


def claim(conn: Connection, items: Sequence[OutboxItem], dnc_list_id: int,
          now: datetime, timing: Timing | None = None,
          lease: LeaseHolder | None = None) -> Claim:
    """Move pending texts of dispatched skills (DISPATCHED) to `submitting`, skipping those
    whose number is on the DNC list now. Several lanes' groups may be claimed at once (same DNC
    list).

    With `lease`, only texts of codes that holder still leases move (the others are `gone`): a
    process whose lease was taken over cannot claim, even before it notices."""
    ids = [i.id for i in items]
    # A confirmation or help answer goes to a number that asked for it, DNC or not.
    checked = [i for i in items if i.kind not in _EXEMPT]
    looked_up = (_look_up_postgres(conn, dnc_list_id, [i.destination for i in checked],
                                   [i.destination for i in items if i.skill_id is not None],
                                   now, timing is not None)
                 if is_postgres(conn) else None)
    on_dnc = (looked_up.on_dnc if looked_up is not None
              else _numbers_on_list(conn, dnc_list_id, [i.destination for i in checked]))
    dnc_ids = [i.id for i in checked if i.destination in on_dnc]
    skipped: set[int] = set()
    if dnc_ids:
        # a message.status event for each (None, at once, when no BU has a webhook)
        moving = webhook_events.moving_messages(conn, dnc_ids, MessageState.SKIPPED)
        skipped = set(conn.scalars(_SKIP_DNC, {"ids": dnc_ids, "now": now}))
        if moving:
            webhook_events.messages_moved(conn, moving, MessageState.SKIPPED, now, _DNC_SKIP)
    dnc_set = set(dnc_ids)
    # A possible opt-out awaiting review holds the texts to its number (pending, due later).
    under_review = (looked_up.under_review if looked_up is not None
                    else review_holds.numbers_under_review(
                        conn, dnc_list_id, [i.destination for i in checked
                                            if i.id not in dnc_set]))
    held = {i.id for i in checked if i.id not in dnc_set and i.destination in under_review}
    review_holds.hold(conn, list(held), now)
    later: set[int] = set(held)
    validity: dict[int, datetime] = {}
    if timing is not None:
        waiting, validity = _apply_timing(
            conn, [i for i in items if i.id not in dnc_set and i.id not in held], timing, now,
            looked_up.recent if looked_up is not None else None)
        later |= waiting
    send_ids = [i for i in ids if i not in dnc_set and i not in later]
    claimed: set[int] = set()
    sqlite_now = None if is_postgres(conn) else _sqlite_datetime(conn, now)
    holder: dict[str, str] = {}
    if lease is not None:
        holder = {"l_worker": lease.worker_id, "l_token": lease.process_token}
    for start in range(0, len(send_ids), 900):
        chunk = send_ids[start:start + 900]
        if sqlite_now is None:
            claimed.update(conn.scalars(_CLAIM if lease is None else _CLAIM_LEASED,
                                        {"ids": chunk, "now": now, **holder}))
        else:  # the same UPDATE straight through the driver (it runs for every group)
            sql = _CLAIM_SQLITE if lease is None else _CLAIM_LEASED_SQLITE
            claimed.update(row[0] for row in conn.exec_driver_sql(
                sql.format(", ".join("?" * len(chunk))),
                (sqlite_now, *chunk, *(tuple(holder.values()) * 2))))
    return Claim(claimed, skipped, set(ids) - claimed - skipped - later, later,
                 {k: v for k, v in validity.items() if k in claimed})


_COUNTED = [s.value for s in (MessageState.SUBMITTING, MessageState.SENT, MessageState.DELIVERED,
                              MessageState.UNDELIVERABLE, MessageState.UNCERTAIN)]


def recent_sends(conn: Connection, destinations: Sequence[str],
                 now: datetime) -> dict[str, list[datetime]]:
    """When each number was texted by a skill in the last 24 hours (for frequency caps),
    counting texts still being submitted."""
    found: dict[str, list[datetime]] = {}
    wanted = list(dict.fromkeys(destinations))
    since = now - timedelta(hours=24)
    sqlite = not is_postgres(conn)
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        if sqlite:  # the same query straight through the driver: it runs for every claim
            rows = conn.exec_driver_sql(
                _RECENT_SENDS_SQLITE.format(", ".join("?" * len(chunk))),
                (*chunk, _sqlite_datetime(conn, since), *_COUNTED, MessageKind.SKILL.value))
            rows = [(destination, _sqlite_parse(conn, sent)) for destination, sent in rows]
        else:
            rows = conn.execute(_RECENT_SENDS, {"destinations": chunk, "since": since})
        for destination, submitted_at in rows:
            found.setdefault(destination, []).append(_aware(submitted_at))
    return found


_RECENT_SENDS = select(message.c.destination, message.c.submitted_at).where(
    message.c.destination == any_(bindparam("destinations", type_=ARRAY(String))),
    message.c.submitted_at >= bindparam("since"),
    message.c.state.in_(_COUNTED),
    message.c.kind == MessageKind.SKILL.value)
_RECENT_SENDS_SQLITE = (
    "SELECT destination, submitted_at FROM message WHERE destination IN ({}) "
    f"AND submitted_at >= ? AND state IN ({', '.join('?' * len(_COUNTED))}) AND kind = ?"
)


def _sqlite_parse(conn: Connection, stored: str | None) -> datetime | None:
    """A DateTime as SQLAlchemy reads it back from SQLite (its own result processor)."""
    column_type = message.c.submitted_at.type.dialect_impl(conn.dialect)
    return column_type.result_processor(conn.dialect, None)(stored)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive UTC


def _apply_timing(conn: Connection, items: Sequence[OutboxItem], timing: Timing,
                  now: datetime, recent: dict[str, list[datetime]] | None = None,
                  ) -> tuple[set[int], dict[int, datetime]]:
    """Texts that may not go now: wait (due again later), expire, or skip without a zone.
    `recent`: recent_sends of (at least) their numbers, when already looked up."""
    skill_items = [i for i in items if i.skill_id is not None]
    if recent is None:
        recent = (recent_sends(conn, [i.destination for i in skill_items], now)
                  if skill_items else {})
    else:
        recent = {k: list(v) for k, v in recent.items()}  # appended to below
    later: set[int] = set()
    validity: dict[int, datetime] = {}
    waits: list[message_waits.Wait] = []  # each a wait that begins now (see message_waits)
    for item in skill_items:
        decision = timing(item, recent.get(item.destination, []))
        if decision.verdict is Verdict.SEND:
            if decision.validity_until is not None:
                validity[item.id] = decision.validity_until
            recent.setdefault(item.destination, []).append(now)  # counts for the next ones
            continue
        later.add(item.id)
        pending = (message.c.id == item.id) & (message.c.state == MessageState.PENDING.value)
        if decision.verdict is Verdict.WAIT:
            values = {"next_attempt_at": decision.until, "detail": f"waiting: {decision.reason}"}
        elif decision.verdict is Verdict.EXPIRE:  # a final state: through transition() for
            # its message.status webhook event
            messages.transition(conn, [item.id], MessageState.EXPIRED, now,
                                detail=decision.reason)
            continue
        else:  # through transition() too, for its event
            messages.transition(conn, [item.id], MessageState.SKIPPED, now,
                                skip_reason=SkipReason.NO_TIME_ZONE.value,
                                detail=decision.reason)
            continue
        # A wait already written (the same text decided twice before the first claim was
        # committed: PostgreSQL lets two claims see it due) is neither written nor kept again.
        fresh = or_(message.c.next_attempt_at.is_(None),
                    message.c.next_attempt_at != decision.until)
        if conn.execute(update(message).where(pending, fresh).values(**values)).rowcount:
            waits.append(message_waits.Wait(item.id, decision.waits_for or message_waits.WINDOW,
                                            decision.reason, decision.until, now))
    message_waits.record(conn, waits)
    return later, validity


def _numbers_on_list(conn: Connection, list_id: int, phones: list[str]) -> set[str]:
    """dnc.numbers_on_list for a claim (it runs for every group): on SQLite straight through
    the driver, on PostgreSQL one prepared statement with the numbers as an array."""
    wanted = list(dict.fromkeys(p for p in phones if p))
    if is_postgres(conn):
        return set(conn.scalars(_ON_LIST, {"list_id": list_id, "phones": wanted}))
    found: set[str] = set()
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        found.update(row[0] for row in conn.exec_driver_sql(
            "SELECT phone FROM dnc_entry WHERE dnc_list_id = ? AND phone IN "
            f"({', '.join('?' * len(chunk))})", (list_id, *chunk)))
    return found


_ON_LIST = select(dnc_entry.c.phone).where(
    dnc_entry.c.dnc_list_id == bindparam("list_id"),
    dnc_entry.c.phone == any_(bindparam("phones", type_=ARRAY(String))))


@dataclass(frozen=True, slots=True)
class _LookedUp:
    on_dnc: set[str]
    under_review: set[str]
    recent: dict[str, list[datetime]]


# On PostgreSQL a claim's three look-ups (DNC list, possible opt-outs under review, recent sends
# for frequency caps) are one statement: a round trip each cost more than the three queries.
_NO_TIME = cast(null(), DateTime(timezone=True))
_LOOK_UP = union_all(
    _ON_LIST.with_only_columns(literal("dnc"), dnc_entry.c.phone, _NO_TIME),
    review_holds.UNDER_REVIEW.with_only_columns(literal("review"), inbound_message.c.sender,
                                                _NO_TIME),
    _RECENT_SENDS.with_only_columns(literal("sent"), message.c.destination,
                                    message.c.submitted_at),
)


def _look_up_postgres(conn: Connection, dnc_list_id: int, checked: list[str],
                      sent_to: list[str], now: datetime, timing: bool) -> _LookedUp:
    """The numbers of `checked` on the DNC list and under review, and (with `timing`) when the
    numbers of `sent_to` were texted in the last 24 hours, in one round trip."""
    found = _LookedUp(set(), set(), {})
    rows = conn.execute(_LOOK_UP, {
        "list_id": dnc_list_id, "phones": list(dict.fromkeys(p for p in checked if p)),
        "destinations": list(dict.fromkeys(sent_to)) if timing else [],
        "since": now - timedelta(hours=24)})
    for kind, number, sent_at in rows:
        if kind == "dnc":
            found.on_dnc.add(number)
        elif kind == "review":
            found.under_review.add(number)
        else:
            found.recent.setdefault(number, []).append(_aware(sent_at))
    return found


_CLAIM_SQLITE = (
    f"UPDATE message SET state = '{MessageState.SUBMITTING.value}', submitted_at = ?, "
    "attempts = attempts + 1 "
    f"WHERE id IN ({{}}) AND state = '{MessageState.PENDING.value}' "
    "AND (skill_id IS NULL OR skill_id IN "
    f"(SELECT id FROM skill WHERE status IN ({_DISPATCHED_SQL}))) "
    "RETURNING id"
)


_HELD_CODES_SQLITE = ("SELECT registration_id FROM transport_lease "
                      "WHERE worker_id = ? AND process_token = ?")
_CLAIM_LEASED_SQLITE = (
    f"UPDATE message SET state = '{MessageState.SUBMITTING.value}', submitted_at = ?, "
    "attempts = attempts + 1 "
    f"WHERE id IN ({{}}) AND state = '{MessageState.PENDING.value}' "
    f"AND ((skill_id IS NULL AND registration_id IN ({_HELD_CODES_SQLITE})) "
    f"OR skill_id IN (SELECT id FROM skill WHERE status IN ({_DISPATCHED_SQL}) "
    f"AND registration_id IN ({_HELD_CODES_SQLITE}))) "
    "RETURNING id"
)


def _sqlite_datetime(conn: Connection, moment: datetime) -> str:
    """`moment` as SQLAlchemy stores a DateTime on SQLite (its own bind processor says)."""
    column_type = message.c.submitted_at.type.dialect_impl(conn.dialect)
    return column_type.bind_processor(conn.dialect)(moment)


def recover_submitting(conn: Connection, registration_id: int, now: datetime) -> int:
    """After a crash: texts left `submitting` may or may not have reached the carrier. They
    become `uncertain` and are never re-sent without a person's decision."""
    of_code = select(skill.c.id).where(skill.c.registration_id == registration_id)
    left = list(conn.scalars(select(message.c.id).where(
        message.c.state == MessageState.SUBMITTING.value, message.c.skill_id.in_(of_code))))
    # Through transition(): the guard, and the message.status webhook event of each.
    return messages.transition(conn, left, MessageState.UNCERTAIN, now,
                               detail="the dispatcher stopped while this text was being "
                                      "submitted")


# Leases: the rules are store.leases's (which these two keep their old names for).


def take_lease(conn: Connection, registration_id: int, worker_id: str, now: datetime,
               expires_at: datetime, process_token: str = "",
               restart_takeover_s: float = 5.0) -> bool:
    """Own the code's pacer until `expires_at`, unless another live process owns it."""
    return registration_id in take_leases(conn, [registration_id], worker_id, now, expires_at,
                                          process_token, restart_takeover_s)


def take_leases(conn: Connection, registration_ids: Sequence[int], worker_id: str,
                now: datetime, expires_at: datetime, process_token: str = "",
                restart_takeover_s: float = 5.0) -> set[int]:
    """Take or renew the leases of many codes at once, with no share to keep to: the codes this
    process owns until `expires_at` (store.leases.renew_and_take)."""
    return set(leases.renew_and_take(
        conn, LeaseHolder(worker_id, process_token), registration_ids, now,
        (expires_at - now).total_seconds(), restart_takeover_s))


def unsettled_by_skill(conn: Connection, skill_ids: Sequence[int]) -> dict[int, int]:
    """How many texts each skill still has pending or submitting (skills with none are absent)."""
    if not skill_ids:
        return {}
    rows = conn.execute(
        select(message.c.skill_id, func.count())
        .where(message.c.skill_id.in_(list(skill_ids)),
               message.c.state.in_([MessageState.PENDING.value, MessageState.SUBMITTING.value]))
        .group_by(message.c.skill_id)
    ).all()
    return {skill_id: count for skill_id, count in rows}


def any_awaiting_receipt(conn: Connection, skill_ids: Sequence[int]) -> bool:
    """Whether any text of these skills is `sent` and still waiting for its receipt."""
    if not skill_ids:
        return False
    return conn.scalar(
        select(message.c.id)
        .where(message.c.skill_id.in_(list(skill_ids)),
               message.c.state == MessageState.SENT.value)
        .limit(1)
    ) is not None


def release_lease(conn: Connection, registration_id: int, worker_id: str,
                  process_token: str = "") -> None:
    """Give a code up (at shutdown), if this process still holds it."""
    conn.execute(transport_lease.delete().where(and_(
        transport_lease.c.registration_id == registration_id,
        transport_lease.c.worker_id == worker_id,
        transport_lease.c.process_token == process_token)))
