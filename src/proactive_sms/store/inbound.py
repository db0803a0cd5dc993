"""Inbound texts: stored as received, with what they were classified as and what they caused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from proactive_sms.domain.message_states import MessageKind, MessageState
from proactive_sms.store import paging
from proactive_sms.store.schema import inbound_message, message, skill, sms_registration


@dataclass(frozen=True)
class StoredInbound:
    id: int
    received_at: datetime
    sender: str
    recipient: str
    registration_id: int | None
    text: str
    classification: str
    reason: str
    skill_id: int | None
    record_id: int | None
    conversation_id: int | None
    review_state: str | None


def record(conn: Connection, **values) -> int:
    return conn.execute(inbound_message.insert().values(**values)).inserted_primary_key[0]


def registration_for(conn: Connection, spellings: Sequence[str]):
    """The registration whose code is one of these spellings of the recipient, if any."""
    return conn.execute(select(sms_registration)
                        .where(sms_registration.c.code.in_(list(spellings)))).first()


_LEFT_US = [state.value for state in (
    MessageState.SUBMITTING, MessageState.SENT, MessageState.DELIVERED,
    MessageState.UNDELIVERABLE, MessageState.EXPIRED, MessageState.UNCERTAIN)]


def last_texted(conn: Connection, registration_id: int, phone: str) -> tuple[int, int] | None:
    """(skill id, record id) of the skill text that last reached this number from this code."""
    # A text still `submitting` counts: it may be on the handset before the carrier's answer is
    # stored, and the customer can answer it within that second.
    row = conn.execute(
        select(message.c.skill_id, message.c.record_id)
        .join(skill, skill.c.id == message.c.skill_id)
        .where(message.c.destination == phone, message.c.submitted_at.is_not(None),
               message.c.state.in_(_LEFT_US), skill.c.registration_id == registration_id)
        .order_by(message.c.submitted_at.desc()).limit(1)
    ).first()
    return (row.skill_id, row.record_id) if row else None


def system_text_since(conn: Connection, registration_id: int, phone: str, kind: MessageKind,
                      since: datetime) -> bool:
    """Whether a system text of this kind was queued for the number since a moment."""
    return conn.scalar(select(func.count()).select_from(message).where(
        message.c.registration_id == registration_id, message.c.destination == phone,
        message.c.kind == kind.value, message.c.created_at >= since)) > 0


def _stored(row) -> StoredInbound:
    return StoredInbound(row.id, row.received_at, row.sender, row.recipient, row.registration_id,
                         row.text, row.classification, row.reason, row.skill_id,
                         row.record_id, row.conversation_id, row.review_state)


def find(conn: Connection, inbound_id: int) -> StoredInbound | None:
    row = conn.execute(select(inbound_message).where(inbound_message.c.id == inbound_id)).first()
    return _stored(row) if row else None


def review_queue(conn: Connection, registration_ids: Sequence[int]) -> list[StoredInbound]:
    rows = conn.execute(select(inbound_message).where(
        inbound_message.c.review_state == "pending",
        inbound_message.c.registration_id.in_(list(registration_ids)),
    ).order_by(inbound_message.c.id))
    return [_stored(r) for r in rows]


def pending_reviews_before(conn: Connection, moment: datetime) -> list[StoredInbound]:
    """Possible opt-outs still waiting for review that arrived before `moment`, oldest first."""
    rows = conn.execute(select(inbound_message).where(
        inbound_message.c.review_state == "pending",
        inbound_message.c.received_at < moment,
    ).order_by(inbound_message.c.id))
    return [_stored(r) for r in rows]


def set_review(conn: Connection, inbound_id: int, state: str, now: datetime) -> bool:
    return conn.execute(update(inbound_message).where(
        inbound_message.c.id == inbound_id, inbound_message.c.review_state == "pending",
    ).values(review_state=state, reviewed_at=now)).rowcount == 1


def attach(conn: Connection, inbound_id: int, conversation_id: int) -> None:
    conn.execute(update(inbound_message).where(inbound_message.c.id == inbound_id)
                 .values(conversation_id=conversation_id))


def counts_by_skill(conn: Connection, skill_ids: Sequence[int]) -> Counter:
    """Inbound texts per classification, for the skills that last texted their senders."""
    rows = conn.execute(
        select(inbound_message.c.classification, func.count())
        .where(inbound_message.c.skill_id.in_(list(skill_ids)))
        .group_by(inbound_message.c.classification))
    return Counter({row[0]: int(row[1]) for row in rows})


def for_conversation(conn: Connection, conversation_id: int) -> list[StoredInbound]:
    rows = conn.execute(select(inbound_message)
                        .where(inbound_message.c.conversation_id == conversation_id)
                        .order_by(inbound_message.c.id))
    return [_stored(r) for r in rows]


# --- the API's views of a BU's inbound texts ------------------------------------------------

def _of_bu(business_unit_id: int):
    """A text received on one of the BU's codes (texts to unknown codes belong to no BU)."""
    return inbound_message.c.registration_id.in_(select(sms_registration.c.id).where(
        sms_registration.c.business_unit_id == business_unit_id))


def page(conn: Connection, business_unit_id: int, after_id: int, limit: int, *,
         classification: str | None = None, sender: str | None = None,
         skill_id: int | None = None, since: datetime | None = None,
         review_state: str | None = None) -> paging.Page[StoredInbound]:
    """The BU's inbound texts after an id, in id order, filtered as asked."""
    query = select(inbound_message).where(_of_bu(business_unit_id))
    if classification is not None:
        query = query.where(inbound_message.c.classification == classification)
    if sender is not None:
        query = query.where(inbound_message.c.sender == sender)
    if skill_id is not None:
        query = query.where(inbound_message.c.skill_id == skill_id)
    if since is not None:
        query = query.where(inbound_message.c.received_at >= since)
    if review_state is not None:
        query = query.where(inbound_message.c.review_state == review_state)
    return paging.fetch(conn, query, inbound_message.c.id, after_id, limit, _stored)


def find_in_bu(conn: Connection, business_unit_id: int,
               inbound_id: int) -> StoredInbound | None:
    row = conn.execute(select(inbound_message).where(inbound_message.c.id == inbound_id,
                                                     _of_bu(business_unit_id))).first()
    return _stored(row) if row else None
