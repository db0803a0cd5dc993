"""Messages: the decisions of a launch, their lifecycle changes, and counts for reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from proactive_sms.domain.message_states import MessageState, allowed_sources
from proactive_sms.store.dialect import insert
from proactive_sms.store.schema import message


@dataclass(frozen=True, slots=True)
class Decision:
    """What launch decided for one record: a pending text, or a skip with its reason."""

    record_id: int
    state: MessageState
    destination: str | None
    body: str | None = None
    encoding: str | None = None
    segments: int = 0
    skip_reason: str | None = None
    detail: str | None = None


def insert_decisions(conn: Connection, skill_id: int, decisions: Sequence[Decision],
                     now: datetime) -> int:
    """Store decisions; a record already decided keeps its first decision (invariant 1)."""
    if not decisions:
        return 0
    rows = [
        {
            "skill_id": skill_id, "record_id": d.record_id, "destination": d.destination,
            "body": d.body, "encoding": d.encoding, "segments": d.segments,
            "state": d.state.value, "skip_reason": d.skip_reason, "detail": d.detail,
            "attempts": 0, "created_at": now,
        }
        for d in decisions
    ]
    # RETURNING counts what was really inserted on every backend (rowcount of an executemany
    # is not reliable with psycopg).
    result = conn.execute(
        insert(conn, message)
        .on_conflict_do_nothing(index_elements=["skill_id", "record_id"])
        .returning(message.c.id),
        rows,
    )
    return len(result.all())


def live_destinations(conn: Connection, skill_id: int) -> set[str]:
    """Numbers the skill already has a text for (to skip duplicates when a launch resumes)."""
    return set(conn.scalars(select(message.c.destination).where(
        message.c.skill_id == skill_id, message.c.state != MessageState.SKIPPED.value,
        message.c.destination.is_not(None),
    )))


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
    sources = [s.value for s in allowed_sources(new)]
    moved = 0
    for start in range(0, len(ids), 900):
        moved += conn.execute(
            update(message)
            .where(message.c.id.in_(ids[start:start + 900]), message.c.state.in_(sources))
            .values(state=new.value, **values)
        ).rowcount
    return moved


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


@dataclass(frozen=True)
class StateCount:
    state: str
    skip_reason: str | None
    messages: int
    segments: int


def state_counts(conn: Connection, skill_ids: Sequence[int]) -> list[StateCount]:
    if not skill_ids:
        return []
    rows = conn.execute(
        select(message.c.state, message.c.skip_reason, func.count(),
               func.coalesce(func.sum(message.c.segments), 0))
        .where(message.c.skill_id.in_(list(skill_ids)))
        .group_by(message.c.state, message.c.skip_reason)
        .order_by(message.c.state, message.c.skip_reason)
    )
    return [StateCount(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def unsettled_count(conn: Connection, skill_id: int) -> int:
    """Messages the dispatcher still has to do something with."""
    return conn.scalar(select(func.count()).select_from(message).where(
        message.c.skill_id == skill_id,
        message.c.state.in_([MessageState.PENDING.value, MessageState.SUBMITTING.value]),
    )) or 0


def sent_window(conn: Connection, skill_ids: Sequence[int]) -> tuple[datetime | None,
                                                                        datetime | None, int]:
    """First and last submit time and how many were sent: for the achieved rate."""
    row = conn.execute(
        select(func.min(message.c.sent_at), func.max(message.c.sent_at),
               func.count(message.c.sent_at))
        .where(message.c.skill_id.in_(list(skill_ids)))
    ).one()
    return row[0], row[1], int(row[2])
