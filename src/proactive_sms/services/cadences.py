"""Cadences of agent skills: defining one, starting it, the dialer's side.

The voice dialer is another system: it asks for the next voice attempts and reports each call's
outcome; `domain.cadence` decides where the record goes next. When that is an SMS step, the text
is decided (services/cadence_walk.py) with launch's own rules (`record_decision.Decider`: DNC, no
SMS-capable number, missing field, too long, duplicate) and left `pending` for the dispatcher,
which applies pacing, the DNC check at sending and the calling window as for any agentless text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from proactive_sms.domain import cadence as model
from proactive_sms.domain import template
from proactive_sms.domain.cadence import (
    MAX_BATCH,
    Cadence,
    CadenceError,
    Channel,
    Position,
    Problem,
)
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.webhook_events import BY_REQUEST, StartedBy
from proactive_sms.services import webhook_emitters
from proactive_sms.services.cadence_walk import Moved, Walker, call_number
from proactive_sms.services.record_decision import LaunchError, LaunchSummary
from proactive_sms.store import cadences, calling_lists, outbox, skills
from proactive_sms.store import templates as template_store
from proactive_sms.store.errors import NotFound
from proactive_sms.store.skills import Skill, SkillStatus
from proactive_sms.store.tenancy import BusinessUnit

CALL_LEASE = timedelta(minutes=30)  # a handed-out attempt not reported by then is handed again


class OutcomeRefused(ValueError):
    """One reported outcome that cannot be taken: `status` 404 (no such record), 409 (not the
    attempt the record is at, or already reported otherwise) or 422 (not an outcome)."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.field = field
        self.reason = reason


# --- defining -------------------------------------------------------------------------------


def agent_skill(conn: Connection, bu: BusinessUnit, name: str) -> Skill:
    found = skills.find_skill(conn, bu.id, name)
    if found.kind != "agent":
        raise CadenceError([Problem("skill", f"'{name}' is an agentless skill: only agent "
                                             "skills have a cadence")])
    return found


def define(engine: Engine, bu: BusinessUnit, clock: Clock, skill_name: str,
           data: object) -> Cadence:
    """Check a cadence against the skill's calling list and its templates, then store it.

    Only before the skill starts: records already placed on a step keep the steps they are on.
    """
    with engine.begin() as conn:
        skill = agent_skill(conn, bu, skill_name)
        if skill.status is not SkillStatus.DRAFT:
            raise CadenceError([Problem("skill", f"'{skill_name}' is {skill.status.value}: a "
                                                 "cadence is set before the skill starts")])
        fields = calling_lists.list_by_id(conn, skill.calling_list_id).fields
        problems: list[Problem] = []
        try:
            parsed = model.parse(data, fields)
        except CadenceError as exc:
            problems, parsed = exc.problems, None
        raw_steps = data.get("steps") if isinstance(data, dict) else None
        for number, step in enumerate(raw_steps if isinstance(raw_steps, list) else [], 1):
            name = step.get("template") if isinstance(step, dict) else None
            if step.get("channel") == Channel.SMS.value and isinstance(name, str) and name:
                problems += _template_problems(conn, bu, number, name, fields)
        if problems or parsed is None:
            raise CadenceError(problems)
        cadences.save_definition(conn, skill.id, parsed.to_dict(), clock.now())
        return parsed


def _template_problems(conn: Connection, bu: BusinessUnit, number: int, name: str,
                       fields: tuple[str, ...]) -> list[Problem]:
    """The saved template must exist, parse, and use only fields of the calling list."""
    where = f"steps[{number}].template"
    try:
        stored = template_store.find_template(conn, bu.id, name)
    except NotFound:
        return [Problem(where, f"no template '{name}' in this business unit")]
    try:
        parsed = template.parse(stored.body)
    except template.TemplateError as exc:
        return [Problem(where, f"template '{name}' is not valid: {exc}")]
    return [Problem(where, f"template '{name}': {p}") for p in template.validate(parsed, fields)]


def load(conn: Connection, skill: Skill) -> Cadence | None:
    stored = cadences.definition(conn, skill.id)
    if stored is None:
        return None
    return model.parse(stored, calling_lists.list_by_id(conn, skill.calling_list_id).fields)


def show(engine: Engine, bu: BusinessUnit, skill_name: str) -> Cadence | None:
    with engine.connect() as conn:
        return load(conn, agent_skill(conn, bu, skill_name))


# --- starting -------------------------------------------------------------------------------


def start(engine: Engine, skill_id: int, clock: Clock,
          started_by: StartedBy = BY_REQUEST) -> LaunchSummary:
    """Start an agent skill: every record of its list at step 1 (an SMS first step texts now).

    A second start does nothing. `started_by`: what its `skill.started` event says."""
    now = clock.now()
    with engine.begin() as conn:
        skill = skills.skill_by_id(conn, skill_id)
        if skill.status is not SkillStatus.DRAFT:
            return LaunchSummary(skill_id, skill.status, already_started=True)
        steps = load(conn, skill)
        if steps is None:
            raise LaunchError(f"skill '{skill.name}' has no cadence yet: set one first")
        if not skills.change_status(conn, skill_id, SkillStatus.LAUNCHING, [SkillStatus.DRAFT],
                                    now):  # another start took it first
            return LaunchSummary(skill_id, SkillStatus.LAUNCHING, already_started=True)
        placed = cadences.start_records(conn, skill_id, skill.calling_list_id, now)
        skills.change_status(conn, skill_id, SkillStatus.RUNNING, [SkillStatus.LAUNCHING], now)
        webhook_emitters.skill_started(conn, skill, SkillStatus.RUNNING.value, started_by, now)
        summary = LaunchSummary(skill_id, SkillStatus.RUNNING, decided_now=placed)
        if steps.step(1).channel is Channel.SMS:
            at_start = [row.record_id for row in cadences.due(conn, skill_id, now, placed or 1)]
            for moved in _text_first_step(conn, skills.skill_by_id(conn, skill_id), steps,
                                          at_start, now):
                summary.pending += moved.texted
                if moved.skip_reason:
                    summary.skipped[moved.skip_reason] += 1
        return summary


def _text_first_step(conn: Connection, skill: Skill, steps: Cadence, record_ids: list[int],
                     now: datetime) -> list[Moved]:
    """Records just put at step 1 of a cadence that begins with an SMS step: texted (or
    skipped, with the reason) now, and on to their next step."""
    walker = Walker(conn, skill, steps, now)
    return [walker.settle(record_id, Position(1, 0, now)) for record_id in record_ids]



def join_new_records(engine: Engine, calling_list_id: int, clock: Clock) -> dict[str, int]:
    """Records added to a list while agent skills of it are running (or paused) join their
    cadences at step 1, as those there at the start did (an SMS first step texts them now);
    records they already hold stay where they are. Returns how many joined, by skill name."""
    now = clock.now()
    joined: dict[str, int] = {}
    with engine.begin() as conn:
        for skill in skills.agent_skills_of_list(
                conn, calling_list_id, [SkillStatus.RUNNING, SkillStatus.PAUSED]):
            new_ids = cadences.records_not_held(conn, skill.id, calling_list_id)
            if not new_ids:
                continue
            cadences.place_records(conn, skill.id, new_ids, now)
            steps = load(conn, skill)
            if steps is not None and steps.step(1).channel is Channel.SMS:
                _text_first_step(conn, skill, steps, new_ids, now)
            joined[skill.name] = len(new_ids)
    return joined

# --- the dialer's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A voice attempt handed to the dialer."""

    external_id: str
    step: int
    attempt: int
    phone: str
    fields: dict


def next_attempts(engine: Engine, bu: BusinessUnit, clock: Clock, skill_name: str,
                  limit: int) -> list[Attempt]:
    """Due voice attempts, at most `limit`: rest minutes passed, attempts left, not on the DNC
    list (such a record is done: `dnc`), not already in a call. Nothing while the skill is not
    running. Each is handed out for CALL_LEASE, then handed again if no outcome came."""
    limit = max(1, min(limit, MAX_BATCH))
    now = clock.now()
    with engine.begin() as conn:
        skill = agent_skill(conn, bu, skill_name)
        if skill.status is not SkillStatus.RUNNING:
            return []
        steps = load(conn, skill)
        walker = Walker(conn, skill, steps, now)
        attempts: list[Attempt] = []
        seen: list[int] = []  # records looked at in this call (a skipped one may be due again)
        while len(attempts) < limit:
            rows = cadences.due(conn, skill.id, now, limit - len(attempts), seen)
            if not rows:
                break
            numbers = {}
            for row in rows:
                seen.append(row.record_id)
                numbers[row.record_id] = call_number(
                    steps.step(row.step).destination, row.phone, row.sms_destination,
                    calling_lists.decode_fields(row.fields), bu.default_region)
            on_dnc = walker.numbers_on_dnc(n for n in numbers.values() if n)
            for row in rows:
                number = numbers[row.record_id]
                position = Position(row.step, row.attempts, now)
                if number is None:  # nothing to call: the cadence moves on
                    walker.record_outcome(row.record_id, position, model.SKIPPED,
                                          f"no number in {steps.step(row.step).destination}")
                elif number in on_dnc:
                    walker.record_outcome(row.record_id, position, model.DNC,
                                          "on the DNC list")
                else:
                    attempts.append(Attempt(row.external_id, row.step, row.attempts + 1,
                                            number, calling_lists.decode_fields(row.fields)))
            handed = {a.external_id for a in attempts}
            cadences.hand_out(conn, skill.id,
                              [r.record_id for r in rows if r.external_id in handed],
                              now + CALL_LEASE)
        _finish_if_ended(conn, skill.id, now)
        return attempts


@dataclass(frozen=True)
class OutcomeResult:
    external_id: str
    step: int
    attempt: int
    outcome: str
    how: str  # next_step | retry | done | already_reported
    position: Position  # where the record is now
    texted: bool = False  # an SMS step left a text for the dispatcher
    skip_reason: str | None = None  # why an SMS step did not text


@dataclass(frozen=True)
class OutcomeIn:
    external_id: str
    step: int
    attempt: int
    outcome: str
    note: str | None = None


def report_outcomes(engine: Engine, bu: BusinessUnit, clock: Clock, skill_name: str,
                    items: list[OutcomeIn]) -> list[OutcomeResult | OutcomeRefused]:
    """Take the dialer's outcomes, each in its own transaction: a refused one (its reason in
    its place of the answer) does not hold back the others. Reporting an attempt again with the
    same outcome answers `already_reported` and changes nothing."""
    with engine.connect() as conn:
        skill = agent_skill(conn, bu, skill_name)
        steps = load(conn, skill)
    results: list[OutcomeResult | OutcomeRefused] = []
    for item in items:
        try:
            with engine.begin() as conn:
                results.append(_take(conn, skills.skill_by_id(conn, skill.id), steps, item,
                                     clock.now()))
        except OutcomeRefused as refused:
            results.append(refused)
    with engine.begin() as conn:
        _finish_if_ended(conn, skill.id, clock.now())
    return results


def _take(conn: Connection, skill: Skill, steps: Cadence | None, item: OutcomeIn,
          now: datetime) -> OutcomeResult:
    if steps is None or skill.status not in (SkillStatus.RUNNING, SkillStatus.PAUSED,
                                             SkillStatus.FINISHED):
        raise OutcomeRefused(409, "skill", f"skill '{skill.name}' is {skill.status.value}")
    if item.outcome not in steps.outcomes:
        raise OutcomeRefused(422, "outcome", f"'{item.outcome}' is not a call outcome "
                             f"({', '.join(sorted(steps.outcomes))})")
    found = cadences.find_position(conn, skill.id, item.external_id, for_update=True)
    if found is None:
        raise OutcomeRefused(404, "external_id", f"no record '{item.external_id}' in the "
                                                 f"cadence of skill '{skill.name}'")
    earlier = cadences.logged_outcome(conn, skill.id, found.record_id, item.step, item.attempt)
    if earlier is not None:
        if earlier != item.outcome:
            raise OutcomeRefused(409, "outcome", f"step {item.step} attempt {item.attempt} "
                                                 f"was already reported as '{earlier}'")
        return OutcomeResult(item.external_id, item.step, item.attempt, item.outcome,
                             "already_reported", found.position)
    position = found.position
    expected = (position.step, position.attempts + 1)
    if (item.step, item.attempt) != expected or steps.step(item.step).channel is Channel.SMS:
        raise OutcomeRefused(409, "attempt", f"record '{item.external_id}' is at step "
                             f"{expected[0]} attempt {expected[1]}, not step {item.step} "
                             f"attempt {item.attempt}")
    walker = Walker(conn, skill, steps, now)
    if position.done:
        # Ended while the call was on (a STOP, say): the call is counted, the record stays done.
        cadences.log_outcome(conn, skill.id, found.record_id, item.step, item.attempt,
                             item.outcome, item.note, now)
        return OutcomeResult(item.external_id, item.step, item.attempt, item.outcome, "done",
                             position)
    if item.outcome == model.DNC:
        walker.put_on_dnc(found.record_id, steps.step(item.step),
                          f"dialer: skill {skill.name}, record {item.external_id}")
    moved = walker.record_outcome(found.record_id, position, item.outcome, item.note)
    return OutcomeResult(item.external_id, item.step, item.attempt, item.outcome, moved.how,
                         moved.position, moved.texted > 0, moved.skip_reason)


# --- leaving the cadence, finishing ---------------------------------------------------------


def leave(conn: Connection, skill_id: int, record_id: int, reason: str, now: datetime) -> bool:
    """End a record's cadence (a STOP from the customer): the dialer gets no more attempts for
    it and is told it is done. True if it was still in the cadence."""
    found = cadences.position_by_record(conn, skill_id, record_id)
    if found is None or found.position.done:
        return False
    cadences.save_position(conn, skill_id, record_id, replace(found.position, due_at=None,
                                                               done_reason=reason), now)
    return True


def _finish_if_ended(conn: Connection, skill_id: int, now: datetime) -> None:
    """An agent skill is finished when every record's cadence has ended and no text of it is
    left to send."""
    if cadences.open_by_skill(conn, [skill_id]) or outbox.unsettled_by_skill(conn, [skill_id]):
        return
    if skills.change_status(conn, skill_id, SkillStatus.FINISHED, [SkillStatus.RUNNING], now):
        webhook_emitters.skill_finished(conn, skill_id, now)


@dataclass(frozen=True)
class RecordStatus:
    external_id: str
    position: Position
    done_at: datetime | None
    in_call: bool


def record_status(engine: Engine, bu: BusinessUnit, clock: Clock, skill_name: str,
                  external_id: str) -> RecordStatus:
    with engine.connect() as conn:
        skill = agent_skill(conn, bu, skill_name)
        found = cadences.find_position(conn, skill.id, external_id)
    if found is None:
        raise NotFound("record", external_id)
    in_call = found.in_call_until is not None and _aware(found.in_call_until) > clock.now()
    return RecordStatus(external_id, found.position, found.done_at, in_call)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
