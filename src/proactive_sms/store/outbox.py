"""The dispatcher's queries: reading pending texts, claiming them, recording what happened.

Claiming is one transaction that checks the DNC list at that moment and moves the texts from
`pending` to `submitting`; only texts of running skills move. Nothing is ever moved out of
`submitting` except by recording the carrier's answer, or by start-up recovery to `uncertain`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select, update

from proactive_sms.store.dialect import insert

from proactive_sms.domain.message_states import MessageState, SkipReason
from proactive_sms.store import dnc
from proactive_sms.store.schema import message, skill, transport_lease

RUNNING = "running"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    skill_id: int
    destination: str
    body: str
    encoding: str
    segments: int
    attempts: int


def fetch_pending(conn: Connection, registration_id: int, after_id: int, limit: int,
                  now: datetime) -> list[OutboxItem]:
    """Pending texts of the code's running skills, due now, in id order after a cursor."""
    rows = conn.execute(
        select(message.c.id, message.c.skill_id, message.c.destination, message.c.body,
               message.c.encoding, message.c.segments, message.c.attempts)
        .join(skill, skill.c.id == message.c.skill_id)
        .where(
            skill.c.registration_id == registration_id,
            skill.c.status == RUNNING,
            message.c.state == MessageState.PENDING.value,
            message.c.id > after_id,
            or_(message.c.next_attempt_at.is_(None), message.c.next_attempt_at <= now),
        )
        .order_by(message.c.id)
        .limit(limit)
    ).all()
    return [OutboxItem(*row) for row in rows]


@dataclass(frozen=True)
class Claim:
    claimed: set[int]  # now `submitting`: send them
    dnc: set[int]  # skipped: the number went on the DNC list after launch
    gone: set[int]  # no longer pending, or the skill is not running: drop them


def claim(conn: Connection, items: Sequence[OutboxItem], dnc_list_id: int,
          now: datetime) -> Claim:
    ids = [i.id for i in items]
    on_dnc = dnc.numbers_on_list(conn, dnc_list_id, (i.destination for i in items))
    dnc_ids = [i.id for i in items if i.destination in on_dnc]
    skipped: set[int] = set()
    if dnc_ids:
        skipped = set(conn.scalars(
            update(message)
            .where(message.c.id.in_(dnc_ids), message.c.state == MessageState.PENDING.value)
            .values(state=MessageState.SKIPPED.value, skip_reason=SkipReason.DNC.value,
                    detail="on the DNC list at the moment of sending", finished_at=now)
            .returning(message.c.id)
        ))
    send_ids = [i for i in ids if i not in set(dnc_ids)]
    claimed: set[int] = set()
    if send_ids:
        running = select(skill.c.id).where(skill.c.status == RUNNING)
        claimed = set(conn.scalars(
            update(message)
            .where(message.c.id.in_(send_ids), message.c.state == MessageState.PENDING.value,
                   message.c.skill_id.in_(running))
            .values(state=MessageState.SUBMITTING.value, submitted_at=now,
                    attempts=message.c.attempts + 1)
            .returning(message.c.id)
        ))
    return Claim(claimed, skipped, set(ids) - claimed - skipped)


def recover_submitting(conn: Connection, registration_id: int, now: datetime) -> int:
    """After a crash: texts left `submitting` may or may not have reached the carrier. They
    become `uncertain` and are never re-sent without a person's decision."""
    of_code = select(skill.c.id).where(skill.c.registration_id == registration_id)
    return conn.execute(
        update(message)
        .where(message.c.state == MessageState.SUBMITTING.value,
               message.c.skill_id.in_(of_code))
        .values(state=MessageState.UNCERTAIN.value,
                detail="the dispatcher stopped while this text was being submitted")
    ).rowcount


def take_lease(conn: Connection, registration_id: int, worker_id: str, now: datetime,
               expires_at: datetime) -> bool:
    """Own the code's pacer until `expires_at`, unless another live worker owns it."""
    renewed = conn.execute(
        update(transport_lease)
        .where(transport_lease.c.registration_id == registration_id,
               or_(transport_lease.c.worker_id == worker_id,
                   transport_lease.c.expires_at <= now))
        .values(worker_id=worker_id, expires_at=expires_at)
    ).rowcount
    if renewed:
        return True
    exists = conn.scalar(select(transport_lease.c.registration_id).where(
        transport_lease.c.registration_id == registration_id))
    if exists is not None:
        return False
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT it returned from.
    inserted = conn.execute(
        insert(conn, transport_lease)
        .values(registration_id=registration_id, worker_id=worker_id, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(transport_lease.c.registration_id)
    ).first()
    return inserted is not None


def release_lease(conn: Connection, registration_id: int, worker_id: str) -> None:
    conn.execute(transport_lease.delete().where(and_(
        transport_lease.c.registration_id == registration_id,
        transport_lease.c.worker_id == worker_id)))
