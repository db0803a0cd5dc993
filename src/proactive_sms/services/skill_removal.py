"""Removing a skill: a draft is deleted; a finished or stopped one is archived (hidden from the
lists unless asked, still reportable: its texts and counters stay); one that is launching,
running or paused cannot be removed (InUse, 409): stop it first."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Engine, delete

from proactive_sms.domain.clock import Clock
from proactive_sms.services import audit
from proactive_sms.store import skills, versions
from proactive_sms.store.errors import InUse
from proactive_sms.store.schema import (
    agent_skill,
    cadence,
    skill,
    skill_counter,
    skill_minute,
    skill_start,
)
from proactive_sms.store.skills import SkillStatus
from proactive_sms.store.tenancy import BusinessUnit

_DONE = (SkillStatus.FINISHED, SkillStatus.STOPPED)


def remove_skill(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                 expected_version: int | None = None,
                 actor: str | None = None) -> Literal["deleted", "archived"]:
    """Delete a draft or archive a finished/stopped skill (see the module's docstring)."""
    with engine.begin() as conn:
        found = skills.find_skill(conn, bu.id, name)
        if found.status is SkillStatus.DRAFT:
            # The status is checked again in the DELETE: a start between the read and here
            # leaves the skill alone.
            versions.change(conn, skill, found.id, expected_version, "skill", name)
            for table in (agent_skill, cadence, skill_counter, skill_minute, skill_start):
                conn.execute(delete(table).where(table.c.skill_id == found.id))
            gone = conn.execute(delete(skill).where(
                skill.c.id == found.id, skill.c.status == SkillStatus.DRAFT.value)).rowcount
            if gone != 1:
                raise InUse("skill", name, "was started meanwhile: stop it first")
            outcome: Literal["deleted", "archived"] = "deleted"
        elif found.status in _DONE:
            versions.change(conn, skill, found.id, expected_version, "skill", name,
                            archived_at=found.archived_at or clock.now())
            outcome = "archived"
        else:
            hint = ("cancel its scheduled start" if found.status is SkillStatus.SCHEDULED
                    else "stop it")
            raise InUse("skill", name, f"is {found.status.value}: {hint} before removing it")
        audit.record(conn, None, f"skill.{outcome}", name, "", bu=bu, now=clock.now(),
                     username=actor)
        return outcome
