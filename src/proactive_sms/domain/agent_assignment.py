"""Which agent gets a conversation, and how long a customer has been waiting: pure rules.

The rule, in order:
1. the agent who last had this number on this code, if they can still take it (sticky);
2. else the eligible agent with the fewest open conversations; among equals the one idle
   longest (never assigned counts as idlest), then the lowest id, so the choice is
   deterministic;
3. else nobody: the conversation waits, and is offered again as soon as an agent of its skill
   becomes available (oldest waiting first).

Eligible means: in the conversation's skill, `available`, and under their own limit of open
conversations if they have one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime


class Availability(enum.StrEnum):
    AVAILABLE = "available"  # takes new conversations
    AWAY = "away"  # keeps their conversations, takes no new ones for now
    OFFLINE = "offline"  # not working: takes nothing new, and nothing can be transferred to them


@dataclass(frozen=True)
class Candidate:
    """An agent of the conversation's skill, as the rule sees them."""

    agent_id: int
    availability: Availability
    open_conversations: int
    max_open_conversations: int | None = None
    last_assigned_at: datetime | None = None

    @property
    def eligible(self) -> bool:
        if self.availability is not Availability.AVAILABLE:
            return False
        limit = self.max_open_conversations
        return limit is None or self.open_conversations < limit


_NEVER = datetime.min.replace(tzinfo=UTC)


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return _NEVER
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def choose_agent(candidates: Iterable[Candidate], previous_agent_id: int | None = None
                 ) -> int | None:
    """The agent id that gets the conversation, or None when it must wait."""
    eligible = [c for c in candidates if c.eligible]
    for candidate in eligible:
        if candidate.agent_id == previous_agent_id:
            return candidate.agent_id
    if not eligible:
        return None
    best = min(eligible, key=lambda c: (c.open_conversations, _aware(c.last_assigned_at),
                                        c.agent_id))
    return best.agent_id


def waiting_seconds(unanswered_since: datetime | None, now: datetime) -> float | None:
    """How long the customer's first unanswered text has waited (None: nothing waits)."""
    if unanswered_since is None:
        return None
    return max(0.0, (_aware(now) - _aware(unanswered_since)).total_seconds())


def first_answer_seconds(opened_at: datetime, first_answer_at: datetime | None) -> float | None:
    """Time from the customer's first text to the first answer (None: not answered yet)."""
    if first_answer_at is None:
        return None
    return max(0.0, (_aware(first_answer_at) - _aware(opened_at)).total_seconds())


def format_wait(seconds: float | None) -> str:
    """'-', '45 s', '12 min 5 s', '3 h 02 min': for tables."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
