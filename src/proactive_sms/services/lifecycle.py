"""Pausing, resuming, stopping and finishing skills."""

from __future__ import annotations

from sqlalchemy import Engine

from proactive_sms.domain.cadence import SKILL_STOPPED
from proactive_sms.domain.clock import Clock
from proactive_sms.services import webhook_emitters
from proactive_sms.store import cadences, messages, skill_starts, skills, unmatched_receipts
from proactive_sms.store.skills import SkillStatus


class LifecycleError(ValueError):
    """The skill is not in a state that allows the change asked for."""


def pause(engine: Engine, skill_id: int, clock: Clock) -> None:
    _change(engine, skill_id, SkillStatus.PAUSED, [SkillStatus.RUNNING], clock, "pause")


def resume(engine: Engine, skill_id: int, clock: Clock) -> None:
    """Resume a paused skill; refused (spend.BudgetExceeded) while its texts not sent yet would
    take it past its budget or its unit's month (raise the budget first)."""
    from proactive_sms.services import spend

    with engine.connect() as conn:
        skill = skills.skill_by_id(conn, skill_id)
        if skill.status is SkillStatus.PAUSED:
            spend.check_resume(conn, skill, clock.now())
    _change(engine, skill_id, SkillStatus.RUNNING, [SkillStatus.PAUSED], clock, "resume")


def stop(engine: Engine, skill_id: int, clock: Clock) -> int:
    """Stop the skill: pending messages become `cancelled`. Returns how many were cancelled."""
    with engine.begin() as conn:
        ok = skills.change_status(
            conn, skill_id, SkillStatus.STOPPED,
            [SkillStatus.RUNNING, SkillStatus.PAUSED, SkillStatus.LAUNCHING, SkillStatus.DRAFT,
             SkillStatus.SCHEDULED],
            clock.now())
        if not ok:
            status = skills.skill_by_id(conn, skill_id).status
            raise LifecycleError(f"cannot stop a skill that is {status.value}")
        # A start still waiting will not come (a firing under way finds the skill stopped).
        skill_starts.cancel_if_waiting(conn, skill_id, clock.now())
        # An agent skill's records leave its cadence: the dialer gets no more attempts.
        cadences.end_open(conn, skill_id, SKILL_STOPPED, clock.now())
        cancelled = messages.cancel_pending(conn, skill_id, clock.now())
        webhook_emitters.skill_stopped(conn, skill_id, cancelled, clock.now())
        return cancelled


def resend_uncertain(engine: Engine, skill_id: int, clock: Clock) -> int:
    """The explicit decision to send again the texts whose submit had no recorded answer.

    Texts whose receipt came meanwhile (matched on number, time and text, since their carrier id
    is unknown) are settled by it first, and so are not sent twice."""
    with engine.begin() as conn:
        unmatched_receipts.reconcile_all(conn, clock.now())
        count = messages.requeue_uncertain(conn, skill_id)
        if count:
            skills.change_status(conn, skill_id, SkillStatus.RUNNING, [SkillStatus.FINISHED],
                                 clock.now())
        return count


def _change(engine: Engine, skill_id: int, new: SkillStatus, expected: list[SkillStatus],
            clock: Clock, verb: str) -> None:
    with engine.begin() as conn:
        if not skills.change_status(conn, skill_id, new, expected, clock.now()):
            status = skills.skill_by_id(conn, skill_id).status
            raise LifecycleError(f"cannot {verb} a skill that is {status.value}")
