"""What the store holds about one number in one business unit, for its history ("why was this
number (not) texted?"): the records that carry it, the texts to it with their parts and waits,
the texts received from it, and the DNC lists that apply to the unit's codes.

Only reads, each one query over an index the number or an id leads (message's destination
index is partial, so texts never submitted are found through their records; see `texts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, or_, select

from proactive_sms.store import messages
from proactive_sms.store.schema import (
    calling_list,
    calling_record,
    carrier_connection,
    dnc_list,
    inbound_message,
    message,
    skill,
    sms_registration,
)


@dataclass(frozen=True)
class RecordSeen:
    """A calling-list record that carries the number (as its phone or its SMS number)."""

    id: int
    calling_list_id: int
    list_name: str
    external_id: str
    source_line: int  # the line of the file it last came from
    created_at: datetime
    updated_at: datetime
    as_sms_number: bool  # the number is where the record's texts go
    sms_problem: str | None


@dataclass(frozen=True)
class TextSeen:
    """A text to the number (or to a record that carries it), as stored, with names."""

    message: messages.StoredMessage
    skill_name: str | None
    code: str | None
    connection_name: str | None  # the connection that carried it, when recorded
    code_connection_name: str | None  # the code's connection now (texts older than 0022)


def records(conn: Connection, business_unit_id: int, phone: str) -> list[RecordSeen]:
    rows = conn.execute(
        select(calling_record.c.id, calling_record.c.calling_list_id, calling_list.c.name,
               calling_record.c.external_id, calling_record.c.source_line,
               calling_record.c.created_at, calling_record.c.updated_at,
               calling_record.c.sms_destination,
               calling_record.c.sms_problem)
        .join(calling_list, calling_list.c.id == calling_record.c.calling_list_id)
        .where(calling_list.c.business_unit_id == business_unit_id,
               or_(calling_record.c.phone == phone, calling_record.c.sms_destination == phone))
        .order_by(calling_record.c.id))
    return [RecordSeen(r.id, r.calling_list_id, r.name, r.external_id, r.source_line,
                       r.created_at, r.updated_at, r.sms_destination == phone, r.sms_problem)
            for r in rows]


def texts(conn: Connection, business_unit_id: int, phone: str, record_ids: Sequence[int],
          skill_id: int | None = None) -> list[TextSeen]:
    """The unit's texts to the number, and its skills' decisions on the records that carry it
    (a record skipped without an SMS number has no destination), in id order.

    Three lookups, each on an index, rather than one OR that would read every message: the
    records' texts by (skill, record) (the unique index), texts that left by destination (the
    partial index of submitted texts), and system texts by code (only they have a code)."""
    skill_ids = list(conn.scalars(select(skill.c.id).where(
        skill.c.business_unit_id == business_unit_id)))
    if skill_id is not None:
        skill_ids = [s for s in skill_ids if s == skill_id]
    ids: set[int] = set()
    if skill_ids and record_ids:
        ids.update(conn.scalars(select(message.c.id).where(
            message.c.skill_id.in_(skill_ids), message.c.record_id.in_(list(record_ids)))))
    if skill_ids:
        ids.update(conn.scalars(select(message.c.id).where(
            message.c.destination == phone, message.c.submitted_at.is_not(None),
            message.c.skill_id.in_(skill_ids))))
    if skill_id is None:
        codes = select(sms_registration.c.id).where(
            sms_registration.c.business_unit_id == business_unit_id)
        ids.update(conn.scalars(select(message.c.id).where(
            message.c.registration_id.in_(codes), message.c.destination == phone)))
    if not ids:
        return []
    code = sms_registration.alias("code")
    carried = carrier_connection.alias("carried")
    current = carrier_connection.alias("current")
    registration_id = func.coalesce(message.c.registration_id, skill.c.registration_id)
    query = (
        select(message, skill.c.name.label("skill_name"), code.c.code.label("code_name"),
               carried.c.name.label("carried_by"), current.c.name.label("code_connection"))
        .outerjoin(skill, skill.c.id == message.c.skill_id)
        .outerjoin(code, code.c.id == registration_id)
        .outerjoin(carried, carried.c.id == message.c.connection_id)
        .outerjoin(current, current.c.id == code.c.connection_id)
        .where(message.c.id.in_(sorted(ids)))
        .order_by(message.c.id))
    found = []
    for row in conn.execute(query):
        values = {c.name: row._mapping[c.name] for c in message.c}
        found.append(TextSeen(messages.StoredMessage(**values), row.skill_name, row.code_name,
                              row.carried_by, row.code_connection))
    return found


@dataclass(frozen=True)
class ReplySeen:
    inbound_id: int
    received_at: datetime
    code: str  # as the carrier gave it
    text: str
    classification: str
    reason: str
    skill_name: str | None  # the skill that last texted the number
    review_state: str | None
    reviewed_at: datetime | None


def replies(conn: Connection, business_unit_id: int, phone: str,
            skill_id: int | None = None) -> list[ReplySeen]:
    """Texts received from the number on the unit's codes, oldest first."""
    query = (
        select(inbound_message, skill.c.name.label("skill_name"))
        .join(sms_registration, sms_registration.c.id == inbound_message.c.registration_id)
        .outerjoin(skill, skill.c.id == inbound_message.c.skill_id)
        .where(sms_registration.c.business_unit_id == business_unit_id,
               inbound_message.c.sender == phone)
        .order_by(inbound_message.c.received_at, inbound_message.c.id))
    if skill_id is not None:
        query = query.where(inbound_message.c.skill_id == skill_id)
    return [ReplySeen(r.id, r.received_at, r.recipient, r.text, r.classification, r.reason,
                      r.skill_name, r.review_state, r.reviewed_at) for r in conn.execute(query)]


def applicable_dnc_lists(conn: Connection, business_unit_id: int, tenant_id: int,
                         registration_id: int | None = None) -> list[int]:
    """The DNC lists that decide for the unit's codes (or one code): the DNC groups they name,
    and the tenant default list for a code that names none."""
    query = select(sms_registration.c.dnc_list_id).where(
        sms_registration.c.business_unit_id == business_unit_id)
    if registration_id is not None:
        query = query.where(sms_registration.c.id == registration_id)
    named = set(conn.scalars(query))
    ids = {i for i in named if i is not None}
    if None in named:
        ids.update(conn.scalars(select(dnc_list.c.id).where(dnc_list.c.tenant_id == tenant_id,
                                                           dnc_list.c.is_default)))
    return sorted(ids)
