"""What the console's agent workspace shows: the agent a console user is, one conversation's
thread (only the agent's own; any of the BU's for a supervisor), and the cheap marks its live
stream compares at each tick to tell that a reply came or a state changed.

The actions (availability, answer, close, transfer) are services/agents.py's, as in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from proactive_sms.domain.agent_assignment import waiting_seconds
from proactive_sms.domain.clock import Clock
from proactive_sms.services import agents, conversations, listing
from proactive_sms.services.agents import AgentView, QueueEntry
from proactive_sms.store import agent_activity, assignments
from proactive_sms.store import agents as agent_store
from proactive_sms.store.errors import NotFound
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class Thread:
    """A conversation, who has it, and its texts both ways in time order."""

    entry: QueueEntry
    skill_name: str | None
    history: list[conversations.HistoryEntry]

    @property
    def id(self) -> int:
        return self.entry.conversation.id

    @property
    def is_open(self) -> bool:
        return self.entry.conversation.status == "open"


def agent_of_user(engine: Engine, bu: BusinessUnit, agent_id: int) -> AgentView:
    """The agent a console user is tied to; NotFound when it is not an agent of this BU."""
    with engine.connect() as conn:
        found = agent_store.by_id(conn, agent_id)
    if found.business_unit_id != bu.id:
        raise NotFound("agent", agent_id)
    return agents.get_agent(engine, bu, found.name)


def own_thread(engine: Engine, bu: BusinessUnit, clock: Clock, agent: AgentView,
               conversation_id: int) -> Thread:
    """One of the agent's conversations (open or closed). Another agent's, a waiting one or
    another BU's is NotFound: an agent does not learn that it exists."""
    with engine.connect() as conn:
        current = assignments.of_conversation(conn, conversation_id)
    if current is None or current.agent_id != agent.agent.id:
        raise NotFound("conversation", conversation_id)
    return thread(engine, bu, clock, conversation_id)


def thread(engine: Engine, bu: BusinessUnit, clock: Clock, conversation_id: int) -> Thread:
    """Any conversation of the BU (a supervisor's view)."""
    entry = agents.assignment(engine, bu, clock, conversation_id)  # NotFound outside the BU
    _, history = conversations.history(engine, bu, conversation_id)
    skill_id = entry.conversation.skill_id
    names = listing.skill_names(engine, [skill_id]) if skill_id is not None else {}
    return Thread(entry, names.get(skill_id or 0), history)


def thread_mark(engine: Engine, conversation_id: int) -> tuple:
    """Changes whenever the thread would show something new (a text, a state, a close)."""
    with engine.connect() as conn:
        return agent_activity.thread_mark(conn, conversation_id)


@dataclass(frozen=True)
class QueueChange:
    changed: bool  # the queue would show something new
    new_replies: int  # conversations with a customer's text that came since the last look


QueueMark = tuple[datetime, datetime, datetime | None]  # last inbound, assigned, last answer


class QueueWatch:
    """The agent's queue as last seen, to tell at each tick what is new. At the first look,
    only replies that came after `since` (the page was drawn) are new: what the page showed
    is not a fresh reply."""

    def __init__(self, agent_id: int, since: datetime | None = None) -> None:
        self.agent_id = agent_id
        self.since = since  # when the page was drawn: a later reply is news at the first look
        self._seen: dict[int, QueueMark] | None = None

    @property
    def open_ids(self) -> frozenset[int]:
        """The agent's open conversations at the last look."""
        return frozenset(self._seen or ())

    def look(self, engine: Engine) -> QueueChange:
        """Read the agent's queue and compare (one statement)."""
        with engine.connect() as conn:
            return self.see(agent_activity.open_of_agent(conn, self.agent_id))

    def see(self, rows: list[agent_activity.QueueRow]) -> QueueChange:
        """Compare the queue as read elsewhere (a unit's feed) with the last look."""
        now = {cid: (inbound_at, assigned_at, answer_at)
               for cid, inbound_at, assigned_at, answer_at in rows}
        before, self._seen = self._seen, now
        if before is None:
            if self.since is None:
                return QueueChange(False, 0)
            fresh = sum(1 for inbound_at, _, _ in now.values()
                        if _utc(inbound_at) > _utc(self.since))
            return QueueChange(fresh > 0, fresh)
        new_replies = sum(1 for cid, (inbound_at, _, _) in now.items()
                          if cid not in before or before[cid][0] != inbound_at)
        return QueueChange(now != before, new_replies)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite


@dataclass(frozen=True)
class UnitMarks:
    """One read of a unit for every open workspace of it: each agent's open conversations and
    the thread marks of the conversations pages have open."""

    queues: dict[int, list[agent_activity.QueueRow]]  # by agent id
    threads: dict[int, tuple]  # by conversation id

    def queue_of(self, agent_id: int) -> list[agent_activity.QueueRow]:
        return self.queues.get(agent_id, [])


def unit_marks(engine: Engine, business_unit_id: int, watched: Iterable[int]) -> UnitMarks:
    """Two or three statements whatever the number of open workspaces of the unit."""
    with engine.connect() as conn:
        return UnitMarks(agent_activity.open_in_unit(conn, business_unit_id),
                         agent_activity.thread_marks(conn, list(watched)))


@dataclass(frozen=True)
class TeamLoad:
    """A supervisor's view of the unit's conversations and agents."""

    waiting: list[QueueEntry]  # open, no agent: longest waiting first
    held: list[QueueEntry]  # open, with an agent: the customer waiting longest first
    team: list[AgentView]  # every agent, their availability and open conversations


def load(engine: Engine, bu: BusinessUnit, clock: Clock) -> TeamLoad:
    now = clock.now()
    with engine.connect() as conn:
        held = [QueueEntry(c, name, at, waiting_seconds(c.waiting_since, now))
                for c, name, at in agent_activity.open_assigned_in_bu(conn, bu.id)]
    held.sort(key=lambda e: -(e.waiting_s if e.waiting_s is not None else -1.0))
    return TeamLoad(agents.unassigned(engine, bu, clock), held, agents.all_agents(engine, bu))
