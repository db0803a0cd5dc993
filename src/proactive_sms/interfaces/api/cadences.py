"""Agent skills' cadences, and the voice dialer's side: next attempts and call outcomes.

The dialer is another system. It asks `GET /v1/skills/{name}/next-attempts`, calls, and reports
each call with `POST /v1/skills/{name}/outcomes`; the cadence decides what follows (an SMS step
texts through the dispatcher). A record that is done (a sale, a STOP, out of attempts) is never
handed out again, and an outcome reported for it answers `done` with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from proactive_sms.domain.cadence import MAX_ATTEMPTS, MAX_REST_MINUTES, CadenceError, Position
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import TYPE_BASE, Problem, field_error
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import cadence_reports, cadences
from proactive_sms.services.cadences import OutcomeIn, OutcomeRefused, OutcomeResult

router = APIRouter(prefix="/skills", tags=["cadences"])


class StepIn(RequestBody):
    channel: Literal["voice", "sms"]
    destination: str | None = Field(None, description="PhoneNumber, SMSPhoneNumber or a "
                                                      "custom phone field of the list "
                                                      "(default: PhoneNumber for voice, "
                                                      "SMSPhoneNumber for SMS).")
    after: list[str] = Field(default_factory=list,
                             description="Outcomes of an earlier step that lead here "
                                         "(empty for the first step).")
    template: str | None = Field(None, description="SMS steps: a saved template.")
    max_attempts: int = Field(1, ge=1, le=MAX_ATTEMPTS)
    rest_minutes: int = Field(0, ge=0, le=MAX_REST_MINUTES,
                              description="Between two attempts of this step.")


class CadenceIn(RequestBody):
    steps: list[StepIn] = Field(min_length=1)
    dispositions: list[str] = Field(default_factory=list,
                                    description="What agents may report (sale, refused, ...).")
    ends_on: list[str] = Field(default_factory=list,
                               description="Outcomes that end a record (dnc always does).")


class StepOut(BaseModel):
    number: int
    channel: str
    destination: str
    after: list[str]
    template: str | None
    max_attempts: int
    rest_minutes: int


class CadenceOut(BaseModel):
    skill: str
    steps: list[StepOut]
    dispositions: list[str]
    ends_on: list[str]


def _cadence_out(skill: str, cadence) -> CadenceOut:
    data = cadence.to_dict()
    return CadenceOut(skill=skill, steps=[StepOut(number=i, **step) for i, step in
                                          enumerate(data["steps"], start=1)],
                      dispositions=data["dispositions"], ends_on=data["ends_on"])


def _invalid_cadence(exc: CadenceError) -> Problem:
    return Problem(422, "invalid-cadence", "The cadence cannot be used", str(exc),
                   [field_error(p.field, p.reason) for p in exc.problems])


@router.put("/{name}/cadence")
def set_cadence(name: str, body: CadenceIn, bu: CurrentBu, engine: EngineDep,
                clock: ClockDep) -> CadenceOut:
    """Set an agent skill's cadence (before it starts); checked against the calling list's
    fields and the templates, every problem named with its field."""
    data = body.model_dump(exclude_none=True)
    try:
        return _cadence_out(name, cadences.define(engine, bu, clock, name, data))
    except CadenceError as exc:
        raise _invalid_cadence(exc) from exc


@router.get("/{name}/cadence")
def get_cadence(name: str, bu: CurrentBu, engine: EngineDep) -> CadenceOut:
    try:
        found = cadences.show(engine, bu, name)
    except CadenceError as exc:
        raise _invalid_cadence(exc) from exc
    if found is None:
        raise Problem(404, "not-found", "Not found", f"skill '{name}' has no cadence yet",
                      [field_error("cadence", "not set")])
    return _cadence_out(name, found)


class AttemptOut(BaseModel):
    external_id: str
    step: int
    attempt: int
    phone: str = Field(description="The number to call (E.164).")
    fields: dict[str, Any] = Field(description="The record's calling-list fields.")


@router.get("/{name}/next-attempts")
def next_attempts(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                  limit: Annotated[int, Query(ge=1, le=cadences.MAX_BATCH)] = 50,
                  ) -> list[AttemptOut]:
    """The voice attempts due now (rest minutes over, attempts left, not on the DNC list).
    Each is held for the dialer for 30 minutes; report its outcome with the same step and
    attempt."""
    try:
        found = cadences.next_attempts(engine, bu, clock, name, limit)
    except CadenceError as exc:
        raise _invalid_cadence(exc) from exc
    return [AttemptOut(external_id=a.external_id, step=a.step, attempt=a.attempt,
                       phone=a.phone, fields=a.fields) for a in found]


class OutcomeItem(RequestBody):
    external_id: str = Field(min_length=1, max_length=200)
    step: int = Field(ge=1)
    attempt: int = Field(ge=1)
    outcome: str = Field(min_length=1, max_length=40,
                         description="answering_machine, no_answer, busy, disconnected, dnc "
                                     "or one of the cadence's agent dispositions.")
    note: str | None = Field(None, max_length=200)


class OutcomesIn(RequestBody):
    outcomes: list[OutcomeItem] = Field(min_length=1, max_length=cadences.MAX_BATCH)


class PositionOut(BaseModel):
    step: int
    attempts: int
    due_at: UtcDatetime | None
    done: bool
    done_reason: str | None


def _position_out(position: Position) -> PositionOut:
    return PositionOut(step=position.step, attempts=position.attempts,
                       due_at=position.due_at,
                       done=position.done, done_reason=position.done_reason)


class OutcomeOut(BaseModel):
    index: int
    external_id: str
    accepted: bool
    result: str | None = Field(None, description="next_step, retry, done or "
                                                 "already_reported")
    record: PositionOut | None = None
    texted: bool = False
    sms_skip_reason: str | None = None
    problem: dict[str, Any] | None = Field(None, description="Why this item was refused "
                                                             "(RFC 9457 problem details).")


class OutcomesOut(BaseModel):
    accepted: int
    refused: int
    results: list[OutcomeOut]


_REFUSALS = {404: ("not-found", "Not found"), 409: ("wrong-attempt", "Not the attempt due"),
             422: ("invalid-request", "The request has invalid values")}


def _one(index: int, item: OutcomeItem, result: OutcomeResult | OutcomeRefused) -> OutcomeOut:
    if isinstance(result, OutcomeRefused):
        kind, title = _REFUSALS[result.status]
        return OutcomeOut(index=index, external_id=item.external_id, accepted=False, problem={
            "type": TYPE_BASE + kind, "title": title, "status": result.status,
            "detail": result.reason,
            "errors": [field_error(f"outcomes[{index}].{result.field}", result.reason)]})
    return OutcomeOut(index=index, external_id=item.external_id, accepted=True,
                      result=result.how, record=_position_out(result.position),
                      texted=result.texted, sms_skip_reason=result.skip_reason)


@router.post("/{name}/outcomes")
def report_outcomes(name: str, body: OutcomesIn, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep) -> OutcomesOut:
    """Call outcomes from the dialer, a batch at a time. Each item is taken or refused on its
    own (a refused item carries its problem); the same attempt reported again with the same
    outcome answers `already_reported` and changes nothing."""
    items = [OutcomeIn(i.external_id, i.step, i.attempt, i.outcome, i.note)
             for i in body.outcomes]
    try:
        results = cadences.report_outcomes(engine, bu, clock, name, items)
    except CadenceError as exc:
        raise _invalid_cadence(exc) from exc
    out = [_one(i, item, r) for i, (item, r) in enumerate(zip(body.outcomes, results,
                                                               strict=True))]
    accepted = sum(o.accepted for o in out)
    return OutcomesOut(accepted=accepted, refused=len(out) - accepted, results=out)


class RecordOut(BaseModel):
    external_id: str
    record: PositionOut
    done_at: UtcDatetime | None
    in_call: bool = Field(description="Handed to the dialer, outcome not reported yet.")


@router.get("/{name}/records/{external_id}")
def record_status(name: str, external_id: str, bu: CurrentBu, engine: EngineDep,
                  clock: ClockDep) -> RecordOut:
    """Where a record stands in the cadence: its step and attempts, or done and why."""
    try:
        status = cadences.record_status(engine, bu, clock, name, external_id)
    except CadenceError as exc:
        raise _invalid_cadence(exc) from exc
    return RecordOut(external_id=external_id, record=_position_out(status.position),
                     done_at=status.done_at, in_call=status.in_call)


@router.get("/{name}/cadence/report")
def cadence_report(name: str, bu: CurrentBu, engine: EngineDep) -> dict[str, Any]:
    """Per step and outcome; the cadence's texts; replies; conversations and the time to an
    agent's first answer."""
    try:
        return cadence_reports.cadence_report(engine, bu, name).as_dict()
    except CadenceError as exc:
        raise _invalid_cadence(exc) from exc
