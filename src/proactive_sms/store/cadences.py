"""Cadences: an agent skill's definition, each record's position, and the outcome log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, literal, or_, select, update

from proactive_sms.domain.cadence import Position
from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import skill_counters
from proactive_sms.store.dialect import insert, is_postgres
from proactive_sms.store.messages import Decision
from proactive_sms.store.schema import (
    cadence,
    cadence_outcome,
    cadence_record,
    calling_record,
    message,
)


def save_definition(conn: Connection, skill_id: int, definition: dict, now: datetime) -> None:
    statement = insert(conn, cadence).values(skill_id=skill_id, definition=definition,
                                             created_at=now, updated_at=now)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["skill_id"], set_={"definition": definition, "updated_at": now}))


def definition(conn: Connection, skill_id: int) -> dict | None:
    return conn.scalar(select(cadence.c.definition).where(cadence.c.skill_id == skill_id))


def start_records(conn: Connection, skill_id: int, list_id: int, now: datetime) -> int:
    """Put every record of the list at step 1, due now (records already there stay put).

    Returns how many records the skill's cadence holds."""
    chosen = select(literal(skill_id), calling_record.c.id, literal(1), literal(0),
                    literal(now, cadence_record.c.due_at.type),
                    literal(now, cadence_record.c.updated_at.type)).where(
        calling_record.c.calling_list_id == list_id)
    statement = insert(conn, cadence_record).from_select(
        ["skill_id", "record_id", "step", "attempts", "due_at", "updated_at"], chosen)
    conn.execute(statement.on_conflict_do_nothing())
    return conn.scalar(select(func.count()).select_from(cadence_record)
                       .where(cadence_record.c.skill_id == skill_id)) or 0



def records_not_held(conn: Connection, skill_id: int, list_id: int) -> list[int]:
    """Records of the list that the skill's cadence does not hold (added since it started)."""
    held = select(cadence_record.c.record_id).where(
        cadence_record.c.skill_id == skill_id, cadence_record.c.record_id == calling_record.c.id)
    return list(conn.scalars(select(calling_record.c.id).where(
        calling_record.c.calling_list_id == list_id, ~held.exists()).order_by(
        calling_record.c.id)))


def place_records(conn: Connection, skill_id: int, record_ids: Sequence[int],
                  now: datetime) -> None:
    """Put these records at step 1, due now (a record already there stays put)."""
    for start in range(0, len(record_ids), 5000):
        conn.execute(insert(conn, cadence_record).on_conflict_do_nothing(), [
            {"skill_id": skill_id, "record_id": record_id, "step": 1, "attempts": 0,
             "due_at": now, "updated_at": now}
            for record_id in record_ids[start:start + 5000]])

@dataclass(frozen=True)
class RecordPosition:
    skill_id: int
    record_id: int
    external_id: str
    position: Position
    in_call_until: datetime | None
    done_at: datetime | None


_WITH_RECORD = (
    select(cadence_record, calling_record.c.external_id)
    .join(calling_record, calling_record.c.id == cadence_record.c.record_id)
)


def _position(row) -> RecordPosition:
    return RecordPosition(row.skill_id, row.record_id, row.external_id,
                          Position(row.step, row.attempts, row.due_at, row.done_reason),
                          row.in_call_until, row.done_at)


def find_position(conn: Connection, skill_id: int, external_id: str,
                  for_update: bool = False) -> RecordPosition | None:
    query = _WITH_RECORD.where(cadence_record.c.skill_id == skill_id,
                               calling_record.c.external_id == external_id)
    if for_update and is_postgres(conn):
        query = query.with_for_update(of=cadence_record)
    row = conn.execute(query).first()
    return _position(row) if row else None


def position_by_record(conn: Connection, skill_id: int, record_id: int) -> RecordPosition | None:
    row = conn.execute(_WITH_RECORD.where(cadence_record.c.skill_id == skill_id,
                                          cadence_record.c.record_id == record_id)).first()
    return _position(row) if row else None


def due(conn: Connection, skill_id: int, now: datetime, limit: int,
        exclude: Sequence[int] = ()):
    """Records whose next attempt is due and not in a call, oldest due first, with their
    numbers and fields. On PostgreSQL locked against a dialer asking at the same moment."""
    query = (
        select(cadence_record.c.record_id, cadence_record.c.step, cadence_record.c.attempts,
               calling_record.c.external_id, calling_record.c.phone,
               calling_record.c.sms_destination, calling_record.c.fields)
        .join(calling_record, calling_record.c.id == cadence_record.c.record_id)
        .where(cadence_record.c.skill_id == skill_id,
               cadence_record.c.done_reason.is_(None),
               cadence_record.c.due_at <= now,
               cadence_record.c.record_id.not_in(list(exclude)),
               or_(cadence_record.c.in_call_until.is_(None),
                   cadence_record.c.in_call_until <= now))
        .order_by(cadence_record.c.due_at, cadence_record.c.record_id)
        .limit(limit)
    )
    if is_postgres(conn):
        query = query.with_for_update(of=cadence_record, skip_locked=True)
    return conn.execute(query).all()


def hand_out(conn: Connection, skill_id: int, record_ids: Sequence[int],
             until: datetime) -> None:
    if record_ids:
        conn.execute(update(cadence_record)
                     .where(cadence_record.c.skill_id == skill_id,
                            cadence_record.c.record_id.in_(list(record_ids)))
                     .values(in_call_until=until))


def save_position(conn: Connection, skill_id: int, record_id: int, position: Position,
                  now: datetime) -> None:
    conn.execute(update(cadence_record)
                 .where(cadence_record.c.skill_id == skill_id,
                        cadence_record.c.record_id == record_id)
                 .values(step=position.step, attempts=position.attempts,
                         due_at=position.due_at, done_reason=position.done_reason,
                         done_at=now if position.done else None, in_call_until=None,
                         updated_at=now))


def end_open(conn: Connection, skill_id: int, reason: str, now: datetime) -> int:
    """End every record still in the skill's cadence (the skill was stopped)."""
    return conn.execute(update(cadence_record)
                        .where(cadence_record.c.skill_id == skill_id,
                               cadence_record.c.done_reason.is_(None))
                        .values(done_reason=reason, done_at=now, due_at=None,
                                in_call_until=None, updated_at=now)).rowcount


def log_outcome(conn: Connection, skill_id: int, record_id: int, step: int, attempt: int,
                outcome: str, detail: str | None, now: datetime) -> bool:
    """Record an attempt's outcome; False when that attempt already has one (kept as it was)."""
    result = conn.execute(
        insert(conn, cadence_outcome)
        .values(skill_id=skill_id, record_id=record_id, step=step, attempt=attempt,
                outcome=outcome, detail=detail, reported_at=now)
        .on_conflict_do_nothing(index_elements=["skill_id", "record_id", "step", "attempt"])
    )
    return result.rowcount == 1


def logged_outcome(conn: Connection, skill_id: int, record_id: int, step: int,
                   attempt: int) -> str | None:
    return conn.scalar(select(cadence_outcome.c.outcome).where(
        cadence_outcome.c.skill_id == skill_id, cadence_outcome.c.record_id == record_id,
        cadence_outcome.c.step == step, cadence_outcome.c.attempt == attempt))


def insert_step_message(conn: Connection, skill_id: int, decision: Decision, step: int,
                        attempt: int, now: datetime,
                        cost_micros: int | None = None) -> int | None:
    """The message of one SMS step attempt (pending or skipped); None if it already exists:
    the unique (skill, record, step, attempt) makes a repeated step create nothing twice.
    `cost_micros`: what the text costs at its code's price (None: not priced)."""
    row = conn.execute(
        insert(conn, message)
        .values(skill_id=skill_id, record_id=decision.record_id, cadence_step=step,
                step_attempt=attempt, destination=decision.destination, body=decision.body,
                encoding=decision.encoding, segments=decision.segments,
                state=decision.state.value, skip_reason=decision.skip_reason,
                detail=decision.detail, attempts=0, created_at=now,
                cost_micros=cost_micros if decision.state is MessageState.PENDING else None)
        .on_conflict_do_nothing(
            index_elements=["skill_id", "record_id", "cadence_step", "step_attempt"])
        .returning(message.c.id)
    ).first()
    if row and skill_counters.writers_count_inserts(conn):  # in this transaction
        skill_counters.add(conn, skill_id, {(decision.state.value, decision.skip_reason or ""):
                                            [1, decision.segments]})
    return row[0] if row else None


def record_contact(conn: Connection, record_id: int) -> tuple[str | None, str | None, dict]:
    """(PhoneNumber, the SMS-capable number, the fields) of a record."""
    row = conn.execute(select(calling_record.c.phone, calling_record.c.sms_destination,
                              calling_record.c.fields)
                       .where(calling_record.c.id == record_id)).one()
    return row.phone, row.sms_destination, row.fields or {}


def step_has_texted(conn: Connection, skill_id: int, step: int, destination: str) -> bool:
    """Whether this step of the skill already texted the number (the duplicate rule)."""
    return conn.scalar(select(message.c.id).where(
        message.c.skill_id == skill_id, message.c.cadence_step == step,
        message.c.destination == destination,
        message.c.state != MessageState.SKIPPED.value).limit(1)) is not None


def open_by_skill(conn: Connection, skill_ids: Sequence[int]) -> dict[int, int]:
    """How many records each skill still has in its cadence (skills with none are absent)."""
    if not skill_ids:
        return {}
    rows = conn.execute(
        select(cadence_record.c.skill_id, func.count())
        .where(cadence_record.c.skill_id.in_(list(skill_ids)),
               cadence_record.c.done_reason.is_(None))
        .group_by(cadence_record.c.skill_id)).all()
    return {skill_id: count for skill_id, count in rows}


def outcome_counts(conn: Connection, skill_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """(step, outcome, attempts) for the skills, in step order."""
    rows = conn.execute(
        select(cadence_outcome.c.step, cadence_outcome.c.outcome, func.count())
        .where(cadence_outcome.c.skill_id.in_(list(skill_ids)))
        .group_by(cadence_outcome.c.step, cadence_outcome.c.outcome)
        .order_by(cadence_outcome.c.step, cadence_outcome.c.outcome)).all()
    return [(int(r[0]), r[1], int(r[2])) for r in rows]


def done_counts(conn: Connection, skill_ids: Sequence[int]) -> dict[str, int]:
    """How many records ended for each reason; records still going count under 'in_cadence'."""
    rows = conn.execute(
        select(func.coalesce(cadence_record.c.done_reason, "in_cadence"), func.count())
        .where(cadence_record.c.skill_id.in_(list(skill_ids)))
        .group_by(cadence_record.c.done_reason)).all()
    return {r[0]: int(r[1]) for r in rows}
