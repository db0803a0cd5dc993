"""Conversations: the replies of one number to one code, and the agents' answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, exists, func, or_, select, update

from proactive_sms.store import paging
from proactive_sms.store.schema import (
    conversation,
    conversation_assignment,
    message,
    sms_registration,
)


@dataclass(frozen=True)
class Conversation:
    id: int
    registration_id: int
    phone: str
    skill_id: int | None
    record_id: int | None
    status: str
    opened_at: datetime
    last_inbound_at: datetime
    last_answer_at: datetime | None
    closed_at: datetime | None
    unanswered_since: datetime | None = None
    first_answer_at: datetime | None = None

    @property
    def waiting_since(self) -> datetime | None:
        """When the customer's first unanswered text arrived; None when we spoke last."""
        return self.unanswered_since if self.status == "open" else None


def _conversation(row) -> Conversation:
    return Conversation(row.id, row.registration_id, row.phone, row.skill_id, row.record_id,
                        row.status, row.opened_at, row.last_inbound_at, row.last_answer_at,
                        row.closed_at, row.unanswered_since, row.first_answer_at)


from_row = _conversation  # for the store modules that select conversations with more


def find_open(conn: Connection, registration_id: int, phone: str) -> Conversation | None:
    row = conn.execute(select(conversation).where(
        conversation.c.registration_id == registration_id, conversation.c.phone == phone,
        conversation.c.status == "open")).first()
    return _conversation(row) if row else None


def open_or_continue(conn: Connection, registration_id: int, phone: str, skill_id: int | None,
                     record_id: int | None, now: datetime) -> Conversation:
    current = find_open(conn, registration_id, phone)
    if current is not None:
        conn.execute(update(conversation).where(conversation.c.id == current.id).values(
            last_inbound_at=now,
            unanswered_since=func.coalesce(conversation.c.unanswered_since, now)))
        return get(conn, current.id)
    new_id = conn.execute(conversation.insert().values(
        registration_id=registration_id, phone=phone, skill_id=skill_id, record_id=record_id,
        status="open", opened_at=now, last_inbound_at=now,
        unanswered_since=now)).inserted_primary_key[0]
    return get(conn, new_id)


def get(conn: Connection, conversation_id: int) -> Conversation | None:
    row = conn.execute(select(conversation).where(conversation.c.id == conversation_id)).first()
    return _conversation(row) if row else None


def get_in_bu(conn: Connection, conversation_id: int, business_unit_id: int) -> Conversation | None:
    row = conn.execute(
        select(conversation)
        .join(sms_registration, sms_registration.c.id == conversation.c.registration_id)
        .where(conversation.c.id == conversation_id,
               sms_registration.c.business_unit_id == business_unit_id)).first()
    return _conversation(row) if row else None


def list_for_bu(conn: Connection, business_unit_id: int, skill_id: int | None = None,
                include_closed: bool = False) -> list[Conversation]:
    query = (select(conversation)
             .join(sms_registration, sms_registration.c.id == conversation.c.registration_id)
             .where(sms_registration.c.business_unit_id == business_unit_id)
             .order_by(conversation.c.last_inbound_at))
    if skill_id is not None:
        query = query.where(conversation.c.skill_id == skill_id)
    if not include_closed:
        query = query.where(conversation.c.status == "open")
    return [_conversation(r) for r in conn.execute(query)]


def mark_answered(conn: Connection, conversation_id: int, now: datetime) -> None:
    conn.execute(update(conversation).where(conversation.c.id == conversation_id).values(
        last_answer_at=now, unanswered_since=None,
        first_answer_at=func.coalesce(conversation.c.first_answer_at, now)))


def close(conn: Connection, conversation_id: int, now: datetime) -> bool:
    return conn.execute(update(conversation).where(
        conversation.c.id == conversation_id, conversation.c.status == "open",
    ).values(status="closed", closed_at=now)).rowcount == 1


def outbound_texts(conn: Connection, conversation_id: int, phone: str, registration_id: int,
                   skill_id: int | None = None):
    """The texts we sent in this conversation (agent answers and system texts to the number,
    and the text of the skill they answered)."""
    ours = or_(message.c.conversation_id == conversation_id,
               (message.c.registration_id == registration_id) & (message.c.destination == phone))
    if skill_id is not None:
        ours = or_(ours, (message.c.skill_id == skill_id) & (message.c.destination == phone))
    return conn.execute(select(message).where(ours).order_by(message.c.created_at)).all()


def page(conn: Connection, business_unit_id: int, after_id: int, limit: int, *,
         status: str | None = None, skill_id: int | None = None,
         assigned: bool | None = None) -> paging.Page[Conversation]:
    """The BU's conversations after an id, in id order; of one status or skill, with or
    without an agent, if asked."""
    query = (select(conversation)
             .where(conversation.c.registration_id.in_(select(sms_registration.c.id).where(
                 sms_registration.c.business_unit_id == business_unit_id))))
    if status is not None:
        query = query.where(conversation.c.status == status)
    if skill_id is not None:
        query = query.where(conversation.c.skill_id == skill_id)
    if assigned is not None:
        held = exists().where(conversation_assignment.c.conversation_id == conversation.c.id)
        query = query.where(held if assigned else ~held)
    return paging.fetch(conn, query, conversation.c.id, after_id, limit, _conversation)
