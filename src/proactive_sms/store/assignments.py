"""Which agent a conversation is assigned to, and which agent wrote which answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, select, update

from proactive_sms.store import conversations, paging
from proactive_sms.store.conversations import Conversation
from proactive_sms.store.schema import (
    agent,
    agent_answer,
    conversation,
    conversation_assignment,
    sms_registration,
)


@dataclass(frozen=True)
class Assignment:
    conversation_id: int
    agent_id: int
    assigned_at: datetime


def of_conversation(conn: Connection, conversation_id: int) -> Assignment | None:
    row = conn.execute(select(conversation_assignment).where(
        conversation_assignment.c.conversation_id == conversation_id)).first()
    return Assignment(row.conversation_id, row.agent_id, row.assigned_at) if row else None


def assign(conn: Connection, conversation_id: int, agent_id: int, now: datetime) -> None:
    """Give the conversation to the agent (a transfer replaces the earlier agent)."""
    moved = conn.execute(update(conversation_assignment).where(
        conversation_assignment.c.conversation_id == conversation_id,
    ).values(agent_id=agent_id, assigned_at=now)).rowcount
    if not moved:
        conn.execute(conversation_assignment.insert().values(
            conversation_id=conversation_id, agent_id=agent_id, assigned_at=now))
    conn.execute(update(agent).where(agent.c.id == agent_id).values(last_assigned_at=now))



def release(conn: Connection, conversation_ids: Sequence[int]) -> None:
    """The conversations have no agent any more: they wait for one again."""
    if conversation_ids:
        conn.execute(delete(conversation_assignment).where(
            conversation_assignment.c.conversation_id.in_(list(conversation_ids))))

def last_agent_for(conn: Connection, registration_id: int, phone: str,
                   excluding_conversation_id: int) -> int | None:
    """The agent of this number's latest earlier conversation on this code, if it had one."""
    return conn.scalar(
        select(conversation_assignment.c.agent_id)
        .join(conversation, conversation.c.id == conversation_assignment.c.conversation_id)
        .where(conversation.c.registration_id == registration_id,
               conversation.c.phone == phone,
               conversation.c.id != excluding_conversation_id)
        .order_by(conversation.c.opened_at.desc(), conversation.c.id.desc()).limit(1))


def _unassigned():
    return (select(conversation)
            .outerjoin(conversation_assignment,
                       conversation_assignment.c.conversation_id == conversation.c.id)
            .where(conversation_assignment.c.conversation_id.is_(None),
                   conversation.c.status == "open"))


def waiting_for_skills(conn: Connection, skill_ids: Sequence[int]) -> list[Conversation]:
    """Open conversations of these skills that no agent has, oldest waiting first."""
    rows = conn.execute(_unassigned().where(conversation.c.skill_id.in_(list(skill_ids)))
                        .order_by(func.coalesce(conversation.c.unanswered_since,
                                                conversation.c.opened_at),
                                  conversation.c.id))
    return [conversations.from_row(r) for r in rows]


def unassigned_in_bu(conn: Connection, business_unit_id: int) -> list[Conversation]:
    """Open conversations of the BU that no agent has (waiting for one, or of no skill)."""
    rows = conn.execute(_unassigned()
                        .join(sms_registration,
                              sms_registration.c.id == conversation.c.registration_id)
                        .where(sms_registration.c.business_unit_id == business_unit_id)
                        .order_by(func.coalesce(conversation.c.unanswered_since,
                                                conversation.c.opened_at),
                                  conversation.c.id))
    return [conversations.from_row(r) for r in rows]


def _of_agent(agent_id: int, include_closed: bool):
    query = (select(conversation, conversation_assignment.c.assigned_at)
             .join(conversation_assignment,
                   conversation_assignment.c.conversation_id == conversation.c.id)
             .where(conversation_assignment.c.agent_id == agent_id))
    return query if include_closed else query.where(conversation.c.status == "open")


def _held(row) -> tuple[Conversation, datetime]:
    return conversations.from_row(row), row.assigned_at


def of_agent(conn: Connection, agent_id: int, include_closed: bool = False,
             ) -> list[tuple[Conversation, datetime]]:
    """The agent's conversations with when each came to them, in id order."""
    rows = conn.execute(_of_agent(agent_id, include_closed).order_by(conversation.c.id))
    return [_held(r) for r in rows]


def page_of_agent(conn: Connection, agent_id: int, include_closed: bool, after_id: int,
                  limit: int) -> paging.Page[tuple[Conversation, datetime]]:
    return paging.fetch(conn, _of_agent(agent_id, include_closed), conversation.c.id,
                        after_id, limit, _held)


def record_answer(conn: Connection, message_id: int, agent_id: int, conversation_id: int,
                  now: datetime) -> None:
    conn.execute(agent_answer.insert().values(message_id=message_id, agent_id=agent_id,
                                              conversation_id=conversation_id, answered_at=now))


@dataclass(frozen=True)
class AnsweredConversation:
    """A conversation of the BU opened in the report's period, with who answered it."""

    conversation_id: int
    opened_at: datetime
    first_answer_at: datetime | None
    first_agent_id: int | None  # who wrote the first answer (None: a supervisor, or nobody)
    agent_ids: frozenset[int]  # every agent who answered in it


def opened_since(conn: Connection, business_unit_id: int,
                 since: datetime | None) -> list[AnsweredConversation]:
    query = (select(conversation.c.id, conversation.c.opened_at,
                    conversation.c.first_answer_at)
             .join(sms_registration, sms_registration.c.id == conversation.c.registration_id)
             .where(sms_registration.c.business_unit_id == business_unit_id)
             .order_by(conversation.c.id))
    if since is not None:
        query = query.where(conversation.c.opened_at >= since)
    opened = conn.execute(query).all()
    answers: dict[int, list[tuple[datetime, int]]] = {}
    ids = [row.id for row in opened]
    for start in range(0, len(ids), 1000):  # bounded IN lists
        for row in conn.execute(select(agent_answer.c.conversation_id, agent_answer.c.agent_id,
                                       agent_answer.c.answered_at, agent_answer.c.message_id)
                                .where(agent_answer.c.conversation_id.in_(ids[start:start + 1000]))
                                .order_by(agent_answer.c.answered_at, agent_answer.c.message_id)):
            answers.setdefault(row.conversation_id, []).append((row.answered_at, row.agent_id))
    result = []
    for row in opened:
        by_agents = answers.get(row.id, [])
        first = by_agents[0] if by_agents else None
        # The first answer of all may be a supervisor's: then no agent gets its time.
        first_agent = (first[1] if first is not None and row.first_answer_at is not None
                       and _same_moment(first[0], row.first_answer_at) else None)
        result.append(AnsweredConversation(row.id, row.opened_at, row.first_answer_at,
                                           first_agent, frozenset(a for _, a in by_agents)))
    return result


def _same_moment(a: datetime, b: datetime) -> bool:
    return _utc(a) == _utc(b)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive
