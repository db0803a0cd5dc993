"""The SQL of erasing one person from a business unit (services.erasure says what and why).

Rows that reports count are anonymised in place, never deleted: a message keeps its skill,
state, skip reason, segments and times (so the kept counters of migration 0011 and every report
still add up) and loses its number, body and detail; a calling record keeps its id (messages,
cadence outcomes and conversations refer to it) and loses every value it held. Nothing here
touches a DNC entry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, String, cast, func, or_, select, update

from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.phone import mask
from proactive_sms.store.schema import (
    cadence_record,
    calling_list,
    calling_record,
    conversation,
    inbound_message,
    message,
    skill,
    sms_registration,
    webhook_event,
)

# What an erased number, ExternalId or name becomes: says what happened, matches no number.
ERASED = "erased"


@dataclass(frozen=True)
class Person:
    """The rows of one person in a BU: their calling records and every number they used."""

    record_ids: list[int]
    numbers: list[str]  # E.164: the number asked for and those of the records found


def find_person(conn: Connection, business_unit_id: int, *, number: str | None,
                external_id: str | None) -> Person:
    """The BU's records with this number (as PhoneNumber or where texts go) or ExternalId."""
    wanted = []
    if number is not None:
        wanted += [calling_record.c.phone == number, calling_record.c.sms_destination == number]
    if external_id is not None:
        wanted.append(calling_record.c.external_id == external_id)
    rows = conn.execute(
        select(calling_record.c.id, calling_record.c.phone, calling_record.c.sms_destination)
        .join(calling_list, calling_list.c.id == calling_record.c.calling_list_id)
        .where(calling_list.c.business_unit_id == business_unit_id, or_(*wanted))
        .order_by(calling_record.c.id)).all()
    numbers = [number] if number else []
    for row in rows:
        numbers += [n for n in (row.phone, row.sms_destination) if n]
    return Person([row.id for row in rows], list(dict.fromkeys(numbers)))


def _bu_codes(business_unit_id: int):
    return select(sms_registration.c.id).where(
        sms_registration.c.business_unit_id == business_unit_id)


def _bu_skills(business_unit_id: int):
    return select(skill.c.id).where(skill.c.business_unit_id == business_unit_id)


def _their_messages(business_unit_id: int, person: Person):
    """The BU's texts to this person: of their records, or to one of their numbers."""
    of_bu = or_(message.c.skill_id.in_(_bu_skills(business_unit_id)),
                message.c.registration_id.in_(_bu_codes(business_unit_id)))
    theirs = []
    if person.record_ids:
        theirs.append(message.c.record_id.in_(person.record_ids))
    if person.numbers:
        theirs.append(message.c.destination.in_(person.numbers))
    return of_bu & or_(*theirs) if theirs else None


def in_flight(conn: Connection, business_unit_id: int, person: Person) -> int:
    """How many of their texts are being submitted now (claimed, answer not yet recorded)."""
    where = _their_messages(business_unit_id, person)
    if where is None:
        return 0
    return conn.scalar(select(func.count()).select_from(message).where(
        where, message.c.state == MessageState.SUBMITTING.value)) or 0


def under_review(conn: Connection, business_unit_id: int, numbers: Sequence[str]) -> int:
    """How many possible opt-outs from these numbers to the BU's codes await review."""
    if not numbers:
        return 0
    return conn.scalar(select(func.count()).select_from(inbound_message).where(
        inbound_message.c.registration_id.in_(_bu_codes(business_unit_id)),
        inbound_message.c.sender.in_(list(numbers)),
        inbound_message.c.review_state == "pending")) or 0


@dataclass(frozen=True)
class Erased:
    records: int
    messages: int
    cancelled: int  # texts not yet sent, cancelled so that none leaves
    inbound: int
    conversations: int
    webhook_events: int


def erase(conn: Connection, business_unit_id: int, person: Person, now: datetime) -> Erased:
    """Cancel their pending texts, then anonymise their texts, records, replies,
    conversations and the webhook events that name their number."""
    cancelled = anonymised = 0
    where = _their_messages(business_unit_id, person)
    if where is not None:
        # Pending texts first: cancelled (counted as such) so the dispatcher never claims a
        # text whose number is gone. The claim skips rows this transaction holds.
        cancelled = conn.execute(update(message).where(
            where, message.c.state == MessageState.PENDING.value).values(
            state=MessageState.CANCELLED.value, finished_at=now, next_attempt_at=None)).rowcount
        # A text being submitted keeps its number: the caller finds it with in_flight and
        # rolls everything back.
        anonymised = conn.execute(update(message).where(
            where, message.c.state != MessageState.SUBMITTING.value).values(
            destination=None, body=None, detail=ERASED)).rowcount
    records = 0
    if person.record_ids:
        records = conn.execute(update(calling_record).where(
            calling_record.c.id.in_(person.record_ids)).values(
            # The id keeps ExternalIds unique in the list; a new import of the person makes
            # a new record.
            external_id=ERASED + "-" + cast(calling_record.c.id, String),
            phone=None, sms_destination=None, sms_problem=None, expiration_date=None,
            time_zone=None, postal_code=None, fields={}, updated_at=now)).rowcount
        # Their place in agent skills' cadences ends: no further call or text.
        conn.execute(update(cadence_record).where(
            cadence_record.c.record_id.in_(person.record_ids),
            cadence_record.c.done_reason.is_(None)).values(
            done_reason=ERASED, done_at=now, due_at=None, updated_at=now))
    inbound = conversations = 0
    if person.numbers:
        inbound = conn.execute(update(inbound_message).where(
            inbound_message.c.registration_id.in_(_bu_codes(business_unit_id)),
            inbound_message.c.sender.in_(person.numbers)).values(
            sender=ERASED, text="", reason=ERASED)).rowcount
        conversations = conn.execute(update(conversation).where(
            conversation.c.registration_id.in_(_bu_codes(business_unit_id)),
            conversation.c.phone.in_(person.numbers)).values(
            phone=ERASED, status="closed",
            closed_at=func.coalesce(conversation.c.closed_at, now))).rowcount
    events = _redact_webhook_events(conn, business_unit_id, person.numbers)
    return Erased(records, anonymised, cancelled, inbound, conversations, events)


def _redact_webhook_events(conn: Connection, business_unit_id: int,
                           numbers: Sequence[str]) -> int:
    """Put the masked number in place of the number in the BU's webhook events (a pending
    one is then delivered, and signed, as redacted)."""
    changed = 0
    for number in numbers:
        rows = conn.execute(select(webhook_event.c.id, webhook_event.c.body).where(
            webhook_event.c.business_unit_id == business_unit_id,
            webhook_event.c.body.contains(number, autoescape=True))).all()
        for row in rows:
            body = row.body.replace(json.dumps(number)[1:-1], mask(number))
            conn.execute(update(webhook_event).where(webhook_event.c.id == row.id)
                         .values(body=body))
            changed += 1
    return changed
