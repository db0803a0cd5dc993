"""Agents: who they are, which skills' replies they answer, whether they take new conversations,
and what they do with the conversations they have (answer, close; a supervisor transfers).

Each function is one transaction. Lookups are by (business unit, name) or scoped to the BU, so
another unit's agents, skills and conversations are "not found", never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, select

from proactive_sms.domain.agent_assignment import Availability, waiting_seconds
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageKind
from proactive_sms.services.administration import InvalidRequest, checked_name
from proactive_sms.services.assignment import (
    after_close,
    hand_back,
    offer_to_skills_of,
    offer_waiting,
)
from proactive_sms.services.listing import PageRequest
from proactive_sms.store import agents, assignments, conversations, skills, system_texts
from proactive_sms.store.agents import Agent
from proactive_sms.store.conversations import Conversation
from proactive_sms.store.errors import NotFound
from proactive_sms.store.paging import Page
from proactive_sms.store.tenancy import BusinessUnit

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MAX_ANSWER_CHARS = 1600  # ten UCS-2 segments and more: longer is a mistake, not an answer


class AgentRefused(ValueError):
    """An action the state of the conversation or the agent does not allow; `field` names the
    request value it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AgentView:
    """An agent with what a supervisor wants to see at a glance."""

    agent: Agent
    skills: list[str]
    open_conversations: int

    @property
    def name(self) -> str:
        return self.agent.name


@dataclass(frozen=True)
class QueueEntry:
    """One conversation in a queue, with how long the customer has been waiting."""

    conversation: Conversation
    agent_name: str | None
    assigned_at: datetime | None
    waiting_s: float | None


def availability_of(value: str) -> Availability:
    try:
        return Availability(value)
    except ValueError:
        choices = ", ".join(a.value for a in Availability)
        raise InvalidRequest(f"availability must be one of {choices}, got '{value}'") from None


def _views(conn: Connection, found: list[Agent]) -> list[AgentView]:
    ids = [a.id for a in found]
    names = agents.skill_names(conn, ids)
    counts = agents.open_counts(conn, ids)
    return [AgentView(a, names[a.id], counts[a.id]) for a in found]


def _view(conn: Connection, found: Agent) -> AgentView:
    return _views(conn, [found])[0]


# --- agents and their skills ------------------------------------------------------------------

def create_agent(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                 display_name: str | None = None, availability: str = "offline",
                 max_open_conversations: int | None = None,
                 skill_names: list[str] | None = None) -> AgentView:
    """A new agent of the BU, answering the replies of these skills. New agents are offline
    until they say otherwise, unless created `available`."""
    checked_name("agent", name)  # the rule of every name; agents' own shape is stricter:
    if not NAME.fullmatch(name):
        raise InvalidRequest(f"agent name must be 1-100 letters, digits, '.', '_' or '-', "
                             f"starting with a letter or digit; got '{name}'")
    shown = (display_name if display_name is not None else name).strip()
    if not shown or len(shown) > 200:
        raise InvalidRequest("display name must be 1-200 characters")
    if max_open_conversations is not None and max_open_conversations < 1:
        raise InvalidRequest(f"max open conversations must be at least 1, got "
                             f"{max_open_conversations}")
    state = availability_of(availability)
    now = clock.now()
    with engine.begin() as conn:
        created = agents.create(conn, bu.id, name, shown, state, max_open_conversations, now)
        skill_ids = [skills.find_skill(conn, bu.id, s).id for s in skill_names or []]
        for skill_id in skill_ids:
            agents.add_skill(conn, created.id, skill_id)
        if state is Availability.AVAILABLE:
            offer_waiting(conn, skill_ids, now)
        return _view(conn, created)


def get_agent(engine: Engine, bu: BusinessUnit, name: str) -> AgentView:
    with engine.connect() as conn:
        return _view(conn, agents.find(conn, bu.id, name))


def list_agents(engine: Engine, bu: BusinessUnit,
                req: PageRequest = PageRequest()) -> Page[AgentView]:
    """A page of the BU's agents in creation order."""
    with engine.connect() as conn:
        found = agents.page(conn, bu.id, req.after_id, req.limit)
        return Page(_views(conn, found.items), found.last_id, found.more)


def all_agents(engine: Engine, bu: BusinessUnit) -> list[AgentView]:
    with engine.connect() as conn:
        return _views(conn, agents.of_business_unit(conn, bu.id))


@dataclass(frozen=True)
class AvailabilityChange:
    agent: AgentView
    assigned: list[int]  # conversations given to an agent by this change (to them or others)
    handed_back: list[int]  # going offline: their open conversations, back in the queue


def set_availability(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                     availability: str) -> AvailabilityChange:
    """Change whether the agent takes new conversations. Back to `available`, the conversations
    waiting for their skills are offered at once (oldest first). `away` keeps their
    conversations; `offline` hands them back, offered at once to the others of their skills
    (nobody is answering them: a customer must not wait on someone who left)."""
    state = availability_of(availability)
    now = clock.now()
    with engine.begin() as conn:
        found = agents.find(conn, bu.id, name)
        agents.set_availability(conn, found.id, state)
        assigned: list[tuple[int, int]] = []
        handed_back: list[int] = []
        if state is Availability.AVAILABLE:
            assigned = offer_to_skills_of(conn, found.id, now)
        elif state is Availability.OFFLINE:
            handed_back, assigned = hand_back(conn, found.id, now)
        return AvailabilityChange(_view(conn, agents.by_id(conn, found.id)),
                                  [c for c, _ in assigned], handed_back)


def add_skill(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
              skill_name: str) -> AgentView:
    """The agent answers this skill's replies from now on (and takes its waiting ones)."""
    with engine.begin() as conn:
        found = agents.find(conn, bu.id, name)
        skill_id = skills.find_skill(conn, bu.id, skill_name).id
        agents.add_skill(conn, found.id, skill_id)
        offer_waiting(conn, [skill_id], clock.now())
        return _view(conn, found)


def remove_skill(engine: Engine, bu: BusinessUnit, name: str, skill_name: str) -> AgentView:
    """The agent takes no new conversations of this skill (they keep the ones they have)."""
    with engine.begin() as conn:
        found = agents.find(conn, bu.id, name)
        skill_id = skills.find_skill(conn, bu.id, skill_name).id
        if not agents.remove_skill(conn, found.id, skill_id):
            raise AgentRefused(f"agent {name} does not answer skill {skill_name}", "skill")
        return _view(conn, found)


# --- queues -----------------------------------------------------------------------------------

def queue(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
          include_closed: bool = False) -> list[QueueEntry]:
    """The agent's conversations in id order, each with the customer's waiting time."""
    now = clock.now()
    with engine.connect() as conn:
        found = agents.find(conn, bu.id, name)
        return [QueueEntry(c, found.name, at, waiting_seconds(c.waiting_since, now))
                for c, at in assignments.of_agent(conn, found.id, include_closed)]


def queue_page(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, req: PageRequest,
               include_closed: bool = False) -> Page[QueueEntry]:
    """A page of `queue`."""
    now = clock.now()
    with engine.connect() as conn:
        found = agents.find(conn, bu.id, name)
        held = assignments.page_of_agent(conn, found.id, include_closed, req.after_id,
                                         req.limit)
    return Page([QueueEntry(c, found.name, at, waiting_seconds(c.waiting_since, now))
                 for c, at in held.items], held.last_id, held.more)


def unassigned(engine: Engine, bu: BusinessUnit, clock: Clock) -> list[QueueEntry]:
    """Open conversations no agent has, longest waiting first."""
    now = clock.now()
    with engine.connect() as conn:
        return [QueueEntry(c, None, None, waiting_seconds(c.waiting_since, now))
                for c in assignments.unassigned_in_bu(conn, bu.id)]


def assignment(engine: Engine, bu: BusinessUnit, clock: Clock,
               conversation_id: int) -> QueueEntry:
    """Who has the conversation, since when, and how long its customer has been waiting."""
    with engine.connect() as conn:
        found = _conversation(conn, bu, conversation_id)
        return _entry(conn, found, clock.now())


def _entry(conn: Connection, found: Conversation, now: datetime) -> QueueEntry:
    current = assignments.of_conversation(conn, found.id)
    holder = agents.by_id(conn, current.agent_id).name if current else None
    return QueueEntry(found, holder, current.assigned_at if current else None,
                      waiting_seconds(found.waiting_since, now))


def _conversation(conn: Connection, bu: BusinessUnit, conversation_id: int) -> Conversation:
    found = conversations.get_in_bu(conn, conversation_id, bu.id)
    if found is None:
        raise NotFound("conversation", conversation_id)
    return found


# --- what agents and supervisors do with a conversation ----------------------------------------

def _own_open(conn: Connection, bu: BusinessUnit, name: str,
              conversation_id: int) -> tuple[Agent, Conversation]:
    """The agent and their open conversation, or why they may not act on it."""
    found_agent = agents.find(conn, bu.id, name)
    found = _conversation(conn, bu, conversation_id)
    current = assignments.of_conversation(conn, conversation_id)
    if current is None or current.agent_id != found_agent.id:
        holder = (f"assigned to {agents.by_id(conn, current.agent_id).name}" if current
                  else "waiting for an agent")
        raise AgentRefused(
            f"conversation #{conversation_id} is {holder}, not to {name}: only its agent "
            f"acts on it; a supervisor can transfer it to {name} (psms agent transfer "
            f"{conversation_id} {name}, or PUT /v1/conversations/{conversation_id}/assignment)"
            f" or answer it from the inbox (psms inbox reply {conversation_id})", "agent")
    if found.status != "open":
        raise AgentRefused(f"conversation #{conversation_id} is closed", "conversation")
    return found_agent, found


def answer(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, conversation_id: int,
           text: str) -> int:
    """The agent's answer to one of their conversations: queued as an agent_reply text that
    the dispatcher sends through the conversation's code ahead of bulk texts. Returns the
    message id."""
    if not text.strip():
        raise InvalidRequest("the answer is empty")
    if len(text) > MAX_ANSWER_CHARS:
        raise InvalidRequest(f"the answer has {len(text)} characters; at most "
                             f"{MAX_ANSWER_CHARS}")
    now = clock.now()
    with engine.begin() as conn:
        found_agent, found = _own_open(conn, bu, name, conversation_id)
        message_id = system_texts.queue(conn, registration_id=found.registration_id,
                                        destination=found.phone, body=text,
                                        kind=MessageKind.AGENT_REPLY, now=now,
                                        conversation_id=conversation_id)
        conversations.mark_answered(conn, conversation_id, now)
        assignments.record_answer(conn, message_id, found_agent.id, conversation_id, now)
        return message_id


def close(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
          conversation_id: int) -> None:
    """The agent closes one of their conversations; a place is free for a waiting one."""
    now = clock.now()
    with engine.begin() as conn:
        _own_open(conn, bu, name, conversation_id)
        conversations.close(conn, conversation_id, now)
        after_close(conn, conversation_id, now)


def transfer(engine: Engine, bu: BusinessUnit, clock: Clock, conversation_id: int,
             to_agent: str) -> QueueEntry:
    """A supervisor gives an open conversation to another agent of the BU (an unassigned one
    too). Refused for an unknown or offline agent; an away agent may take it for when they are
    back, and a supervisor's choice may go past the agent's own limit."""
    now = clock.now()
    with engine.begin() as conn:
        found = _conversation(conn, bu, conversation_id)
        if found.status != "open":
            raise AgentRefused(f"conversation #{conversation_id} is closed", "conversation")
        try:
            target = agents.find(conn, bu.id, to_agent)
        except NotFound:
            raise InvalidRequest(f"no agent '{to_agent}' in business unit {bu.name}") from None
        if target.availability is Availability.OFFLINE:
            raise AgentRefused(f"agent {to_agent} is offline: transfer to an agent who is "
                               f"available or away", "agent")
        current = assignments.of_conversation(conn, conversation_id)
        if current is None or current.agent_id != target.id:
            assignments.assign(conn, conversation_id, target.id, now)
            if current is not None:  # the earlier agent has a place free now
                offer_to_skills_of(conn, current.agent_id, now)
        return _entry(conn, conversations.get(conn, conversation_id), now)


# --- changing and removing an agent -------------------------------------------------------------

AGENT_FIELDS = ("display_name", "max_open_conversations")


def change_agent(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                 changes: dict, expected_version: int | None = None, *,
                 actor: str | None = None) -> AgentView:
    """Change an agent's display name or limit of open conversations (None: no limit), checked
    as at creation. Availability and skills have their own actions (they hand conversations
    out or back), so they are not changed here."""
    from proactive_sms.services import audit
    from proactive_sms.store import versions
    from proactive_sms.store.schema import agent as agent_table

    unknown = sorted(set(changes) - set(AGENT_FIELDS))
    if unknown:
        raise InvalidRequest(f"cannot change {', '.join(unknown)}: the fields that can be "
                             f"changed are {', '.join(AGENT_FIELDS)}", unknown[0])
    values = dict(changes)
    if "display_name" in values:
        shown = (values["display_name"] or "").strip()
        if not shown or len(shown) > 200:
            raise InvalidRequest("display name must be 1-200 characters", "display_name")
        values["display_name"] = shown
    limit = values.get("max_open_conversations")
    if limit is not None and limit < 1:
        raise InvalidRequest(f"max open conversations must be at least 1, got {limit}",
                             "max_open_conversations")
    with engine.begin() as conn:
        found = agents.find(conn, bu.id, name)
        versions.change(conn, agent_table, found.id, expected_version, "agent", found.name,
                        **values)
        audit.record(conn, None, "agent.changed", found.name, values, bu=bu, now=clock.now(),
                     username=actor or audit.CLI_USERNAME)
        return _view(conn, agents.by_id(conn, found.id))


def remove_agent(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                 expected_version: int | None = None, *, actor: str | None = None):
    """Remove an agent with no open conversation and no console user. One who answered or was
    assigned conversations is archived (the conversations keep who handled them); their skills
    are let go either way, so nothing is offered to them again."""
    from proactive_sms.services import audit
    from proactive_sms.services.setup_changes import Removal, in_use
    from proactive_sms.store import versions
    from proactive_sms.store.schema import agent as agent_table
    from proactive_sms.store.schema import agent_skill, console_user

    with engine.begin() as conn:
        found = agents.find(conn, bu.id, name)
        users = []
        open_count = agents.open_counts(conn, [found.id])[found.id]
        if open_count:
            users.append(f"{open_count} open conversation(s) (transfer or close them)")
        users += [f"console user {u}" for u in conn.scalars(
            select(console_user.c.username).where(console_user.c.agent_id == found.id))]
        if users:
            raise in_use("agent", found.name, users)
        conn.execute(delete(agent_skill).where(agent_skill.c.agent_id == found.id))
        kept_for = versions.referenced(conn, agent_table, found.id)
        if kept_for:
            versions.archive(conn, agent_table, found.id, expected_version, clock.now(),
                             kind="agent", key=found.name, availability="offline")
        else:
            versions.remove(conn, agent_table, found.id, expected_version, kind="agent",
                            key=found.name)
        removal = Removal("agent", found.name, bool(kept_for), kept_for)
        audit.record(conn, None, "agent.removed", found.name, removal.as_dict(), bu=bu,
                     now=clock.now(), username=actor or audit.CLI_USERNAME)
        return removal
