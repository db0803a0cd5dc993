"""Kept counters of each skill's texts: what reports and the dashboard read instead of counting.

Triggers on `message` (migration 0011) keep `skill_counter` (texts by state and skip reason, with
their segments) and `skill_minute` (texts sent and delivered per minute) in the transaction of
every change of a message's state, whoever makes it. Reading them costs the same for a skill of
ten texts or of a million: a few rows per key, not a row per text.

What a caller may rely on:
- Counts are exact at the snapshot read: a change and its counting commit together.
- `waiting` is a pending text held until a later moment (calling window, frequency cap, retry):
  it stays counted as waiting from when it is held until it is taken (claimed, cancelled, ...),
  even in the moments between its window opening and the dispatcher reaching it.
- On PostgreSQL each backend writes rows of its own (shard = its pid), so concurrent writers
  never wait for one another on a counter and never deadlock on one; reads sum the shards, and
  `fold` folds the shards of backends that ended into shard 0, keeping the rows few.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, text

from proactive_sms.domain.message_states import MessageState
from proactive_sms.store.dialect import is_postgres
from proactive_sms.store.schema import message, skill_counter, skill_minute

# The counted state of a pending text held until a later moment.
WAITING = "waiting"

# The counting triggers of migration 0011 on each database.
TRIGGERS = {
    "postgresql": frozenset({"psms_count_message_insert", "psms_count_message_update",
                             "psms_count_message_delete"}),
    "sqlite": frozenset({"psms_count_message_insert_minute",
                         "psms_count_message_update", "psms_count_message_sent",
                         "psms_count_message_delivered", "psms_count_message_delete"}),
}


@dataclass(frozen=True)
class Count:
    state: str  # a MessageState value, or WAITING
    skip_reason: str | None
    messages: int
    segments: int


def counts(conn: Connection, skill_ids: Sequence[int]) -> dict[int, list[Count]]:
    """Each skill's counts by counted state and skip reason (skills without texts: absent)."""
    found: dict[int, list[Count]] = defaultdict(list)
    if not skill_ids:
        return found
    rows = conn.execute(
        select(skill_counter.c.skill_id, skill_counter.c.state, skill_counter.c.skip_reason,
               func.sum(skill_counter.c.messages), func.sum(skill_counter.c.segments))
        .where(skill_counter.c.skill_id.in_(list(skill_ids)))
        .group_by(skill_counter.c.skill_id, skill_counter.c.state, skill_counter.c.skip_reason)
        .order_by(skill_counter.c.skill_id, skill_counter.c.state,
                  skill_counter.c.skip_reason))
    for skill_id, state, reason, messages, segments in rows:
        if messages:
            found[skill_id].append(Count(state, reason or None, int(messages), int(segments)))
    return found


@dataclass(frozen=True)
class Minute:
    minute: datetime
    sent: int
    delivered: int


def minutes(conn: Connection, skill_ids: Sequence[int], since: datetime) -> list[Minute]:
    """Texts sent and delivered per minute from `since` on, the skills together, in order
    (minutes with neither are absent)."""
    if not skill_ids:
        return []
    rows = conn.execute(
        select(skill_minute.c.minute, func.sum(skill_minute.c.sent),
               func.sum(skill_minute.c.delivered))
        .where(skill_minute.c.skill_id.in_(list(skill_ids)), skill_minute.c.minute >= since)
        .group_by(skill_minute.c.minute).order_by(skill_minute.c.minute))
    return [Minute(minute, int(sent), int(delivered)) for minute, sent, delivered in rows]


def minutes_by_skill(conn: Connection, skill_ids: Sequence[int],
                     since: datetime) -> dict[int, list[Minute]]:
    """`minutes` for each skill on its own, in one query."""
    found: dict[int, list[Minute]] = defaultdict(list)
    if not skill_ids:
        return found
    rows = conn.execute(
        select(skill_minute.c.skill_id, skill_minute.c.minute, func.sum(skill_minute.c.sent),
               func.sum(skill_minute.c.delivered))
        .where(skill_minute.c.skill_id.in_(list(skill_ids)), skill_minute.c.minute >= since)
        .group_by(skill_minute.c.skill_id, skill_minute.c.minute)
        .order_by(skill_minute.c.skill_id, skill_minute.c.minute))
    for skill_id, minute, sent, delivered in rows:
        found[skill_id].append(Minute(minute, int(sent), int(delivered)))
    return found


@dataclass(frozen=True)
class SentWindow:
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    sent: int  # texts that were accepted by the carrier, whatever became of them after


def sent_windows(conn: Connection, skill_ids: Sequence[int]) -> dict[int, SentWindow]:
    """Each skill's first and last submit accepted, and how many (for the achieved rate)."""
    if not skill_ids:
        return {}
    rows = conn.execute(
        select(skill_minute.c.skill_id, func.min(skill_minute.c.first_sent_at),
               func.max(skill_minute.c.last_sent_at), func.sum(skill_minute.c.sent))
        .where(skill_minute.c.skill_id.in_(list(skill_ids)))
        .group_by(skill_minute.c.skill_id))
    return {skill_id: SentWindow(first, last, int(sent or 0))
            for skill_id, first, last, sent in rows}


def sent_window(conn: Connection, skill_ids: Sequence[int]) -> SentWindow:
    """`sent_windows` of the skills together."""
    windows = list(sent_windows(conn, skill_ids).values())
    firsts = [w.first_sent_at for w in windows if w.first_sent_at]
    lasts = [w.last_sent_at for w in windows if w.last_sent_at]
    return SentWindow(min(firsts) if firsts else None, max(lasts) if lasts else None,
                      sum(w.sent for w in windows))


def next_due(conn: Connection, skill_ids: Sequence[int], now: datetime) -> datetime | None:
    """The earliest moment after `now` a held text of these skills may go (a calling window's
    opening, a cap's end, a retry), from the partial index of held texts."""
    if not skill_ids:
        return None
    return conn.scalar(
        select(func.min(message.c.next_attempt_at))
        .where(message.c.skill_id.in_(list(skill_ids)),
               message.c.state == MessageState.PENDING.value,
               message.c.next_attempt_at.is_not(None),
               message.c.next_attempt_at > now))


_ADD_SQLITE = (
    "INSERT INTO skill_counter (skill_id, state, skip_reason, shard, messages, segments) "
    "VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (skill_id, state, skip_reason, shard) DO UPDATE SET "
    "messages = messages + excluded.messages, segments = segments + excluded.segments"
)


def writers_count_inserts(conn: Connection) -> bool:
    """Whether a writer that inserts texts of a skill must count them itself (`add`): on
    SQLite, where no per-row insert trigger does (it cost launch several microseconds a row).
    PostgreSQL's statement trigger counts every insert."""
    return not is_postgres(conn)


def add(conn: Connection, skill_id: int, counts: dict[tuple[str, str], list[int]]) -> None:
    """Add texts a writer inserted to the skill's counters, in its transaction (SQLite: see
    `writers_count_inserts`). `counts`: (state, skip reason or '') -> [texts, segments]; texts
    inserted pending with a next_attempt_at count as WAITING."""
    if counts:
        conn.exec_driver_sql(_ADD_SQLITE, [
            (skill_id, state, reason, messages, segments)
            for (state, reason), (messages, segments) in counts.items()])


_FOLD_LOCK_KEY = 0x7053_4346  # "pSCF"


def fold(conn: Connection) -> int:
    """Fold the shards of PostgreSQL backends that ended into shard 0; returns the rows folded.

    Safe beside live writers: a folded row is deleted under its row lock and its counts added
    to shard 0 in the same statement; a backend that takes over a folded row's pid later
    simply makes the row again. Nothing to do on SQLite (one shard).
    """
    if not is_postgres(conn):
        return 0
    # One fold at a time (several workers may try): the others have nothing to do meanwhile.
    if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _FOLD_LOCK_KEY}):
        return 0
    folded = conn.execute(text("""
        WITH gone AS (
            DELETE FROM skill_counter
            WHERE shard <> 0 AND shard NOT IN (SELECT pid FROM pg_stat_activity)
            RETURNING skill_id, state, skip_reason, messages, segments
        ), summed AS (
            SELECT skill_id, state, skip_reason, sum(messages) AS messages,
                   sum(segments) AS segments, count(*) AS n
            FROM gone GROUP BY skill_id, state, skip_reason
        ), added AS (
            INSERT INTO skill_counter AS c (skill_id, state, skip_reason, shard, messages,
                                            segments)
            SELECT skill_id, state, skip_reason, 0, messages, segments FROM summed
            ORDER BY skill_id, state, skip_reason
            ON CONFLICT (skill_id, state, skip_reason, shard) DO UPDATE
            SET messages = c.messages + excluded.messages,
                segments = c.segments + excluded.segments
        )
        SELECT coalesce(sum(n), 0) FROM summed""")).scalar_one()
    folded_minutes = conn.execute(text("""
        WITH gone AS (
            DELETE FROM skill_minute
            WHERE shard <> 0 AND shard NOT IN (SELECT pid FROM pg_stat_activity)
            RETURNING skill_id, minute, sent, delivered, first_sent_at, last_sent_at
        ), summed AS (
            SELECT skill_id, minute, sum(sent) AS sent, sum(delivered) AS delivered,
                   min(first_sent_at) AS first_sent_at, max(last_sent_at) AS last_sent_at,
                   count(*) AS n
            FROM gone GROUP BY skill_id, minute
        ), added AS (
            INSERT INTO skill_minute AS m (skill_id, minute, shard, sent, delivered,
                                           first_sent_at, last_sent_at)
            SELECT skill_id, minute, 0, sent, delivered, first_sent_at, last_sent_at
            FROM summed ORDER BY skill_id, minute
            ON CONFLICT (skill_id, minute, shard) DO UPDATE
            SET sent = m.sent + excluded.sent, delivered = m.delivered + excluded.delivered,
                first_sent_at = LEAST(m.first_sent_at, excluded.first_sent_at),
                last_sent_at = GREATEST(m.last_sent_at, excluded.last_sent_at)
        )
        SELECT coalesce(sum(n), 0) FROM summed""")).scalar_one()
    from proactive_sms.store import spend  # its spend counters fold on the same schedule

    return int(folded) + int(folded_minutes) + spend.fold(conn)


def triggers_present(conn: Connection) -> set[str]:
    """The counting triggers the database has (all of its TRIGGERS, unless a table rebuild
    lost some)."""
    if is_postgres(conn):
        names = conn.scalars(text(
            "SELECT DISTINCT tgname FROM pg_trigger WHERE tgrelid = 'message'::regclass"))
    else:
        names = conn.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'message'"))
    return set(names) & TRIGGERS[conn.dialect.name]
