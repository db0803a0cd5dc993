"""Skills started at a moment: `skill_start`, one row per scheduled skill.

States: `waiting` (its moment has not come; the skill is `scheduled`), `firing` (a dispatcher
claimed it and is launching), then `started`, `missed` (its moment passed longer than the
grace ago while no dispatcher ran), `failed` (the start was refused at the moment: the detail
says why) or `cancelled`. Every change is a conditional UPDATE on the state, so two
dispatchers never both fire one, and a cancel or move never lands on a start under way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, delete, or_, select, update

from proactive_sms.store.errors import StaleVersion
from proactive_sms.store.schema import skill_start
from proactive_sms.store.webhooks import aware

WAITING, FIRING, STARTED, MISSED, FAILED, CANCELLED = (
    "waiting", "firing", "started", "missed", "failed", "cancelled")


class NotWaiting(RuntimeError):
    """A move or cancel of a start that is no longer waiting (fired, or cancelled)."""


@dataclass(frozen=True)
class SkillStart:
    skill_id: int
    start_at: datetime
    time_zone: str | None
    state: str
    detail: str | None
    claimed_by: str | None
    heartbeat_at: datetime | None
    fired_at: datetime | None
    version: int
    created_at: datetime


def _start(row) -> SkillStart:
    return SkillStart(row.skill_id, aware(row.start_at), row.time_zone, row.state, row.detail,
                      row.claimed_by, aware(row.heartbeat_at), aware(row.fired_at), row.version,
                      aware(row.created_at))


def put(conn: Connection, skill_id: int, start_at: datetime, time_zone: str | None,
        now: datetime) -> SkillStart:
    """A waiting start for the skill (replacing an earlier, settled one)."""
    old = get(conn, skill_id)
    conn.execute(delete(skill_start).where(skill_start.c.skill_id == skill_id))
    conn.execute(skill_start.insert().values(
        skill_id=skill_id, start_at=start_at, time_zone=time_zone, state=WAITING,
        version=(old.version + 1) if old else 1, created_at=now))
    return get(conn, skill_id)


def get(conn: Connection, skill_id: int) -> SkillStart | None:
    row = conn.execute(select(skill_start).where(skill_start.c.skill_id == skill_id)).first()
    return _start(row) if row else None


def of_skills(conn: Connection, skill_ids: Iterable[int]) -> dict[int, SkillStart]:
    """The starts of these skills (for lists that show when each scheduled skill starts)."""
    wanted = sorted(set(skill_ids))
    if not wanted:
        return {}
    rows = conn.execute(select(skill_start).where(skill_start.c.skill_id.in_(wanted)))
    return {row.skill_id: _start(row) for row in rows}


def move(conn: Connection, skill_id: int, start_at: datetime, time_zone: str | None,
         expected_version: int | None, name: str) -> SkillStart:
    """A waiting start moved to another moment; NotWaiting or StaleVersion otherwise."""
    _change_waiting(conn, skill_id, expected_version, name,
                    start_at=start_at, time_zone=time_zone)
    return get(conn, skill_id)


def cancel(conn: Connection, skill_id: int, expected_version: int | None, name: str,
           now: datetime) -> None:
    """A waiting start cancelled; NotWaiting or StaleVersion otherwise."""
    _change_waiting(conn, skill_id, expected_version, name, state=CANCELLED, fired_at=now,
                    detail="cancelled")


def cancel_if_waiting(conn: Connection, skill_id: int, now: datetime) -> None:
    """Cancel the skill's start if one is waiting (the skill is being stopped)."""
    conn.execute(update(skill_start).where(skill_start.c.skill_id == skill_id,
                                           skill_start.c.state == WAITING)
                 .values(state=CANCELLED, fired_at=now, detail="the skill was stopped",
                         version=skill_start.c.version + 1))


def _change_waiting(conn: Connection, skill_id: int, expected_version: int | None, name: str,
                    **values) -> None:
    condition = [skill_start.c.skill_id == skill_id, skill_start.c.state == WAITING]
    if expected_version is not None:
        condition.append(skill_start.c.version == expected_version)
    done = conn.execute(update(skill_start).where(*condition)
                        .values(version=skill_start.c.version + 1, **values)).rowcount
    if done == 1:
        return
    now = get(conn, skill_id)
    if now is None or now.state != WAITING:
        raise NotWaiting(f"skill '{name}' has no start waiting"
                         + (f" (its start is {now.state})" if now else ""))
    raise StaleVersion("scheduled start", name, expected_version, now.version)


def _claimable(now: datetime, stale_before: datetime):
    return or_(and_(skill_start.c.state == WAITING, skill_start.c.start_at <= now),
               and_(skill_start.c.state == FIRING,
                    or_(skill_start.c.heartbeat_at.is_(None),
                        skill_start.c.heartbeat_at < stale_before)))


def due(conn: Connection, now: datetime, stale_before: datetime, limit: int = 100) -> list[int]:
    """Skills whose start is due, or whose firing was left by a process that stopped."""
    return list(conn.scalars(select(skill_start.c.skill_id)
                             .where(_claimable(now, stale_before))
                             .order_by(skill_start.c.start_at).limit(limit)))


def claim(conn: Connection, skill_id: int, worker: str, now: datetime,
          stale_before: datetime) -> bool:
    """Take the start to fire it: True for exactly one of several workers asking at once."""
    return conn.execute(update(skill_start).where(
        skill_start.c.skill_id == skill_id, _claimable(now, stale_before))
        .values(state=FIRING, claimed_by=worker, heartbeat_at=now)).rowcount == 1


def heartbeat(conn: Connection, skill_id: int, worker: str, now: datetime | None) -> bool:
    """Renew the claim (None: hand it back at once, for a launch interrupted by a shutdown);
    False when another worker has taken it over."""
    return conn.execute(update(skill_start).where(
        skill_start.c.skill_id == skill_id, skill_start.c.state == FIRING,
        skill_start.c.claimed_by == worker).values(heartbeat_at=now)).rowcount == 1


def settle(conn: Connection, skill_id: int, worker: str, state: str, now: datetime,
           detail: str | None = None) -> bool:
    """The outcome of a firing this worker holds."""
    return conn.execute(update(skill_start).where(
        skill_start.c.skill_id == skill_id, skill_start.c.state == FIRING,
        skill_start.c.claimed_by == worker).values(
        state=state, fired_at=now, detail=detail)).rowcount == 1


def forget(conn: Connection, skill_id: int) -> None:
    """Drop the skill's start (the skill is being deleted)."""
    conn.execute(delete(skill_start).where(skill_start.c.skill_id == skill_id))

