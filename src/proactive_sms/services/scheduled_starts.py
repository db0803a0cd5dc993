"""Starting a skill later: `psms skill start NAME --at 2027-01-04T09:00 --tz America/Chicago`,
the API's `start_at`, the console's "start later".

Scheduling checks now what the start would refuse (the skill is a draft, its text exists and
fits its list, an agent skill has a cadence) and that the moment is still to come; the skill
becomes `scheduled`. A dispatcher fires it at its moment (services.schedule_firing), checking
again. Until then its start can be moved or cancelled (back to `draft`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from proactive_sms.domain import schedules
from proactive_sms.domain.clock import Clock
from proactive_sms.services import audit, launching
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.lifecycle import LifecycleError
from proactive_sms.store import skill_starts, skills
from proactive_sms.store.skill_starts import SkillStart
from proactive_sms.store.skills import Skill, SkillStatus
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class Scheduled:
    skill: Skill
    start: SkillStart

    @property
    def local_start(self) -> datetime:
        """The start in the zone it was given in (UTC when none was)."""
        return local_start(self.start)


def local_start(start: SkillStart) -> datetime:
    """A start's moment in the zone it was given in (UTC when it came with an offset only)."""
    return start.start_at.astimezone(schedules.zone(start.time_zone or "UTC"))


def moment(start_at: str | datetime, time_zone: str | None, now: datetime) -> datetime:
    """The UTC moment of a requested start, checked to be still to come: an ISO text or a
    datetime, naive ones read in `time_zone`. InvalidRequest names the field at fault."""
    try:
        return schedules.check_future(schedules.parse_start(start_at, time_zone), now)
    except schedules.ScheduleError as exc:
        raise InvalidRequest(str(exc), exc.field) from exc


def schedule(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
             start_at: str | datetime, time_zone: str | None = None, *,
             template_id: int | None = None, message_text: str | None = None,
             direction: str = "auto", actor: str | None = None) -> Scheduled:
    """Schedule a draft skill's start (with the text it will send, if given now)."""
    now = clock.now()
    at = moment(start_at, time_zone, now)
    with engine.begin() as conn:
        skill = skills.find_skill(conn, bu.id, name)
        if skill.status is not SkillStatus.DRAFT:
            raise LifecycleError(f"cannot schedule a skill that is {skill.status.value}: only "
                                 "a draft can be scheduled")
        if template_id is not None or message_text is not None:
            skills.set_text(conn, skill.id, template_id, message_text, direction)
            skill = skills.skill_by_id(conn, skill.id)
        launching.check_startable(conn, skill)
        if not skills.change_status(conn, skill.id, SkillStatus.SCHEDULED, [SkillStatus.DRAFT],
                                    now):
            raise LifecycleError(f"skill '{name}' was started meanwhile")
        start = skill_starts.put(conn, skill.id, at, time_zone, now)
        audit.record(conn, None, "skill.scheduled", name, {"start_at": at.isoformat(),
                     "time_zone": time_zone}, bu=bu, now=now, username=actor)
        return Scheduled(skills.skill_by_id(conn, skill.id), start)


def show(engine: Engine, bu: BusinessUnit, name: str) -> Scheduled | None:
    """The skill and its start (the last one: waiting, or how it ended), None if never."""
    with engine.connect() as conn:
        skill = skills.find_skill(conn, bu.id, name)
        start = skill_starts.get(conn, skill.id)
        return Scheduled(skill, start) if start else None


def starts_of(engine: Engine, skill_ids: list[int]) -> dict[int, SkillStart]:
    """The starts of these skills, by skill id (lists show when each scheduled one starts)."""
    with engine.connect() as conn:
        return skill_starts.of_skills(conn, skill_ids)


def move(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, start_at: str | datetime,
         time_zone: str | None = None, expected_version: int | None = None,
         actor: str | None = None) -> Scheduled:
    """Move a waiting start to another moment (If-Match: only from that version)."""
    now = clock.now()
    at = moment(start_at, time_zone, now)
    with engine.begin() as conn:
        skill = skills.find_skill(conn, bu.id, name)
        try:
            start = skill_starts.move(conn, skill.id, at, time_zone, expected_version, name)
        except skill_starts.NotWaiting as exc:
            raise LifecycleError(str(exc)) from exc
        audit.record(conn, None, "skill.start_moved", name, {"start_at": at.isoformat(),
                     "time_zone": time_zone}, bu=bu, now=now, username=actor)
        return Scheduled(skill, start)


def cancel(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
           expected_version: int | None = None, actor: str | None = None) -> Skill:
    """Cancel a waiting start: the skill is a draft again."""
    now = clock.now()
    with engine.begin() as conn:
        skill = skills.find_skill(conn, bu.id, name)
        try:
            skill_starts.cancel(conn, skill.id, expected_version, name, now)
        except skill_starts.NotWaiting as exc:
            raise LifecycleError(str(exc)) from exc
        skills.change_status(conn, skill.id, SkillStatus.DRAFT, [SkillStatus.SCHEDULED], now)
        audit.record(conn, None, "skill.start_cancelled", name, "", bu=bu, now=now,
                     username=actor)
        return skills.skill_by_id(conn, skill.id)
