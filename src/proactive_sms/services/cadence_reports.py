"""The report of an agent skill: per step and outcome, the cadence's texts, the replies, the
conversations and how long customers waited for an agent's first answer."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from proactive_sms.domain.message_states import MessageState
from proactive_sms.services.cadences import agent_skill
from proactive_sms.store import cadence_reports, cadences
from proactive_sms.store.tenancy import BusinessUnit

# States of a text that has left us for the carrier.
_LEFT = {MessageState.SENT.value, MessageState.DELIVERED.value,
         MessageState.UNDELIVERABLE.value, MessageState.EXPIRED.value}


@dataclass
class CadenceReport:
    skill: str
    status: str
    records: int = 0
    records_by_end: dict[str, int] = field(default_factory=dict)  # done reason (or in_cadence)
    outcomes: list[tuple[int, str, int]] = field(default_factory=list)  # step, outcome, count
    texts_by_state: Counter = field(default_factory=Counter)
    texts_skipped: Counter = field(default_factory=Counter)  # by skip reason
    texts_sent: int = 0  # left us for the carrier
    replies: int = 0
    opt_outs: int = 0
    conversations: int = 0
    conversations_answered: int = 0
    conversations_closed: int = 0
    first_answer_s: list[float] = field(default_factory=list)
    # agent name -> conversations of this skill assigned to them now, and answered by them
    by_agent: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def first_answer_median_s(self) -> float | None:
        return statistics.median(self.first_answer_s) if self.first_answer_s else None

    @property
    def first_answer_max_s(self) -> float | None:
        return max(self.first_answer_s) if self.first_answer_s else None

    def as_dict(self) -> dict:
        return {
            "skill": self.skill, "status": self.status, "records": self.records,
            "records_by_end": dict(sorted(self.records_by_end.items())),
            "outcomes": [{"step": s, "outcome": o, "attempts": n} for s, o, n in self.outcomes],
            "texts_by_state": dict(sorted(self.texts_by_state.items())),
            "texts_skipped": dict(sorted(self.texts_skipped.items())),
            "texts_sent": self.texts_sent, "replies": self.replies, "opt_outs": self.opt_outs,
            "conversations": self.conversations,
            "conversations_answered": self.conversations_answered,
            "conversations_closed": self.conversations_closed,
            "first_answer_median_s": self.first_answer_median_s,
            "first_answer_max_s": self.first_answer_max_s,
            "by_agent": self.by_agent,
        }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


def cadence_report(engine: Engine, bu: BusinessUnit, skill_name: str) -> CadenceReport:
    with engine.connect() as conn:
        skill = agent_skill(conn, bu, skill_name)
        ids = [skill.id]
        report = CadenceReport(skill.name, skill.status.value)
        report.records_by_end = cadences.done_counts(conn, ids)
        report.records = sum(report.records_by_end.values())
        report.outcomes = cadences.outcome_counts(conn, ids)
        for _step, state, reason, count in cadence_reports.texts_by_step_and_state(conn, ids):
            report.texts_by_state[state] += count
            if reason:
                report.texts_skipped[reason] += count
            if state in _LEFT:
                report.texts_sent += count
        inbound = cadence_reports.inbound_by_class(conn, ids)
        report.replies = inbound.get("reply", 0)
        report.opt_outs = inbound.get("opt_out", 0)
        for _id, status, opened_at, first_at in cadence_reports.conversations_with_first_answer(
                conn, ids):
            report.conversations += 1
            report.conversations_closed += status == "closed"
            if first_at is not None:
                report.conversations_answered += 1
                report.first_answer_s.append(
                    (_aware(first_at) - _aware(opened_at)).total_seconds())
        report.by_agent = {name: {"assigned": a, "answered": b} for name, (a, b) in
                           cadence_reports.conversations_by_agent(conn, ids).items()}
    return report
