"""`/v1/skills`: create, start (saved template or ad-hoc text), pause, resume, stop, status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.domain.money import amount_text
from proactive_sms.interfaces.api import idempotency, report_format
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import API_ACTOR, expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import Problem, field_error, invalid
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.services import (
    administration,
    audit,
    launching,
    lifecycle,
    listing,
    reply_status,
    reporting,
    scheduled_starts,
    skill_removal,
    skill_settings,
)
from proactive_sms.store.skill_starts import SkillStart
from proactive_sms.store.skills import Skill, SkillStatus
from proactive_sms.store.tenancy import BusinessUnit

router = APIRouter(prefix="/skills", tags=["skills"])


class CallingWindow(RequestBody):
    weekday: str = Field("08:00-21:00", description="Recipient-local hours, Mon-Fri.")
    weekend: str = Field("08:00-21:00", description="Recipient-local hours, Sat-Sun.")
    forbidden_days: list[str] = Field(default_factory=list,
                                      description="Weekday names or YYYY-MM-DD dates.")


class SkillIn(RequestBody):
    name: str = Field(min_length=1, max_length=200,
                      description="2 to 30 characters: letters, digits, - _ . :")
    registration: str = Field(description="Transport code to send from.")
    calling_list: str
    template: str | None = Field(None, description="Saved template (or give one at start).")
    max_segments: int = Field(3, ge=1, le=10, description="Longer texts are skipped.")
    pacing_per_s: float | None = Field(None, gt=0, description="Below the code's limit.")
    validity_hours: float | None = Field(None, gt=0)
    campaign: str | None = None
    calling_window: CallingWindow = Field(default_factory=CallingWindow)
    no_zone_policy: Literal["skip", "default"] = "skip"
    default_time_zone: str | None = Field(None, description="IANA zone for 'default'.")
    kind: Literal["agentless_sms", "agent"] = Field(
        "agentless_sms", description="agent: a cadence of steps (PUT /v1/skills/{name}/cadence)")
    reply_pacing: bool = Field(True, description="Texts that invite replies go no faster than "
                                                 "the skill's agents can answer them.")
    reply_rate_prior: float | None = Field(
        None, gt=0, le=1, description="Replies per text assumed until the skill shows its own "
                                      "(0.05 = 5%; default 5%).")
    budget: str | None = Field(None, pattern=r"^\d+(\.\d+)?$",
                               description="The most its texts may cost, decimal text in its "
                                           "code's currency (docs/spend.md).")


class SkillOut(BaseModel):
    name: str
    kind: str
    status: str
    max_segments: int
    pacing_per_s: float | None
    validity_hours: float | None
    reply_pacing: bool
    reply_rate_prior: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    version: int = Field(1, description="Raised by every change a person makes; the ETag.")
    archived_at: datetime | None = Field(
        None, description="When the finished skill was removed from the lists.")
    start_at: datetime | None = Field(
        None, description="A scheduled skill: when it starts (its scheduled-start resource).")
    start_time_zone: str | None = Field(
        None, description="A scheduled skill: the zone its start was given in (null when it "
                          "was given with a UTC offset).")
    local_start: str | None = Field(
        None, description="A scheduled skill: its start as that zone shows it "
                          "('2027-01-04 09:00 CST'; UTC when no zone was given).")
    budget: str | None = Field(None, description="The most its texts may cost (decimal text).")
    pause_reason: str | None = Field(None, description="Why the system paused it (a budget "
                                                       "reached); null otherwise.")

    @classmethod
    def of(cls, skill: Skill, start: SkillStart | None = None) -> SkillOut:
        waiting = start is not None and start.state == "waiting"
        return cls(name=skill.name, kind=skill.kind, status=skill.status.value,
                   **_waiting_start(start if waiting else None),
                   max_segments=skill.max_segments,
                   pacing_per_s=skill.pacing_per_s, validity_hours=skill.validity_hours,
                   reply_pacing=skill.reply_pacing, reply_rate_prior=skill.reply_rate_prior,
                   created_at=_utc(skill.created_at), started_at=_utc(skill.started_at),
                   finished_at=_utc(skill.finished_at), version=skill.version,
                   archived_at=_utc(skill.archived_at),
                   budget=(None if skill.budget_micros is None
                           else amount_text(skill.budget_micros)),
                   pause_reason=skill.pause_reason)


def _waiting_start(start: SkillStart | None) -> dict:
    """A waiting start's moment, its zone and how that zone shows it (all null without one)."""
    if start is None:
        return {"start_at": None, "start_time_zone": None, "local_start": None}
    return {"start_at": start.start_at, "start_time_zone": start.time_zone,
            "local_start": f"{scheduled_starts.local_start(start):%Y-%m-%d %H:%M %Z}"}


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive UTC; the API always says the zone (RFC 3339 date-time)."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


class StartIn(RequestBody):
    template: str | None = Field(None, description="Send this saved template.")
    message: str | None = Field(None, min_length=1,
                                description="Send this text, typed now (ad-hoc broadcast).")
    direction: Literal["ltr", "rtl", "auto"] = "auto"
    start_at: datetime | None = Field(
        None, description="Start later, at this moment: with a UTC offset, or a wall-clock "
                          "time read in `time_zone`. Checked now as a start would be; the "
                          "skill is `scheduled` until a dispatcher starts it.")
    time_zone: str | None = Field(None, max_length=64,
                                  description="IANA zone of `start_at` (America/Chicago).")


class StartOut(BaseModel):
    name: str
    status: str
    already_started: bool = Field(description="It was started before: nothing was done.")
    pending: int
    skipped: dict[str, int]
    start_at: datetime | None = Field(None, description="When a scheduled skill starts.")


class ScheduledStartIn(RequestBody):
    """Move a scheduled start (before it starts)."""

    start_at: datetime = Field(description="With a UTC offset, or read in `time_zone`.")
    time_zone: str | None = Field(None, max_length=64)


class ScheduledStartOut(BaseModel):
    skill: str
    start_at: datetime
    time_zone: str | None
    local_start: str = Field(description="The moment as its zone shows it.")
    state: Literal["waiting", "firing", "started", "missed", "failed", "cancelled"]
    detail: str | None = Field(description="Why it failed or was missed.")
    fired_at: datetime | None
    version: int = Field(description="The ETag: raised by each move.")

    @classmethod
    def of(cls, done: scheduled_starts.Scheduled) -> ScheduledStartOut:
        start = done.start
        return cls(skill=done.skill.name, start_at=start.start_at, time_zone=start.time_zone,
                   local_start=f"{done.local_start:%Y-%m-%d %H:%M %Z}", state=start.state,
                   detail=start.detail, fired_at=start.fired_at, version=start.version)


class ReplyPacingOut(BaseModel):
    """What bounds the skill's texts for the agents who answer their replies, and why."""

    state: Literal["paced", "off", "not_applicable", "no_agents", "not_dispatched"]
    explain: str = Field(description="e.g. '3 agents, 11 free places, reply rate 4% -> 9 "
                                     "texts/min'")
    prior_reply_rate: float
    available_agents: int | None
    free_places: int | None
    reply_rate: float | None = Field(description="Replies per text, learnt as the skill runs.")
    texts_per_min: float | None
    replies_in_flight: float | None
    waiting: bool = Field(description="Texts wait for an agent or a free place now.")
    updated_at: str | None = Field(description="When the dispatching worker last wrote it.")


class ReplyPacingIn(RequestBody):
    enabled: bool
    prior_reply_rate: float | None = Field(
        None, gt=0, le=1, description="Replies per text assumed until the skill shows its own; "
                                      "absent: unchanged.")


class Progress(BaseModel):
    name: str
    status: str
    total: int
    pending: int
    waiting: int = Field(description="Pending texts held until their window opens.")
    next_window_at: str | None
    sent: int
    delivered: int
    failed: int
    uncertain: int
    skipped: int
    achieved_rate_per_s: float | None
    estimated_finish: datetime | None
    start_at: datetime | None = Field(None, description="A scheduled skill: when it starts.")
    start_time_zone: str | None = Field(None, description="The zone its start was given in.")
    local_start: str | None = Field(None, description="Its start as that zone shows it.")
    reply_pacing: ReplyPacingOut


@router.get("")
def list_skills(bu: CurrentBu, engine: EngineDep, page: PageParams,
                status: SkillStatus | None = None,
                campaign: Annotated[str | None, Query(
                    description="Only the skills of this campaign.")] = None,
                archived: Annotated[bool, Query(
                    description="Also the finished skills removed from the lists.")] = False,
                ) -> Paged[SkillOut]:
    """The BU's skills, a page at a time; filtered by status and campaign."""
    found = listing.skills_page(engine, bu, page, status, campaign, archived)
    starts = scheduled_starts.starts_of(engine, [s.id for s in found.items])
    return paged(found, lambda s: SkillOut.of(s, starts.get(s.id)))


@router.post("", status_code=201, responses=idempotency.responses(201))
def create_skill(body: SkillIn, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                 guard: Idempotent) -> SkillOut:
    """Create a skill: agentless SMS, or an agent skill whose cadence is set next (the law's
    calling hours apply on top of its own)."""
    return guard.run(lambda: SkillOut.of(administration.create_skill(
        engine, bu, clock, name=body.name, registration=body.registration,
        calling_list=body.calling_list, template_name=body.template,
        max_segments=body.max_segments, pacing_per_s=body.pacing_per_s,
        validity_hours=body.validity_hours, campaign=body.campaign,
        calling_window=body.calling_window.model_dump(), no_zone_policy=body.no_zone_policy,
        default_time_zone=body.default_time_zone, kind=body.kind,
        reply_pacing=body.reply_pacing, reply_rate_prior=body.reply_rate_prior,
        budget=body.budget)))


@router.get("/{name}")
def get_skill(name: str, bu: CurrentBu, engine: EngineDep, response: Response) -> SkillOut:
    """One skill; its ETag for PATCH and DELETE."""
    found = administration.find_skill(engine, bu, name)
    set_etag(response, found.version)
    return SkillOut.of(found, scheduled_starts.starts_of(engine, [found.id]).get(found.id))


class SkillPatch(RequestBody):
    """The settings to change (what may change depends on the status: everything in a draft;
    pacing, validity, window, zone policy and campaign once started; only the campaign once
    finished). null clears an optional setting."""

    registration: str | None = None
    calling_list: str | None = None
    template: str | None = None
    message_text: str | None = None
    direction: Literal["ltr", "rtl", "auto"] | None = None
    max_segments: int | None = Field(None, ge=1, le=10)
    pacing_per_s: float | None = Field(None, gt=0)
    validity_hours: float | None = Field(None, gt=0)
    campaign: str | None = None
    calling_window: CallingWindow | None = None
    no_zone_policy: Literal["skip", "default"] | None = None
    default_time_zone: str | None = None
    reply_pacing: bool | None = None
    reply_rate_prior: float | None = Field(None, gt=0, le=1)
    budget: str | None = Field(None, pattern=r"^\d+(\.\d+)?$",
                               description="Decimal text; null: no budget. Raising it lets a "
                                           "skill paused by it resume.")


_REQUIRED = ("registration", "calling_list", "direction", "max_segments", "no_zone_policy",
             "reply_pacing")


@router.patch("/{name}")
def patch_skill(name: str, body: SkillPatch, request: Request, bu: CurrentBu,
                engine: EngineDep, clock: ClockDep, response: Response) -> SkillOut:
    """Change settings (If-Match: only if unchanged since that ETag, else 412)."""
    changes = body.model_dump(exclude_unset=True)
    for key in _REQUIRED:
        if key in changes and changes[key] is None:
            raise invalid(key, f"{key} cannot be cleared")
    expected = expected_version(request)
    view = skill_settings.update_skill(engine, bu, clock, name, changes, expected)
    audit.record(engine, None, "skill.changed", name, changes, bu=bu, now=clock.now(),
                 username=API_ACTOR)
    set_etag(response, view.skill.version)
    return SkillOut.of(view.skill)


class SkillRemoved(BaseModel):
    name: str
    outcome: Literal["deleted", "archived"] = Field(
        description="deleted (a draft), or archived (finished or stopped: still reportable).")


@router.delete("/{name}")
def delete_skill(name: str, request: Request, bu: CurrentBu, engine: EngineDep,
                 clock: ClockDep) -> SkillRemoved:
    """Delete a draft, archive a finished or stopped skill; 409 while it runs."""
    outcome = skill_removal.remove_skill(engine, bu, clock, name, expected_version(request),
                                         actor=API_ACTOR)
    return SkillRemoved(name=name, outcome=outcome)


@router.post("/{name}/start", responses=idempotency.responses())
def start_skill(name: str, body: StartIn, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                guard: Idempotent) -> StartOut:
    """Decide every record once and hand the texts to the dispatcher."""
    if body.template and body.message:
        raise invalid("message", "give template or message, not both")
    return guard.run(lambda: _start(engine, bu, clock, name, body))


def _start(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
           body: StartIn) -> StartOut:
    skill = administration.find_skill(engine, bu, name)
    template_id = (administration.find_template(engine, bu, body.template).id
                   if body.template else None)
    if body.start_at is not None or body.time_zone is not None:
        if body.start_at is None:
            raise invalid("start_at", "time_zone goes with start_at (when to start)")
        done = scheduled_starts.schedule(engine, bu, clock, name, body.start_at,
                                         body.time_zone, template_id=template_id,
                                         message_text=body.message, direction=body.direction,
                                         actor=API_ACTOR)
        return StartOut(name=name, status=done.skill.status.value, already_started=False,
                        pending=0, skipped={}, start_at=done.start.start_at)
    summary = launching.start_skill(engine, skill.id, clock, template_id=template_id,
                                    message_text=body.message, direction=body.direction)
    return StartOut(name=name, status=summary.status.value,
                    already_started=summary.already_started, pending=summary.pending,
                    skipped={str(k): v for k, v in sorted(summary.skipped.items())})


def _change(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
            action: Callable[[Engine, int, Clock], object]) -> SkillOut:
    # The lookup by (BU, name) is what keeps another BU's skill out of reach.
    skill = administration.find_skill(engine, bu, name)
    action(engine, skill.id, clock)
    return SkillOut.of(administration.find_skill(engine, bu, name))


@router.get("/{name}/scheduled-start")
def get_scheduled_start(name: str, bu: CurrentBu, engine: EngineDep,
                        response: Response) -> ScheduledStartOut:
    """The skill's scheduled start (waiting, or how it ended); its ETag for PUT and DELETE.
    404 when it was never scheduled."""
    done = scheduled_starts.show(engine, bu, name)
    if done is None:
        raise Problem(404, "not-found", "Not found", f"skill '{name}' was never scheduled",
                      [field_error("name", "never scheduled", location="path")])
    set_etag(response, done.start.version)
    return ScheduledStartOut.of(done)


@router.put("/{name}/scheduled-start")
def move_scheduled_start(name: str, body: ScheduledStartIn, request: Request, bu: CurrentBu,
                         engine: EngineDep, clock: ClockDep,
                         response: Response) -> ScheduledStartOut:
    """Move a waiting start to another moment (If-Match: only from that version, else 412;
    409 once it has fired or was cancelled)."""
    done = scheduled_starts.move(engine, bu, clock, name, body.start_at, body.time_zone,
                                 expected_version(request), actor=API_ACTOR)
    set_etag(response, done.start.version)
    return ScheduledStartOut.of(done)


@router.delete("/{name}/scheduled-start")
def cancel_scheduled_start(name: str, request: Request, bu: CurrentBu, engine: EngineDep,
                           clock: ClockDep) -> SkillOut:
    """Cancel a waiting start: the skill is a draft again (If-Match as for PUT)."""
    return SkillOut.of(scheduled_starts.cancel(engine, bu, clock, name,
                                               expected_version(request), actor=API_ACTOR))


@router.post("/{name}/pause")
def pause_skill(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> SkillOut:
    """No new submits until resumed."""
    return _change(engine, bu, clock, name, lifecycle.pause)


@router.post("/{name}/resume")
def resume_skill(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> SkillOut:
    """Continue a paused skill."""
    return _change(engine, bu, clock, name, lifecycle.resume)


@router.post("/{name}/stop")
def stop_skill(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> SkillOut:
    """Stop for good: pending texts are cancelled."""
    return _change(engine, bu, clock, name, lifecycle.stop)


@router.get("/{name}/progress")
def skill_progress(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> Progress:
    """Where the skill is: pending, waiting, sent, delivered, failed, rate, estimated finish."""
    report = reporting.skill_report(engine, bu, name, clock.now())
    by = report.by_state
    return Progress(
        name=name, status=report.statuses[name], total=report.total, pending=report.pending,
        waiting=report.waiting, next_window_at=report.as_dict()["next_window_at"],
        sent=by["sent"] + by["delivered"] + by["undeliverable"] + by["expired"],
        delivered=by["delivered"], failed=by["failed"] + by["undeliverable"] + by["expired"],
        uncertain=by["uncertain"], skipped=by["skipped"],
        achieved_rate_per_s=report.achieved_rate_per_s,
        estimated_finish=reporting.estimated_finish(report, clock),
        **_waiting_start(_waiting_start_of(engine, bu, name)),
        reply_pacing=ReplyPacingOut(**reply_status.status_of(engine, bu, name).as_dict()))


def _waiting_start_of(engine: Engine, bu: BusinessUnit, name: str) -> SkillStart | None:
    shown = scheduled_starts.show(engine, bu, name)
    return shown.start if shown and shown.start.state == "waiting" else None


@router.put("/{name}/reply-pacing")
def set_reply_pacing(name: str, body: ReplyPacingIn, bu: CurrentBu, engine: EngineDep,
                     clock: ClockDep) -> ReplyPacingOut:
    """Turn reply-aware pacing on or off for a skill (a running one too), and set its prior."""
    changes: dict = {"reply_pacing": body.enabled}
    if body.prior_reply_rate is not None:
        changes["reply_rate_prior"] = body.prior_reply_rate
    skill_settings.update_skill(engine, bu, clock, name, changes)
    return ReplyPacingOut(**reply_status.status_of(engine, bu, name).as_dict())


@router.get("/{name}/report", response_class=Response,
            responses=report_format.REPORT_RESPONSES)
def skill_report(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                 format: report_format.ReportFormat = "json") -> Response:
    """Counts by state and skip reason, segments, delivery rate, throughput, replies."""
    return report_format.render(reporting.skill_report(engine, bu, name, clock.now()), format)
