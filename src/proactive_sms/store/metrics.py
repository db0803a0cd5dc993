"""What `/metrics` reads, per transport code: texts by state, recent submits, receipt latencies.

These run at each scrape, against indexes the dispatcher already has (no migration of their own):
- texts by state: skill texts from the kept counters (store.skill_counters: a few rows per
  skill), system texts grouped over the covering (registration_id, state, id) index;
- submits of the last minute: found through the partial (destination, submitted_at) index, and
  only those rows read;
- receipt latencies: the newest receipted texts of the skills still in play, newest first
  through (skill_id, state, id) with a LIMIT.
Submits of the last minute still grow with the traffic of that minute; texts by state no longer
grow with the texts kept (they did, 0.1-0.4 s at 500,000 texts, before the kept counters).
Skill texts are tied to their code through their skill; system texts carry the code themselves.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, or_, select

from proactive_sms.domain.message_states import MessageState
from proactive_sms.store.schema import message, skill, skill_counter, sms_registration
from proactive_sms.store.skills import SkillStatus

# Final states a delivery receipt leads to (`expired` also ends texts that never left: those have
# no sent_at and are not counted as receipts).
RECEIPT_STATES = (MessageState.DELIVERED, MessageState.UNDELIVERABLE, MessageState.EXPIRED)


def ping(conn: Connection) -> None:
    conn.execute(select(1))


def codes(conn: Connection) -> dict[int, str]:
    """Every registration's id and code."""
    return dict(conn.execute(select(sms_registration.c.id, sms_registration.c.code)).all())


def _skill_codes(conn: Connection) -> dict[int, int]:
    return dict(conn.execute(select(skill.c.id, skill.c.registration_id)).all())


def texts_by_state(conn: Connection) -> Counter[tuple[int, str]]:
    """(registration id, state) -> how many texts, skill texts and system texts together."""
    code_of_skill = _skill_codes(conn)
    counts: Counter[tuple[int, str]] = Counter()
    # Skill texts from the kept counters (store.skill_counters): a held text is pending.
    by_skill = conn.execute(
        select(skill_counter.c.skill_id, skill_counter.c.state,
               func.sum(skill_counter.c.messages))
        .group_by(skill_counter.c.skill_id, skill_counter.c.state))
    for skill_id, state, count in by_skill:
        if count:
            state = MessageState.PENDING.value if state == "waiting" else state
            counts[(code_of_skill[skill_id], state)] += int(count)
    by_code = conn.execute(
        select(message.c.registration_id, message.c.state, func.count())
        .where(message.c.registration_id.is_not(None), message.c.skill_id.is_(None))
        .group_by(message.c.registration_id, message.c.state))
    for registration_id, state, count in by_code:
        counts[(registration_id, state)] += count
    return counts


def submitted_since(conn: Connection, since: datetime) -> Counter[int]:
    """Registration id -> texts submitted at or after `since`."""
    code_of_skill = _skill_codes(conn)
    # The inner query alone is answered from the partial index on submitted_at; asked in one
    # query with the grouping, SQLite's planner would walk the whole table instead.
    recent = select(message.c.id).where(message.c.submitted_at >= since).scalar_subquery()
    rows = conn.execute(
        select(message.c.skill_id, message.c.registration_id, func.count())
        .where(message.c.id.in_(recent))
        .group_by(message.c.skill_id, message.c.registration_id))
    counts: Counter[int] = Counter()
    for skill_id, registration_id, count in rows:
        code = code_of_skill[skill_id] if skill_id is not None else registration_id
        counts[code] += count
    return counts


def receipt_latencies(conn: Connection, now: datetime, per_code: int = 1000,
                      recent: timedelta = timedelta(hours=1)) -> dict[int, list[float]]:
    """Registration id -> seconds from the carrier's acceptance to the final receipt, for the
    newest `per_code` receipted texts of the skills still in play (running or paused, or finished
    within `recent`) and of the code's system texts."""
    in_play = conn.execute(
        select(skill.c.id, skill.c.registration_id).where(or_(
            skill.c.status.in_([SkillStatus.RUNNING.value, SkillStatus.PAUSED.value]),
            skill.c.finished_at >= now - recent)))
    sources = [(message.c.skill_id == skill_id, registration_id)
               for skill_id, registration_id in in_play]
    sources += [(message.c.registration_id == registration_id, registration_id)
                for registration_id in codes(conn)]
    found: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for where, registration_id in sources:
        for state in RECEIPT_STATES:
            rows = conn.execute(
                select(message.c.id, message.c.sent_at, message.c.finished_at)
                .where(where, message.c.state == state.value, message.c.sent_at.is_not(None),
                       message.c.finished_at.is_not(None))
                .order_by(message.c.id.desc()).limit(per_code))
            found[registration_id].extend(
                (row.id, max(0.0, (_aware(row.finished_at) - _aware(row.sent_at))
                         .total_seconds())) for row in rows)
    return {code: [seconds for _, seconds in sorted(pairs, reverse=True)[:per_code]]
            for code, pairs in found.items()}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive UTC
