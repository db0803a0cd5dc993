"""A skill's funnel for its report page: records -> decided -> sent -> delivered, with the skips
by reason, the replies, the throughput against the limit and the time to finish.

Every figure but the records comes from the kept counters (services.reporting); the records of
an agentless skill are its decided ones plus, while it launches, those still ahead of its cursor
(launch decides every record of the list once), so no count walks a million-record list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services import reporting
from proactive_sms.store import calling_lists, registrations, skills
from proactive_sms.store.skills import SkillStatus
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class Funnel:
    skill: skills.Skill
    code: str
    list_name: str
    report: reporting.Report
    records: int  # the records the skill covers
    limit_per_s: float  # the code's limit, or the skill's own pacing when lower
    estimated_finish: datetime | None  # while texts are pending
    time_to_finish: timedelta | None  # start to finish, once finished (or stopped)

    @property
    def to_send(self) -> int:
        """Decided records that got a text (not skipped)."""
        return self.report.total - self.report.skipped


def skill_funnel(engine: Engine, bu: BusinessUnit, skill_name: str, clock: Clock) -> Funnel:
    """The funnel of one skill of the unit (NotFound for another unit's or an unknown one)."""
    with engine.connect() as conn:
        found = skills.find_skill(conn, bu.id, skill_name)
        code = registrations.registration_by_id(conn, found.registration_id)
        the_list = calling_lists.list_by_id(conn, found.calling_list_id)
    report = reporting.skill_report(engine, bu, skill_name, clock.now())
    with engine.connect() as conn:
        records = _records(conn, found, report)
    limit = code.throughput_per_s
    if found.pacing_per_s:
        limit = min(limit, found.pacing_per_s)
    took = None
    if report.started_at and report.finished_at:
        took = report.finished_at - report.started_at
    return Funnel(found, code.code, the_list.name, report, records, limit,
                  reporting.estimated_finish(report, clock), took)


def _records(conn, found: skills.Skill, report: reporting.Report) -> int:
    if found.kind != "agentless_sms":  # a cadence texts some records at some steps
        return calling_lists.count_records(conn, found.calling_list_id)
    decided = report.total
    if found.status in (SkillStatus.DRAFT, SkillStatus.LAUNCHING):
        ahead = calling_lists.count_after(conn, found.calling_list_id, found.launch_cursor,
                                          10**9)
        return decided + ahead
    return decided
