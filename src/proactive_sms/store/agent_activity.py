"""Cheap marks of what changed for an agent, read at every tick of the workspace's live stream.

They read through indexes only, whatever the size of the message tables: open conversations
through the assignments (one row per conversation an agent has), and a conversation's answers
through agent_answer's conversation index joined to the message by its key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from proactive_sms.store import conversations
from proactive_sms.store.conversations import Conversation
from proactive_sms.store.schema import (
    agent,
    agent_answer,
    conversation,
    conversation_assignment,
    message,
)

# (conversation id, last inbound at, assigned at, last answer at)
QueueRow = tuple[int, datetime, datetime, datetime | None]


def open_of_agent(conn: Connection, agent_id: int) -> list[QueueRow]:
    """The agent's open conversations with when each last heard from the customer, came to the
    agent, and was last answered; in id order."""
    rows = conn.execute(
        select(conversation.c.id, conversation.c.last_inbound_at,
               conversation_assignment.c.assigned_at, conversation.c.last_answer_at)
        .join(conversation_assignment,
              conversation_assignment.c.conversation_id == conversation.c.id)
        .where(conversation_assignment.c.agent_id == agent_id,
               conversation.c.status == "open")
        .order_by(conversation.c.id))
    return [tuple(r) for r in rows]


def thread_mark(conn: Connection, conversation_id: int) -> tuple:
    """What a conversation's thread shows that can change: its status, last texts each way, and
    the state of every answer an agent wrote in it."""
    return thread_marks(conn, [conversation_id]).get(conversation_id, (None, ()))


def thread_marks(conn: Connection, conversation_ids: Sequence[int]) -> dict[int, tuple]:
    """`thread_mark` of several conversations in two statements."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}
    heads = {r.id: (r.status, r.last_inbound_at, r.last_answer_at) for r in conn.execute(
        select(conversation.c.id, conversation.c.status, conversation.c.last_inbound_at,
               conversation.c.last_answer_at).where(conversation.c.id.in_(ids)))}
    answers: dict[int, list[tuple]] = {i: [] for i in ids}
    for row in conn.execute(
            select(agent_answer.c.conversation_id, message.c.id, message.c.state)
            .join(message, message.c.id == agent_answer.c.message_id)
            .where(agent_answer.c.conversation_id.in_(ids))
            .order_by(message.c.id)):
        answers[row.conversation_id].append((row.id, row.state))
    return {i: (heads.get(i), tuple(answers[i])) for i in ids}


def open_in_unit(conn: Connection, business_unit_id: int) -> dict[int, list[QueueRow]]:
    """Agent id -> `open_of_agent` of each agent of the unit who has an open conversation, in
    one statement (for a feed shared by every open workspace of the unit)."""
    rows = conn.execute(
        select(conversation_assignment.c.agent_id, conversation.c.id,
               conversation.c.last_inbound_at, conversation_assignment.c.assigned_at,
               conversation.c.last_answer_at)
        .join(conversation, conversation.c.id == conversation_assignment.c.conversation_id)
        .join(agent, agent.c.id == conversation_assignment.c.agent_id)
        .where(agent.c.business_unit_id == business_unit_id, conversation.c.status == "open")
        .order_by(conversation.c.id))
    found: dict[int, list[QueueRow]] = {}
    for agent_id, *row in rows:
        found.setdefault(agent_id, []).append(tuple(row))
    return found


def open_assigned_in_bu(conn: Connection, business_unit_id: int
                        ) -> list[tuple[Conversation, str, datetime]]:
    """The BU's open conversations that an agent has: (conversation, agent name, assigned at),
    in id order. Found through the agents of the BU and the assignment's agent index."""
    rows = conn.execute(
        select(conversation, agent.c.name.label("agent_name"),
               conversation_assignment.c.assigned_at)
        .join(conversation_assignment,
              conversation_assignment.c.conversation_id == conversation.c.id)
        .join(agent, agent.c.id == conversation_assignment.c.agent_id)
        .where(agent.c.business_unit_id == business_unit_id,
               conversation.c.status == "open")
        .order_by(conversation.c.id))
    return [(conversations.from_row(r), r.agent_name, r.assigned_at) for r in rows]
