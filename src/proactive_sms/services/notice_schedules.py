"""Recurring notices: a saved template sent to a calling list from a transport code at every
occurrence of a schedule ("every weekday at 09:00" in the business unit's zone, or a cron
expression in a zone). Each occurrence starts a fresh skill named "<schedule> 2027-01-04 09:00"
(services.schedule_firing); the schedule's history lists each occurrence with its skill and
outcome. A schedule is paused, resumed, changed and deleted here; while paused its
occurrences are neither fired nor recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from proactive_sms.domain import schedules
from proactive_sms.domain.clock import Clock
from proactive_sms.services import audit, broadcasts, launching
from proactive_sms.services.administration import SKILL_NAME, InvalidRequest, checked_name
from proactive_sms.services.listing import PageRequest
from proactive_sms.store import (
    calling_lists,
    notice_schedules,
    registrations,
    skills,
    templates,
    tenancy,
)
from proactive_sms.store.notice_schedules import ACTIVE, PAUSED, NoticeSchedule, Run
from proactive_sms.store.paging import Page
from proactive_sms.store.tenancy import BusinessUnit

# "<name>-20270104-0900": the run's skill name must fit the rule for skill names.
_RUN_SUFFIX_CHARS = len("-20270104-0900")
CHANGEABLE = ("cron", "every", "at", "time_zone", "max_segments", "calling_window")


@dataclass(frozen=True)
class ScheduleView:
    """A schedule with the names of what it sends, to whom and from where."""

    schedule: NoticeSchedule
    template: str
    calling_list: str
    registration: str
    campaign: str | None

    @property
    def recurrence(self) -> schedules.Recurrence:
        return schedules.Recurrence(self.schedule.cron, self.schedule.time_zone)

    @property
    def describe(self) -> str:
        return self.recurrence.describe()

    @property
    def next_run_local(self) -> datetime:
        return self.schedule.next_run_at.astimezone(schedules.zone(self.schedule.time_zone))

    def as_dict(self) -> dict[str, Any]:
        s = self.schedule
        return {"name": s.name, "status": s.status, "template": self.template,
                "calling_list": self.calling_list, "registration": self.registration,
                "campaign": self.campaign, "cron": s.cron, "time_zone": s.time_zone,
                "describe": self.describe, "max_segments": s.max_segments,
                "calling_window": s.calling_window,
                "next_run_at": (self.next_run_local.isoformat() if s.status == ACTIVE
                                else None),
                "version": s.version, "created_at": s.created_at.isoformat()}


@dataclass(frozen=True)
class RunView:
    """One occurrence: when it was due, what it started, how it ended. Its moments are shown
    in the schedule's zone, as its next run and its skills' names are."""

    run: Run
    skill: str | None
    skill_status: str | None
    time_zone: str  # the schedule's

    @property
    def due_local(self) -> datetime:
        return self.run.due_at.astimezone(schedules.zone(self.time_zone))

    @property
    def fired_local(self) -> datetime | None:
        fired = self.run.fired_at
        return fired.astimezone(schedules.zone(self.time_zone)) if fired else None

    def as_dict(self) -> dict[str, Any]:
        r, fired = self.run, self.fired_local
        return {"due_at": self.due_local.isoformat(), "outcome": r.state, "skill": self.skill,
                "skill_status": self.skill_status, "detail": r.detail,
                "fired_at": fired.isoformat() if fired else None,
                "time_zone": self.time_zone}


def recurrence_of(bu: BusinessUnit, *, cron: str | None = None, every: str | None = None,
                  at: str | None = None, time_zone: str | None = None) -> schedules.Recurrence:
    """The checked recurrence; without a zone, the business unit's."""
    zone = time_zone or bu.time_zone
    if not zone:
        raise InvalidRequest("give a time zone: the business unit has none set "
                             "(psms init --time-zone ZONE sets it)", "time_zone")
    try:
        return schedules.recurrence(time_zone=zone, cron=cron, every=every, at=at)
    except schedules.ScheduleError as exc:
        raise InvalidRequest(str(exc), exc.field) from exc


def create(engine: Engine, bu: BusinessUnit, clock: Clock, *, name: str, template: str,
           calling_list: str, registration: str, cron: str | None = None,
           every: str | None = None, at: str | None = None, time_zone: str | None = None,
           campaign: str | None = None, max_segments: int = 3,
           calling_window: dict | None = None, actor: str | None = None) -> ScheduleView:
    """A new, active recurring notice. Its template must fit its list now, as a start needs."""
    checked_name("schedule", name)
    if not SKILL_NAME.fullmatch(schedules.run_name(name, clock.now(), "UTC")):
        raise InvalidRequest(f"a schedule name has 1 to {30 - _RUN_SUFFIX_CHARS} characters: "
                             "letters, digits, - _ . : (each run's skill is named after it "
                             f"and the moment, as '{name[:16]}-20270104-0900')", "name")
    rule = recurrence_of(bu, cron=cron, every=every, at=at, time_zone=time_zone)
    now = clock.now()
    planned = broadcasts.plan(engine, bu, clock, broadcasts.Broadcast(
        registration=registration, calling_list=calling_list, template=template,
        max_segments=max_segments, calling_window=calling_window,
        name=schedules.run_name(name, now, rule.time_zone)))
    with engine.begin() as conn:
        launching.check_startable(conn, planned)
        campaign_id = skills.find_campaign(conn, bu.id, campaign).id if campaign else None
        created = notice_schedules.create(
            conn, business_unit_id=bu.id, name=name, template_id=planned.template_id,
            calling_list_id=planned.calling_list_id, registration_id=planned.registration_id,
            campaign_id=campaign_id, max_segments=max_segments, calling_window=calling_window,
            cron=rule.cron, time_zone=rule.time_zone, next_run_at=rule.next_after(now),
            now=now)
        audit.record(conn, None, "schedule.created", name, {"schedule": rule.describe()},
                     bu=bu, now=now, username=actor)
        return _view(conn, created)


def show(engine: Engine, bu: BusinessUnit, name: str) -> ScheduleView:
    with engine.connect() as conn:
        return _view(conn, notice_schedules.find(conn, bu.id, name))


def page(engine: Engine, bu: BusinessUnit, request: PageRequest) -> Page[ScheduleView]:
    with engine.connect() as conn:
        found = notice_schedules.page(conn, bu.id, request.after_id, request.limit)
        return Page([_view(conn, s) for s in found.items], found.last_id, found.more)


def change(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, changes: dict[str, Any],
           expected_version: int | None = None, actor: str | None = None) -> ScheduleView:
    """Change when it runs (cron, or every/at; time_zone) or what each run's skill gets
    (max_segments, calling_window); the next occurrence is counted again from now."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise InvalidRequest(f"cannot change {', '.join(sorted(unknown))} of a schedule",
                             sorted(unknown)[0])
    now = clock.now()
    with engine.begin() as conn:
        found = notice_schedules.find(conn, bu.id, name)
        values: dict[str, Any] = {}
        if {"cron", "every", "at", "time_zone"} & set(changes):
            timing = {k: changes.get(k) for k in ("cron", "every", "at")}
            if not any(timing.values()):
                timing["cron"] = found.cron
            rule = recurrence_of(bu, time_zone=changes.get("time_zone") or found.time_zone,
                                 **timing)
            values.update(cron=rule.cron, time_zone=rule.time_zone,
                          next_run_at=rule.next_after(now))
        if "max_segments" in changes:
            segments = changes["max_segments"]
            if not isinstance(segments, int) or not 1 <= segments <= 10:
                raise InvalidRequest(f"max segments must be 1..10, got {segments}",
                                     "max_segments")
            values["max_segments"] = segments
        if "calling_window" in changes:
            from proactive_sms.domain.calling_windows import SkillWindow

            try:
                SkillWindow.from_config(changes["calling_window"])
            except ValueError as exc:
                raise InvalidRequest(str(exc), "calling_window") from exc
            values["calling_window"] = changes["calling_window"]
        changed = notice_schedules.change(conn, found, expected_version, **values)
        audit.record(conn, None, "schedule.changed", name, changes, bu=bu, now=now,
                     username=actor)
        return _view(conn, changed)


def pause(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
          expected_version: int | None = None, actor: str | None = None) -> ScheduleView:
    """No occurrence fires (nor is recorded as missed) until resumed."""
    return _set_status(engine, bu, clock, name, PAUSED, expected_version, actor)


def resume(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
           expected_version: int | None = None, actor: str | None = None) -> ScheduleView:
    """Active again, from its next occurrence after now."""
    return _set_status(engine, bu, clock, name, ACTIVE, expected_version, actor)


def _set_status(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, status: str,
                expected_version: int | None, actor: str | None) -> ScheduleView:
    now = clock.now()
    with engine.begin() as conn:
        found = notice_schedules.find(conn, bu.id, name)
        values: dict[str, Any] = {"status": status}
        if status == ACTIVE:
            values["next_run_at"] = schedules.Recurrence(found.cron,
                                                         found.time_zone).next_after(now)
        changed = notice_schedules.change(conn, found, expected_version, **values)
        audit.record(conn, None, f"schedule.{'paused' if status == PAUSED else 'resumed'}",
                     name, "", bu=bu, now=now, username=actor)
        return _view(conn, changed)


def remove(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
           expected_version: int | None = None, actor: str | None = None) -> None:
    """Delete the schedule and its history; the skills it started stay, with their reports."""
    with engine.begin() as conn:
        found = notice_schedules.find(conn, bu.id, name)
        notice_schedules.remove(conn, found, expected_version)
        audit.record(conn, None, "schedule.deleted", name, "", bu=bu, now=clock.now(),
                     username=actor)


def history(engine: Engine, bu: BusinessUnit, name: str,
            request: PageRequest = PageRequest()) -> Page[RunView]:
    """The schedule's occurrences, oldest first: when due, the skill started, the outcome."""
    with engine.connect() as conn:
        found = notice_schedules.find(conn, bu.id, name)
        runs = notice_schedules.runs(conn, found.id, request.after_id, request.limit)
        return Page(_run_views(conn, found, runs.items), runs.last_id, runs.more)


def latest(engine: Engine, bu: BusinessUnit, name: str, limit: int = 20) -> list[RunView]:
    """The schedule's latest occurrences, newest first."""
    with engine.connect() as conn:
        found = notice_schedules.find(conn, bu.id, name)
        return _run_views(conn, found, notice_schedules.latest_runs(conn, found.id, limit))


def _run_views(conn, schedule: NoticeSchedule, runs: list[Run]) -> list[RunView]:
    ids = [r.skill_id for r in runs if r.skill_id is not None]
    found = {s.id: s for s in (skills.skill_by_id(conn, i) for i in set(ids))}
    return [RunView(r, found[r.skill_id].name if r.skill_id in found else None,
                    found[r.skill_id].status.value if r.skill_id in found else None,
                    schedule.time_zone)
            for r in runs]


def _view(conn, found: NoticeSchedule) -> ScheduleView:
    return ScheduleView(
        found, templates.template_by_id(conn, found.template_id).name,
        calling_lists.list_by_id(conn, found.calling_list_id).name,
        registrations.registration_by_id(conn, found.registration_id).code,
        skills.campaign_by_id(conn, found.campaign_id).name if found.campaign_id else None)


def set_business_unit_zone(engine: Engine, bu: BusinessUnit, time_zone: str | None) -> None:
    """The zone the unit's schedules are read in when they name none."""
    if time_zone:
        try:
            schedules.zone(time_zone)
        except schedules.ScheduleError as exc:
            raise InvalidRequest(str(exc), "time_zone") from exc
    with engine.begin() as conn:
        tenancy.set_time_zone(conn, bu.id, time_zone)
