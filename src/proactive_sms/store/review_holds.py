"""Texts held while a possible opt-out from their number waits for a person's review.

A revocation may be made by any reasonable means (REFERENCE.md): a reply that *might* be one must
not let the texts go on meanwhile. The claim holds such texts: they stay `pending` and are looked
at again after `HOLD_RECHECK`, or at once when the review is rejected. An accepted review puts
the number on the DNC list, and the claim's DNC check skips them.

A review counts for the texts whose DNC list is the list the opt-out would go on: that of the
registration the reply reached (its DNC group, else its tenant's default list).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, Connection, String, and_, any_, bindparam, or_, select, update

from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import message_waits
from proactive_sms.store.dialect import is_postgres
from proactive_sms.store.schema import (
    business_unit,
    dnc_list,
    inbound_message,
    message,
    sms_registration,
)

HOLD_RECHECK = timedelta(minutes=1)
HOLD_DETAIL = "held: a possible opt-out from this number awaits review"
HOLD_REASON = "a possible opt-out from this number awaits review"  # in its history


def numbers_under_review(conn: Connection, dnc_list_id: int, phones: Sequence[str]) -> set[str]:
    """Which of `phones` sent a possible opt-out, still pending review, that would put them on
    DNC list `dnc_list_id`.

    Every claim asks this of all its texts: the statement is built once, and on SQLite it goes
    straight to the driver (building it per claim cost ~1 ms, 30 us a text)."""
    wanted = list(dict.fromkeys(p for p in phones if p))
    if not wanted:
        return set()
    found: set[str] = set()
    sqlite = not is_postgres(conn)
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        if sqlite:
            found.update(row[0] for row in conn.exec_driver_sql(
                _UNDER_REVIEW_SQLITE.format(", ".join("?" * len(chunk))),
                (dnc_list_id, *chunk)))
        else:  # the numbers as one array: one prepared statement whatever their number
            found.update(conn.scalars(UNDER_REVIEW, {"list_id": dnc_list_id, "phones": chunk}))
    return found


_TARGET = dnc_list.alias("target")
UNDER_REVIEW = (
    select(inbound_message.c.sender).distinct()
    .join(sms_registration, sms_registration.c.id == inbound_message.c.registration_id)
    .join(business_unit, business_unit.c.id == sms_registration.c.business_unit_id)
    .join(_TARGET, _TARGET.c.id == bindparam("list_id"))
    .where(inbound_message.c.review_state == "pending",
           inbound_message.c.sender == any_(bindparam("phones", type_=ARRAY(String))),
           or_(sms_registration.c.dnc_list_id == bindparam("list_id"),
               and_(sms_registration.c.dnc_list_id.is_(None), _TARGET.c.is_default,
                    _TARGET.c.tenant_id == business_unit.c.tenant_id)))
)
# The same query for SQLite's driver (the list id, then the phones).
_UNDER_REVIEW_SQLITE = (
    "SELECT DISTINCT i.sender FROM inbound_message AS i "
    "JOIN sms_registration AS r ON r.id = i.registration_id "
    "JOIN business_unit AS b ON b.id = r.business_unit_id "
    "JOIN dnc_list AS target ON target.id = ? "
    "WHERE i.review_state = 'pending' AND i.sender IN ({}) "
    "AND (r.dnc_list_id = target.id OR (r.dnc_list_id IS NULL AND target.is_default "
    "AND target.tenant_id = b.tenant_id))"
)


def hold(conn: Connection, message_ids: Sequence[int], now: datetime) -> None:
    """Keep these pending texts back until HOLD_RECHECK from now. The first hold of each is kept
    in its history (message_wait); the re-checks are not. The first hold is found by the UPDATE
    itself, so two claims of one text (PostgreSQL lets both see it due) write it once: the
    second waits for the first's row lock and then no longer matches."""
    if not message_ids:
        return
    ids = list(message_ids)
    pending = (message.c.id.in_(ids), message.c.state == MessageState.PENDING.value)
    first = list(conn.scalars(
        update(message).where(*pending, or_(message.c.detail.is_(None),
                                            message.c.detail != HOLD_DETAIL))
        .values(next_attempt_at=now + HOLD_RECHECK, detail=HOLD_DETAIL)
        .returning(message.c.id)))
    message_waits.record(conn, [message_waits.Wait(i, message_waits.REVIEW, HOLD_REASON, None, now)
                                for i in first])
    conn.execute(update(message).where(*pending, message.c.detail == HOLD_DETAIL)
                 .values(next_attempt_at=now + HOLD_RECHECK))


def release(conn: Connection, phone: str, now: datetime) -> int:
    """The review of `phone`'s reply was rejected: its held texts may go at once."""
    return conn.execute(update(message).where(
        message.c.destination == phone,
        message.c.state == MessageState.PENDING.value,
        message.c.detail == HOLD_DETAIL,
    ).values(next_attempt_at=now, detail=None)).rowcount
