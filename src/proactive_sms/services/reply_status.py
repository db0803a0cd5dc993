"""Where a skill stands with reply-aware pacing, as a person reads it: off, not for this skill,
or the bound its agents set now and why ("3 agents, 11 free places, reply rate 4% -> 9
texts/min"). Read by `psms skill status`, the API's progress and the console's dashboard.

The bound is what the code's dispatching worker last wrote (store.reply_pace): it is as fresh
as that worker's housekeeping, and absent until a worker has dispatched the skill.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from proactive_sms.domain.reply_pacing import (
    DEFAULT_PRIOR_REPLY_RATE,
    ReplyBound,
    invites_replies,
)
from proactive_sms.store import agents, registrations, reply_pace, skills
from proactive_sms.store.skills import Skill, SkillStatus
from proactive_sms.store.tenancy import BusinessUnit


class ReplyPacingState(enum.StrEnum):
    PACED = "paced"  # bounded by its agents now (see the bound)
    OFF = "off"  # turned off for this skill
    NOT_APPLICABLE = "not_applicable"  # its texts bring no replies for agents (external code)
    NO_AGENTS = "no_agents"  # no agent answers this skill: its replies wait in the inbox
    NOT_DISPATCHED = "not_dispatched"  # not running, or no worker has dispatched it yet


@dataclass(frozen=True)
class ReplyPacingStatus:
    state: ReplyPacingState
    prior_reply_rate: float
    bound: ReplyBound | None = None
    updated_at: datetime | None = None

    def explain(self) -> str:
        """One line for a person."""
        if self.state is ReplyPacingState.PACED and self.bound is not None:
            return self.bound.explain()
        return {
            ReplyPacingState.OFF: "off: texts go at the code's pace",
            ReplyPacingState.NOT_APPLICABLE: "not applied: replies to this code reach no agent",
            ReplyPacingState.NO_AGENTS: "not applied: no agent answers this skill",
            ReplyPacingState.NOT_DISPATCHED: "on: bound shown once the skill is dispatched",
        }[self.state]

    def as_dict(self) -> dict:
        bound = self.bound
        return {
            "state": self.state.value, "explain": self.explain(),
            "prior_reply_rate": self.prior_reply_rate,
            "available_agents": bound.available_agents if bound else None,
            "free_places": bound.free_places if bound else None,
            "reply_rate": bound.reply_rate if bound else None,
            "texts_per_min": bound.texts_per_min if bound else None,
            "replies_in_flight": bound.replies_in_flight if bound else None,
            "waiting": bound.waiting if bound else False,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def statuses(conn: Connection, members: Sequence[Skill]) -> dict[int, ReplyPacingStatus]:
    """Each skill's reply-pacing status (a few statements for all of them)."""
    codes = {r.id: r for r in registrations.list_registrations(conn)} if members else {}
    ids = [s.id for s in members]
    saved = reply_pace.by_skill(conn, ids)
    with_agents = agents.skills_with_agents(conn, ids)
    found = {}
    for member in members:
        prior = member.reply_rate_prior or DEFAULT_PRIOR_REPLY_RATE
        code = codes.get(member.registration_id)
        if not member.reply_pacing:
            state = ReplyPacingState.OFF
        elif code is None or not invites_replies(member.kind, code.solution):
            state = ReplyPacingState.NOT_APPLICABLE
        elif member.id not in with_agents:
            state = ReplyPacingState.NO_AGENTS
        elif member.status is not SkillStatus.RUNNING or member.id not in saved:
            state = ReplyPacingState.NOT_DISPATCHED
        else:
            state = ReplyPacingState.PACED
        entry = saved.get(member.id) if state is ReplyPacingState.PACED else None
        found[member.id] = ReplyPacingStatus(state, prior, entry.bound if entry else None,
                                             entry.updated_at if entry else None)
    return found


def status_of(engine: Engine, bu: BusinessUnit, name: str) -> ReplyPacingStatus:
    """The BU's skill of that name (NotFound otherwise): its reply-pacing status."""
    with engine.connect() as conn:
        found = skills.find_skill(conn, bu.id, name)
        return statuses(conn, [found])[found.id]
