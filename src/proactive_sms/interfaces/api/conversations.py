"""`/v1/conversations`: replies to the BU's sms_messaging codes, their history, an agent's
answer, and closing. (Agents and assignment are in `agents.py`.)

Numbers are shown masked here, as in every display outside the message records themselves.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from proactive_sms.domain.phone import mask
from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import Problem, field_error
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import conversations, listing
from proactive_sms.store.conversations import Conversation

router = APIRouter(prefix="/conversations", tags=["conversations"])


class ConversationOut(BaseModel):
    id: int
    number: str = Field(description="The customer's number, masked.")
    skill: str | None = Field(description="The skill whose text they answered.")
    status: Literal["open", "closed"]
    opened_at: UtcDatetime
    last_inbound_at: UtcDatetime
    last_answer_at: UtcDatetime | None
    closed_at: UtcDatetime | None
    waiting_since: UtcDatetime | None = Field(
        description="When the customer's unanswered text came; null when answered or closed.")

    @classmethod
    def of(cls, c: Conversation, skill_names: dict[int, str]) -> ConversationOut:
        return cls(id=c.id, number=mask(c.phone), skill=skill_names.get(c.skill_id or 0),
                   status=c.status, opened_at=c.opened_at, last_inbound_at=c.last_inbound_at,
                   last_answer_at=c.last_answer_at, closed_at=c.closed_at,
                   waiting_since=c.waiting_since)


class HistoryEntryOut(BaseModel):
    at: UtcDatetime
    direction: Literal["in", "out"]
    text: str
    note: str = Field(description="An inbound text's classification, or an outbound text's "
                                  "kind and state.")


class ConversationDetail(ConversationOut):
    history: list[HistoryEntryOut]


class ReplyIn(RequestBody):
    text: str = Field(min_length=1, max_length=1600, pattern=r"\S",
                      description="The agent's answer.")


class ReplyOut(BaseModel):
    conversation_id: int
    message_id: int = Field(description="The queued text: see /v1/messages/{id}.")


def _wrong_status(exc: conversations.ConversationError) -> Problem:
    return Problem(409, "conversation-closed", "The conversation does not allow this", str(exc),
                   [field_error("status", str(exc))])


@router.get("")
def list_conversations(
    bu: CurrentBu, engine: EngineDep, page: PageParams,
    status: Literal["open", "closed"] | None = None,
    skill: Annotated[str | None, Query(description="Only this skill's conversations.")] = None,
    assigned: Annotated[bool | None, Query(
        description="false: only those no agent has (with status=open, the ones waiting for "
                    "an agent); true: only those an agent has.")] = None,
) -> Paged[ConversationOut]:
    """The BU's conversations, oldest first, a page at a time."""
    named = listing.conversations_page(engine, bu, page, status=status, skill=skill,
                                       assigned=assigned)
    return paged(named.page, lambda c: ConversationOut.of(c, named.skill_names))


@router.get("/{conversation_id}")
def get_conversation(conversation_id: int, bu: CurrentBu,
                     engine: EngineDep) -> ConversationDetail:
    """The conversation and its history: the customer's texts and ours, in time order."""
    found, entries = conversations.history(engine, bu, conversation_id)
    names = listing.skill_names(engine, [found.skill_id])
    return ConversationDetail(
        **ConversationOut.of(found, names).model_dump(),
        history=[HistoryEntryOut(at=e.at, direction=e.direction, text=e.text, note=e.note)
                 for e in entries])


@router.post("/{conversation_id}/replies", status_code=201,
             responses=idempotency.responses(201))
def reply(conversation_id: int, body: ReplyIn, bu: CurrentBu, engine: EngineDep,
          clock: ClockDep, guard: Idempotent) -> ReplyOut:
    """Queue an agent's answer: it leaves through the conversation's code ahead of bulk
    texts, under the same pacing and DNC rules."""

    def send() -> ReplyOut:
        try:
            message_id = conversations.reply(engine, bu, clock, conversation_id, body.text)
        except conversations.ConversationError as exc:
            raise _wrong_status(exc) from exc
        return ReplyOut(conversation_id=conversation_id, message_id=message_id)

    return guard.run(send)


@router.post("/{conversation_id}/close")
def close(conversation_id: int, bu: CurrentBu, engine: EngineDep,
          clock: ClockDep) -> ConversationOut:
    try:
        conversations.close(engine, bu, clock, conversation_id)
    except conversations.ConversationError as exc:
        raise _wrong_status(exc) from exc
    found, _ = conversations.history(engine, bu, conversation_id)
    return ConversationOut.of(found, listing.skill_names(engine, [found.skill_id]))
