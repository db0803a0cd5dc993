"""Agent report: conversations handled per agent and the time to first answer.

Over the conversations opened in the period (all of them without `since`): how many were
answered and how fast (first answer minus the customer's first text), overall and per agent
(an agent's time counts the conversations whose first answer they wrote), and what is open and
waiting now.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from proactive_sms.domain.agent_assignment import first_answer_seconds, waiting_seconds
from proactive_sms.domain.clock import Clock
from proactive_sms.store import agents, assignments
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class AgentFigures:
    name: str
    display_name: str
    availability: str
    open_now: int  # open conversations assigned to them
    waiting_now: int  # ... of which the customer spoke last
    longest_wait_s: float | None  # among those
    handled: int  # conversations of the period they answered at least once
    first_answers: int  # conversations of the period whose first answer was theirs
    mean_first_answer_s: float | None
    median_first_answer_s: float | None


@dataclass(frozen=True)
class AgentReport:
    since: datetime | None
    conversations: int  # opened in the period
    answered: int
    unanswered: int
    mean_first_answer_s: float | None
    median_first_answer_s: float | None
    unassigned_waiting: int  # open now, no agent
    agents: list[AgentFigures]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        return data


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def agent_report(engine: Engine, bu: BusinessUnit, clock: Clock,
                 since: datetime | None = None) -> AgentReport:
    now = clock.now()
    since = since.astimezone(UTC) if since else None  # stored in UTC (SQLite keeps no zone)
    with engine.connect() as conn:
        opened = assignments.opened_since(conn, bu.id, since)
        team = agents.of_business_unit(conn, bu.id)
        queues = {a.id: assignments.of_agent(conn, a.id) for a in team}
        unassigned = [c for c in assignments.unassigned_in_bu(conn, bu.id)
                      if c.waiting_since is not None]
    times = {c.conversation_id: first_answer_seconds(c.opened_at, c.first_answer_at)
             for c in opened}
    answered = [t for t in times.values() if t is not None]
    figures = []
    for member in team:
        waits = [w for c, _ in queues[member.id]
                 if (w := waiting_seconds(c.waiting_since, now)) is not None]
        firsts = [times[c.conversation_id] for c in opened
                  if c.first_agent_id == member.id and times[c.conversation_id] is not None]
        figures.append(AgentFigures(
            member.name, member.display_name, member.availability.value,
            open_now=len(queues[member.id]), waiting_now=len(waits),
            longest_wait_s=max(waits) if waits else None,
            handled=sum(member.id in c.agent_ids for c in opened), first_answers=len(firsts),
            mean_first_answer_s=_mean(firsts), median_first_answer_s=_median(firsts)))
    return AgentReport(since, len(opened), len(answered), len(opened) - len(answered),
                       _mean(answered), _median(answered), len(unassigned), figures)
