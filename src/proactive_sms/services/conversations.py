"""The agent inbox: conversations of sms_messaging codes, their history, answers and closing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageKind
from proactive_sms.services import assignment
from proactive_sms.store import conversations, inbound, registrations, system_texts
from proactive_sms.store.conversations import Conversation
from proactive_sms.store.errors import NotFound
from proactive_sms.store.tenancy import BusinessUnit


class ConversationError(ValueError):
    """Not a conversation of this BU, or not in a state that allows the action."""


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    direction: str  # in | out
    text: str
    note: str  # classification of an inbound text, or the state and kind of an outbound one
    kind: str | None = None  # outbound: the message's kind (agent_reply, a skill's text...)
    state: str | None = None  # outbound: its delivery state (pending, sent, delivered...)


def inbox(engine: Engine, bu: BusinessUnit, skill_id: int | None = None,
          include_closed: bool = False) -> list[Conversation]:
    with engine.connect() as conn:
        return conversations.list_for_bu(conn, bu.id, skill_id, include_closed)


def _get(conn, bu: BusinessUnit, conversation_id: int) -> Conversation:
    found = conversations.get_in_bu(conn, conversation_id, bu.id)
    if found is None:  # another BU's conversation is as absent as one that never was
        raise NotFound("conversation", conversation_id)
    return found


def history(engine: Engine, bu: BusinessUnit,
            conversation_id: int) -> tuple[Conversation, list[HistoryEntry]]:
    with engine.connect() as conn:
        found = _get(conn, bu, conversation_id)
        entries = [HistoryEntry(i.received_at, "in", i.text, i.classification)
                   for i in inbound.for_conversation(conn, conversation_id)]
        entries += [HistoryEntry(m.created_at, "out", m.body or "", f"{m.kind} {m.state}",
                                 m.kind, m.state)
                    for m in conversations.outbound_texts(conn, conversation_id, found.phone,
                                                          found.registration_id,
                                                          found.skill_id)]
    return found, sorted(entries, key=lambda e: (_naive(e.at), e.direction))


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)  # SQLite hands back naive UTC, PostgreSQL aware UTC


def reply(engine: Engine, bu: BusinessUnit, clock: Clock, conversation_id: int,
          text: str) -> int:
    """Queue an agent's answer: it leaves through the conversation's code ahead of bulk texts,
    under the same pacing and DNC rules. Returns the message id."""
    if not text.strip():
        raise ConversationError("the answer is empty")
    with engine.begin() as conn:
        found = _get(conn, bu, conversation_id)
        if found.status != "open":
            raise ConversationError(f"conversation #{conversation_id} is closed")
        registrations.registration_by_id(conn, found.registration_id)
        message_id = system_texts.queue(conn, registration_id=found.registration_id,
                                        destination=found.phone, body=text,
                                        kind=MessageKind.AGENT_REPLY, now=clock.now(),
                                        conversation_id=conversation_id)
        conversations.mark_answered(conn, conversation_id, clock.now())
        return message_id


def close(engine: Engine, bu: BusinessUnit, clock: Clock, conversation_id: int) -> None:
    with engine.begin() as conn:
        _get(conn, bu, conversation_id)
        if not conversations.close(conn, conversation_id, clock.now()):
            raise ConversationError(f"conversation #{conversation_id} is already closed")
        assignment.after_close(conn, conversation_id, clock.now())
