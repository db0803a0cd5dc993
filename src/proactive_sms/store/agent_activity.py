"""Cheap marks of what changed for an agent, read at every tick of the workspace's live stream.

Both read through indexes only, whatever the size of the message tables: an agent's open
conversations through the assignment's agent index (a handful of rows), and a conversation's
answers through agent_answer's conversation index joined to the message by its key.
"""

from __future__ import annotations

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
    head = conn.execute(select(conversation.c.status, conversation.c.last_inbound_at,
                               conversation.c.last_answer_at)
                        .where(conversation.c.id == conversation_id)).first()
    answers = conn.execute(
        select(message.c.id, message.c.state)
        .join(agent_answer, agent_answer.c.message_id == message.c.id)
        .where(agent_answer.c.conversation_id == conversation_id)
        .order_by(message.c.id)).all()
    return (tuple(head) if head else None, tuple(tuple(a) for a in answers))


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
