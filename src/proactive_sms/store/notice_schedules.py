"""Recurring notices (`notice_schedule`) and the history of their occurrences
(`notice_schedule_run`).

A schedule's `next_run_at` is the occurrence to fire next. Firing it is claimed by moving
`next_run_at` on with a conditional UPDATE (`WHERE next_run_at = <the occurrence>`): of several
dispatchers exactly one moves it, and only that one writes the occurrence's run (which is also
unique per schedule and moment). A run is `firing` while its skill is created and launched,
with a heartbeat, so a run whose process died is taken over and finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, delete, or_, select, update

from proactive_sms.store import paging, versions
from proactive_sms.store.errors import AlreadyExists, NotFound
from proactive_sms.store.schema import notice_schedule, notice_schedule_run
from proactive_sms.store.webhooks import aware

ACTIVE, PAUSED = "active", "paused"
FIRING, STARTED, MISSED, FAILED = "firing", "started", "missed", "failed"


@dataclass(frozen=True)
class NoticeSchedule:
    id: int
    business_unit_id: int
    name: str
    template_id: int
    calling_list_id: int
    registration_id: int
    campaign_id: int | None
    max_segments: int
    calling_window: dict | None
    cron: str
    time_zone: str
    status: str
    next_run_at: datetime
    version: int
    created_at: datetime


@dataclass(frozen=True)
class Run:
    id: int
    schedule_id: int
    due_at: datetime
    state: str
    skill_id: int | None
    detail: str | None
    claimed_by: str | None
    heartbeat_at: datetime | None
    fired_at: datetime | None


def _schedule(row) -> NoticeSchedule:
    return NoticeSchedule(row.id, row.business_unit_id, row.name, row.template_id,
                          row.calling_list_id, row.registration_id, row.campaign_id,
                          row.max_segments, row.calling_window, row.cron, row.time_zone,
                          row.status, aware(row.next_run_at), row.version, aware(row.created_at))


def _run(row) -> Run:
    return Run(row.id, row.schedule_id, aware(row.due_at), row.state, row.skill_id, row.detail,
               row.claimed_by, aware(row.heartbeat_at), aware(row.fired_at))


def create(conn: Connection, *, business_unit_id: int, name: str, template_id: int,
           calling_list_id: int, registration_id: int, campaign_id: int | None,
           max_segments: int, calling_window: dict | None, cron: str, time_zone: str,
           next_run_at: datetime, now: datetime) -> NoticeSchedule:
    if conn.scalar(select(notice_schedule.c.id).where(
            notice_schedule.c.business_unit_id == business_unit_id,
            notice_schedule.c.name == name)):
        raise AlreadyExists("schedule", name)
    conn.execute(notice_schedule.insert().values(
        business_unit_id=business_unit_id, name=name, template_id=template_id,
        calling_list_id=calling_list_id, registration_id=registration_id,
        campaign_id=campaign_id, max_segments=max_segments, calling_window=calling_window,
        cron=cron, time_zone=time_zone, status=ACTIVE, next_run_at=next_run_at,
        created_at=now))
    return find(conn, business_unit_id, name)


def find(conn: Connection, business_unit_id: int, name: str) -> NoticeSchedule:
    row = conn.execute(select(notice_schedule).where(
        notice_schedule.c.business_unit_id == business_unit_id,
        notice_schedule.c.name == name)).first()
    if row is None:
        raise NotFound("schedule", name)
    return _schedule(row)


def by_id(conn: Connection, schedule_id: int) -> NoticeSchedule:
    row = conn.execute(select(notice_schedule).where(notice_schedule.c.id == schedule_id)).first()
    if row is None:
        raise NotFound("schedule", schedule_id)
    return _schedule(row)


def page(conn: Connection, business_unit_id: int, after_id: int,
         limit: int) -> paging.Page[NoticeSchedule]:
    query = select(notice_schedule).where(notice_schedule.c.business_unit_id == business_unit_id)
    return paging.fetch(conn, query, notice_schedule.c.id, after_id, limit, _schedule)


def change(conn: Connection, found: NoticeSchedule, expected_version: int | None,
           **values) -> NoticeSchedule:
    """Write these columns and raise the version (StaleVersion when another change won)."""
    versions.change(conn, notice_schedule, found.id, expected_version, "schedule", found.name,
                    **values)
    return by_id(conn, found.id)


def remove(conn: Connection, found: NoticeSchedule, expected_version: int | None) -> None:
    """The schedule and its history (the skills it started stay, with their reports)."""
    versions.change(conn, notice_schedule, found.id, expected_version, "schedule", found.name)
    conn.execute(delete(notice_schedule_run)
                 .where(notice_schedule_run.c.schedule_id == found.id))
    conn.execute(delete(notice_schedule).where(notice_schedule.c.id == found.id))


def due(conn: Connection, now: datetime, limit: int = 100) -> list[NoticeSchedule]:
    """Active schedules whose next occurrence has come."""
    rows = conn.execute(select(notice_schedule).where(
        notice_schedule.c.status == ACTIVE, notice_schedule.c.next_run_at <= now)
        .order_by(notice_schedule.c.next_run_at).limit(limit))
    return [_schedule(r) for r in rows]


def claim_occurrence(conn: Connection, found: NoticeSchedule, following: datetime,
                     state: str, worker: str, now: datetime,
                     detail: str | None = None) -> Run | None:
    """Move the schedule past its due occurrence and record the occurrence's run (`firing`
    with this worker's claim, or `missed`); None when another worker moved it first."""
    moved = conn.execute(update(notice_schedule).where(
        notice_schedule.c.id == found.id, notice_schedule.c.status == ACTIVE,
        notice_schedule.c.next_run_at == found.next_run_at)
        .values(next_run_at=following)).rowcount
    if moved != 1:
        return None
    run_id = conn.execute(notice_schedule_run.insert().values(
        schedule_id=found.id, due_at=found.next_run_at, state=state, detail=detail,
        claimed_by=worker if state == FIRING else None,
        heartbeat_at=now if state == FIRING else None,
        fired_at=None if state == FIRING else now)).inserted_primary_key[0]
    return run_by_id(conn, run_id)


def run_by_id(conn: Connection, run_id: int) -> Run:
    row = conn.execute(select(notice_schedule_run)
                       .where(notice_schedule_run.c.id == run_id)).first()
    if row is None:
        raise NotFound("schedule run", run_id)
    return _run(row)


def _stale(stale_before: datetime):
    return and_(notice_schedule_run.c.state == FIRING,
                or_(notice_schedule_run.c.heartbeat_at.is_(None),
                    notice_schedule_run.c.heartbeat_at < stale_before))


def stale_runs(conn: Connection, stale_before: datetime, limit: int = 100) -> list[Run]:
    """Runs left firing by a process that stopped (or handed back at a shutdown)."""
    rows = conn.execute(select(notice_schedule_run).where(_stale(stale_before))
                        .order_by(notice_schedule_run.c.id).limit(limit))
    return [_run(r) for r in rows]


def claim_stale_run(conn: Connection, run_id: int, worker: str, now: datetime,
                    stale_before: datetime) -> bool:
    return conn.execute(update(notice_schedule_run).where(
        notice_schedule_run.c.id == run_id, _stale(stale_before))
        .values(claimed_by=worker, heartbeat_at=now)).rowcount == 1


def heartbeat(conn: Connection, run_id: int, worker: str, now: datetime | None,
              skill_id: int | None = None) -> bool:
    """Renew the run's claim (None: hand it back); also note the skill once it exists."""
    values: dict = {"heartbeat_at": now}
    if skill_id is not None:
        values["skill_id"] = skill_id
    return conn.execute(update(notice_schedule_run).where(
        notice_schedule_run.c.id == run_id, notice_schedule_run.c.state == FIRING,
        notice_schedule_run.c.claimed_by == worker).values(**values)).rowcount == 1


def settle(conn: Connection, run_id: int, worker: str, state: str, now: datetime,
           skill_id: int | None = None, detail: str | None = None) -> bool:
    return conn.execute(update(notice_schedule_run).where(
        notice_schedule_run.c.id == run_id, notice_schedule_run.c.state == FIRING,
        notice_schedule_run.c.claimed_by == worker).values(
        state=state, fired_at=now, skill_id=skill_id, detail=detail)).rowcount == 1


def runs(conn: Connection, schedule_id: int, after_id: int, limit: int) -> paging.Page[Run]:
    """The schedule's occurrences, oldest first, a page at a time."""
    query = select(notice_schedule_run).where(notice_schedule_run.c.schedule_id == schedule_id)
    return paging.fetch(conn, query, notice_schedule_run.c.id, after_id, limit, _run)


def latest_runs(conn: Connection, schedule_id: int, limit: int) -> list[Run]:
    """The schedule's latest occurrences, newest first."""
    rows = conn.execute(select(notice_schedule_run)
                        .where(notice_schedule_run.c.schedule_id == schedule_id)
                        .order_by(notice_schedule_run.c.id.desc()).limit(limit))
    return [_run(r) for r in rows]


def using(conn: Connection, *, template_id: int | None = None,
          calling_list_id: int | None = None,
          registration_id: int | None = None) -> list[NoticeSchedule]:
    """The schedules that send this template, to this list, or from this code."""
    condition = []
    if template_id is not None:
        condition.append(notice_schedule.c.template_id == template_id)
    if calling_list_id is not None:
        condition.append(notice_schedule.c.calling_list_id == calling_list_id)
    if registration_id is not None:
        condition.append(notice_schedule.c.registration_id == registration_id)
    rows = conn.execute(select(notice_schedule).where(or_(*condition)))
    return [_schedule(r) for r in rows]
