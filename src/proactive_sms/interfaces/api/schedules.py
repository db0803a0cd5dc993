"""`/v1/schedules`: recurring notices (a saved template texted to a calling list from a code at
each occurrence of a schedule), their runs, pause, resume, change and delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import API_ACTOR, expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.interfaces.api.skills import CallingWindow
from proactive_sms.services import notice_schedules
from proactive_sms.services.notice_schedules import RunView, ScheduleView

router = APIRouter(prefix="/schedules", tags=["schedules"])


class ScheduleIn(RequestBody):
    name: str = Field(min_length=1, max_length=100,
                      description="Each run's skill is named '<name>-20270104-0900'.")
    template: str = Field(description="The saved template each run sends.")
    calling_list: str
    registration: str = Field(description="The transport code each run sends from.")
    every: str | None = Field(None, description="day, weekday, weekend or day names "
                                                "(mon,wed,fri), with `at`.")
    at: str | None = Field(None, description="Time of day, HH:MM, with `every`.")
    cron: str | None = Field(None, description="A 5-field cron expression, instead of "
                                               "every/at.")
    time_zone: str | None = Field(None, max_length=64,
                                  description="IANA zone; default: the business unit's.")
    campaign: str | None = None
    max_segments: int = Field(3, ge=1, le=10)
    calling_window: CallingWindow | None = None


class ScheduleOut(BaseModel):
    name: str
    status: Literal["active", "paused"]
    template: str
    calling_list: str
    registration: str
    campaign: str | None
    cron: str
    time_zone: str
    describe: str = Field(description="e.g. 'every weekday at 09:00 (America/Chicago)'")
    max_segments: int
    calling_window: dict | None
    next_run_at: datetime | None = Field(description="In the schedule's zone (with its UTC "
                                                     "offset); null while paused.")
    version: int = Field(description="The ETag: raised by every change.")
    created_at: datetime

    @classmethod
    def of(cls, view: ScheduleView) -> ScheduleOut:
        return cls(**view.as_dict())


class SchedulePatch(RequestBody):
    """What to change; the next run is counted again from now."""

    every: str | None = None
    at: str | None = None
    cron: str | None = None
    time_zone: str | None = Field(None, max_length=64)
    max_segments: int | None = Field(None, ge=1, le=10)
    calling_window: CallingWindow | None = None


class RunOut(BaseModel):
    """One occurrence; its moments in the schedule's zone, with their UTC offsets."""

    due_at: datetime
    outcome: Literal["firing", "started", "missed", "failed"]
    skill: str | None = Field(description="The skill the run started.")
    skill_status: str | None
    detail: str | None = Field(description="What it decided, why it failed or was missed.")
    fired_at: datetime | None
    time_zone: str = Field(description="The schedule's zone, that due_at and fired_at are "
                                       "shown in.")

    @classmethod
    def of(cls, view: RunView) -> RunOut:
        return cls(**view.as_dict())


def _answer(view: ScheduleView, response: Response) -> ScheduleOut:
    set_etag(response, view.schedule.version)
    return ScheduleOut.of(view)


@router.get("")
def list_schedules(bu: CurrentBu, engine: EngineDep, page: PageParams) -> Paged[ScheduleOut]:
    """The unit's recurring notices, a page at a time."""
    return paged(notice_schedules.page(engine, bu, page), ScheduleOut.of)


@router.post("", status_code=201, responses=idempotency.responses(201))
def create_schedule(body: ScheduleIn, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                    guard: Idempotent) -> ScheduleOut:
    """Create a recurring notice, active at once (checked as a start would be: 422 naming the
    field for a bad cron, zone or time, or a template that does not fit the list)."""
    window = body.calling_window.model_dump() if body.calling_window else None
    return guard.run(lambda: ScheduleOut.of(notice_schedules.create(
        engine, bu, clock, name=body.name, template=body.template,
        calling_list=body.calling_list, registration=body.registration, cron=body.cron,
        every=body.every, at=body.at, time_zone=body.time_zone, campaign=body.campaign,
        max_segments=body.max_segments, calling_window=window, actor=API_ACTOR)))


@router.get("/{name}")
def get_schedule(name: str, bu: CurrentBu, engine: EngineDep,
                 response: Response) -> ScheduleOut:
    """One recurring notice; its ETag for PATCH, DELETE, pause and resume."""
    return _answer(notice_schedules.show(engine, bu, name), response)


@router.patch("/{name}")
def change_schedule(name: str, body: SchedulePatch, request: Request, bu: CurrentBu,
                    engine: EngineDep, clock: ClockDep, response: Response) -> ScheduleOut:
    """Change when it runs or what its skills get (If-Match: only from that version, else
    412)."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if body.calling_window is not None:
        changes["calling_window"] = body.calling_window.model_dump()
    return _answer(notice_schedules.change(engine, bu, clock, name, changes,
                                           expected_version(request), actor=API_ACTOR),
                   response)


@router.post("/{name}/pause")
def pause_schedule(name: str, request: Request, bu: CurrentBu, engine: EngineDep,
                   clock: ClockDep, response: Response) -> ScheduleOut:
    """No run starts (nor is recorded as missed) until resumed."""
    return _answer(notice_schedules.pause(engine, bu, clock, name, expected_version(request),
                                          actor=API_ACTOR), response)


@router.post("/{name}/resume")
def resume_schedule(name: str, request: Request, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep, response: Response) -> ScheduleOut:
    """Active again, from the next occurrence after now."""
    return _answer(notice_schedules.resume(engine, bu, clock, name, expected_version(request),
                                           actor=API_ACTOR), response)


class ScheduleRemoved(BaseModel):
    name: str
    outcome: Literal["deleted"]


@router.delete("/{name}")
def delete_schedule(name: str, request: Request, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep) -> ScheduleRemoved:
    """Delete the schedule and its history (the skills it started stay, with their
    reports)."""
    notice_schedules.remove(engine, bu, clock, name, expected_version(request), actor=API_ACTOR)
    return ScheduleRemoved(name=name, outcome="deleted")


@router.get("/{name}/runs")
def schedule_runs(name: str, bu: CurrentBu, engine: EngineDep,
                  page: PageParams) -> Paged[RunOut]:
    """Each run, oldest first: when it was due, the skill it started, the outcome."""
    return paged(notice_schedules.history(engine, bu, name, page), RunOut.of)
