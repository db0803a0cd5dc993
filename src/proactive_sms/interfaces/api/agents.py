"""`/v1/agents`: agents, their skills and availability, their conversations (answer, close);
`/v1/conversations/{id}/assignment`: who has a conversation, and transfers; the agent report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from proactive_sms.domain.phone import mask
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import Problem, field_error, invalid
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.patching import PatchIn, RemovalOut, changes_of
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import agents, audit
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.agent_report import AgentReport, agent_report
from proactive_sms.services.agents import AgentRefused, AgentView, QueueEntry

router = APIRouter(tags=["agents"])

AvailabilityValue = Literal["available", "away", "offline"]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
AgentName = Annotated[str, Path(min_length=1, max_length=100, pattern=NAME_PATTERN,
                                description="The agent's name.")]
SkillName = Annotated[str, Path(min_length=1, max_length=200)]
ConversationId = Annotated[int, Path(ge=1, le=2**62, description="The conversation's id.")]


@contextlib.contextmanager
def _answers_as_problems(field: str | None = None) -> Iterator[None]:
    """Refusals are conflicts with the conversation's or agent's state (409); wrong values
    are 422, naming the request field."""
    try:
        yield
    except AgentRefused as exc:
        raise Problem(409, "refused", "The action is refused", str(exc),
                      [field_error(exc.field, str(exc))]) from exc
    except InvalidRequest as exc:
        raise invalid(field, str(exc)) from exc


# --- models -----------------------------------------------------------------------------------

class AgentIn(RequestBody):
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN,
                      description="Letters, digits, '.', '_' or '-'; unique in the BU.")
    display_name: str | None = Field(None, min_length=1, max_length=200,
                                     pattern=r"\S",
                                     description="Shown to supervisors (default: the name).")
    availability: AvailabilityValue = Field("offline", description="New agents take nothing "
                                                                   "until available.")
    max_open_conversations: int | None = Field(None, ge=1, le=10_000,
                                               description="None: no limit.")
    skills: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100,
                              description="Skills whose replies they answer.")


class AgentOut(BaseModel):
    name: str
    display_name: str
    availability: AvailabilityValue
    max_open_conversations: int | None
    skills: list[str]
    open_conversations: int
    created_at: UtcDatetime
    version: int = Field(1, description="Raised by every change of its settings; the ETag of "
                                        "GET is this.")

    @classmethod
    def of(cls, view: AgentView) -> AgentOut:
        found = view.agent
        return cls(name=found.name, display_name=found.display_name,
                   availability=found.availability.value,
                   max_open_conversations=found.max_open_conversations, skills=view.skills,
                   open_conversations=view.open_conversations, created_at=found.created_at,
                   version=found.version)


class AvailabilityIn(RequestBody):
    availability: AvailabilityValue


class AvailabilityOut(AgentOut):
    assigned_conversations: list[int] = Field(
        description="Conversations this change gave to an agent: the waiting ones the agent "
                    "took on becoming available, or, going offline, those of theirs that "
                    "others took.")
    handed_back_conversations: list[int] = Field(
        description="Going offline: the agent's open conversations, back in the queue (and "
                    "offered at once to the others of their skills).")


class ConversationOut(BaseModel):
    id: int
    customer: str = Field(description="The customer's number, masked.")
    status: str
    agent: str | None = Field(description="The agent who has it (null: waiting for one).")
    assigned_at: UtcDatetime | None
    opened_at: UtcDatetime
    last_inbound_at: UtcDatetime
    unanswered_since: UtcDatetime | None = Field(description="The customer's first unanswered "
                                                          "text (null: answered).")
    waiting_s: float | None = Field(description="How long that text has waited, in seconds.")
    first_answer_at: UtcDatetime | None

    @classmethod
    def of(cls, entry: QueueEntry) -> ConversationOut:
        found = entry.conversation
        return cls(id=found.id, customer=mask(found.phone), status=found.status,
                   agent=entry.agent_name, assigned_at=entry.assigned_at,
                   opened_at=found.opened_at, last_inbound_at=found.last_inbound_at,
                   unanswered_since=found.waiting_since, waiting_s=entry.waiting_s,
                   first_answer_at=found.first_answer_at)


class AnswerIn(RequestBody):
    text: str = Field(min_length=1, max_length=agents.MAX_ANSWER_CHARS)


class AnswerOut(BaseModel):
    message_id: int = Field(description="The queued text (kind agent_reply).")
    conversation_id: int


class AssignmentIn(RequestBody):
    agent: str = Field(min_length=1, max_length=100,
                       description="An agent of the BU who is available or away.")


# --- agents -----------------------------------------------------------------------------------

@router.post("/agents", status_code=201)
def create_agent(body: AgentIn, bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> AgentOut:
    """Create an agent answering the replies of the given skills."""
    with _answers_as_problems("name"):
        return AgentOut.of(agents.create_agent(
            engine, bu, clock, body.name, body.display_name, body.availability,
            body.max_open_conversations, body.skills))


@router.get("/agents")
def list_agents(bu: CurrentBu, engine: EngineDep, page: PageParams) -> Paged[AgentOut]:
    """The BU's agents in creation order, a page at a time."""
    return paged(agents.list_agents(engine, bu, page), AgentOut.of)


@router.get("/agents/{name}")
def get_agent(name: AgentName, bu: CurrentBu, engine: EngineDep,
              response: Response) -> AgentOut:
    """One agent; the ETag is the version of their settings, for If-Match on a change."""
    view = agents.get_agent(engine, bu, name)
    set_etag(response, view.agent.version)
    return AgentOut.of(view)


class AgentPatch(PatchIn):
    display_name: str | None = Field(None, min_length=1, max_length=200, pattern=r"\S")
    max_open_conversations: int | None = Field(None, ge=1, le=10_000,
                                               description="null: no limit.")


@router.patch("/agents/{name}")
def change_agent(name: AgentName, body: AgentPatch, bu: CurrentBu, engine: EngineDep,
                 clock: ClockDep, request: Request, response: Response) -> AgentOut:
    """Change the display name or the limit of open conversations. Availability and skills
    have their own verbs (they hand conversations out or back). With If-Match, only if nobody
    changed the agent since that read (412 otherwise)."""
    changes = changes_of(body, nullable=("max_open_conversations",))
    with _answers_as_problems():
        view = agents.change_agent(engine, bu, clock, name, changes, expected_version(request),
                                   actor=audit.API_USERNAME)
    set_etag(response, view.agent.version)
    return AgentOut.of(view)


@router.delete("/agents/{name}")
def remove_agent(name: AgentName, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                 request: Request) -> RemovalOut:
    """Remove the agent: 409 while they have open conversations or a console user; archived
    when conversations they handled refer to them."""
    removal = agents.remove_agent(engine, bu, clock, name, expected_version(request),
                                  actor=audit.API_USERNAME)
    return RemovalOut(**removal.as_dict())


@router.put("/agents/{name}/availability")
def set_availability(name: AgentName, body: AvailabilityIn, bu: CurrentBu, engine: EngineDep,
                     clock: ClockDep) -> AvailabilityOut:
    """available: takes new conversations (and at once those waiting for their skills);
    away: keeps theirs, takes no new ones; offline: takes nothing, none can be transferred to
    them, and their open conversations go back to the queue (offered to the others of their
    skills at once)."""
    with _answers_as_problems("availability"):
        change = agents.set_availability(engine, bu, clock, name, body.availability)
    return AvailabilityOut(**AgentOut.of(change.agent).model_dump(),
                           assigned_conversations=change.assigned,
                           handed_back_conversations=change.handed_back)


@router.put("/agents/{name}/skills/{skill}")
def add_skill(name: AgentName, skill: SkillName,
              bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> AgentOut:
    """The agent answers this skill's replies (it takes those waiting, if available)."""
    return AgentOut.of(agents.add_skill(engine, bu, clock, name, skill))


@router.delete("/agents/{name}/skills/{skill}")
def remove_skill(name: AgentName, skill: SkillName,
                 bu: CurrentBu, engine: EngineDep) -> AgentOut:
    """The agent takes no new conversations of this skill; they keep the ones they have."""
    with _answers_as_problems("skill"):
        return AgentOut.of(agents.remove_skill(engine, bu, name, skill))


# --- an agent's conversations -----------------------------------------------------------------

@router.get("/agents/{name}/conversations")
def agent_conversations(name: AgentName, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                        page: PageParams,
                        include_closed: bool = False) -> Paged[ConversationOut]:
    """The agent's queue in id order, each with how long its customer has been waiting."""
    return paged(agents.queue_page(engine, bu, clock, name, page, include_closed),
                 ConversationOut.of)


@router.post("/agents/{name}/conversations/{conversation_id}/answers", status_code=201)
def answer(name: AgentName, conversation_id: ConversationId, body: AnswerIn, bu: CurrentBu,
           engine: EngineDep, clock: ClockDep) -> AnswerOut:
    """The agent answers one of their conversations: the text leaves through the
    conversation's code ahead of bulk texts. Only the assigned agent may; a supervisor can
    transfer the conversation (PUT /v1/conversations/{id}/assignment)."""
    with _answers_as_problems("text"):
        message_id = agents.answer(engine, bu, clock, name, conversation_id, body.text)
    return AnswerOut(message_id=message_id, conversation_id=conversation_id)


@router.post("/agents/{name}/conversations/{conversation_id}/close")
def close(name: AgentName, conversation_id: ConversationId, bu: CurrentBu, engine: EngineDep,
          clock: ClockDep) -> ConversationOut:
    """The agent closes one of their conversations (a place frees for a waiting one)."""
    with _answers_as_problems():
        agents.close(engine, bu, clock, name, conversation_id)
    return ConversationOut.of(agents.assignment(engine, bu, clock, conversation_id))


# --- assignment and transfer ------------------------------------------------------------------

@router.get("/conversations/{conversation_id}/assignment", tags=["conversations"])
def get_assignment(conversation_id: ConversationId, bu: CurrentBu, engine: EngineDep,
                   clock: ClockDep) -> ConversationOut:
    """Who has the conversation, since when, and how long its customer has been waiting."""
    return ConversationOut.of(agents.assignment(engine, bu, clock, conversation_id))


@router.put("/conversations/{conversation_id}/assignment", tags=["conversations"])
def transfer(conversation_id: ConversationId, body: AssignmentIn, bu: CurrentBu,
             engine: EngineDep, clock: ClockDep) -> ConversationOut:
    """Give an open conversation to another agent of the BU (or assign a waiting one).
    Refused for an unknown (422) or offline (409) agent."""
    with _answers_as_problems("agent"):
        return ConversationOut.of(agents.transfer(engine, bu, clock, conversation_id,
                                                  body.agent))


# --- report -----------------------------------------------------------------------------------

class AgentFiguresOut(BaseModel):
    name: str
    display_name: str
    availability: str
    open_now: int
    waiting_now: int
    longest_wait_s: float | None
    handled: int = Field(description="Conversations of the period they answered.")
    first_answers: int = Field(description="Conversations whose first answer was theirs.")
    mean_first_answer_s: float | None
    median_first_answer_s: float | None


class AgentReportOut(BaseModel):
    since: UtcDatetime | None
    conversations: int = Field(description="Opened in the period.")
    answered: int
    unanswered: int
    mean_first_answer_s: float | None
    median_first_answer_s: float | None
    unassigned_waiting: int = Field(description="Open now with no agent, customer waiting.")
    agents: list[AgentFiguresOut]

    @classmethod
    def of(cls, report: AgentReport) -> AgentReportOut:
        return cls.model_validate(report.as_dict())


@router.get("/reports/agents", tags=["reports"])
def report(bu: CurrentBu, engine: EngineDep, clock: ClockDep,
           since: Annotated[AwareDatetime | None, Query(
               description="Conversations opened from this moment (ISO 8601 with zone).")
           ] = None) -> AgentReportOut:
    """Conversations handled per agent and the time to first answer."""
    try:
        since_utc = since.astimezone(UTC) if since else None
    except OverflowError:
        raise invalid("since", "out of range") from None
    return AgentReportOut.of(agent_report(engine, bu, clock, since_utc))
