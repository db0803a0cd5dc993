"""The queries behind an agent skill's report: its texts, the replies, its conversations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select

from proactive_sms.domain.message_states import MessageKind
from proactive_sms.store.schema import (
    agent,
    agent_answer,
    conversation,
    conversation_assignment,
    inbound_message,
    message,
)


def texts_by_step_and_state(conn: Connection,
                            skill_ids: Sequence[int]) -> list[tuple[int, str, str | None, int]]:
    """(cadence step, state, skip reason, texts) of the skills' own texts."""
    rows = conn.execute(
        select(message.c.cadence_step, message.c.state, message.c.skip_reason, func.count())
        .where(message.c.skill_id.in_(list(skill_ids)))
        .group_by(message.c.cadence_step, message.c.state, message.c.skip_reason)
        .order_by(message.c.cadence_step, message.c.state, message.c.skip_reason)).all()
    return [(int(r[0]), r[1], r[2], int(r[3])) for r in rows]


def inbound_by_class(conn: Connection, skill_ids: Sequence[int]) -> dict[str, int]:
    rows = conn.execute(
        select(inbound_message.c.classification, func.count())
        .where(inbound_message.c.skill_id.in_(list(skill_ids)))
        .group_by(inbound_message.c.classification)).all()
    return {r[0]: int(r[1]) for r in rows}


def conversations_with_first_answer(
        conn: Connection, skill_ids: Sequence[int],
) -> list[tuple[int, str, datetime, datetime | None]]:
    """(conversation id, status, opened at, first agent answer at or None) of the skills'
    conversations."""
    first_answer = (
        select(message.c.conversation_id, func.min(message.c.created_at).label("first_at"))
        .where(message.c.kind == MessageKind.AGENT_REPLY.value,
               message.c.conversation_id.is_not(None))
        .group_by(message.c.conversation_id).subquery())
    rows = conn.execute(
        select(conversation.c.id, conversation.c.status, conversation.c.opened_at,
               first_answer.c.first_at)
        .outerjoin(first_answer, first_answer.c.conversation_id == conversation.c.id)
        .where(conversation.c.skill_id.in_(list(skill_ids)))
        .order_by(conversation.c.id)).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def conversations_by_agent(conn: Connection, skill_ids: Sequence[int]) -> dict[str, list[int]]:
    """Agent name -> [conversations of the skills assigned to them now, conversations they
    answered at least once]."""
    of_skills = select(conversation.c.id).where(conversation.c.skill_id.in_(list(skill_ids)))
    figures: dict[str, list[int]] = {}
    assigned = conn.execute(
        select(agent.c.name, func.count())
        .join(conversation_assignment, conversation_assignment.c.agent_id == agent.c.id)
        .where(conversation_assignment.c.conversation_id.in_(of_skills))
        .group_by(agent.c.name)).all()
    for name, count in assigned:
        figures.setdefault(name, [0, 0])[0] = int(count)
    answered = conn.execute(
        select(agent.c.name, func.count(func.distinct(agent_answer.c.conversation_id)))
        .join(agent_answer, agent_answer.c.agent_id == agent.c.id)
        .where(agent_answer.c.conversation_id.in_(of_skills))
        .group_by(agent.c.name)).all()
    for name, count in answered:
        figures.setdefault(name, [0, 0])[1] = int(count)
    return dict(sorted(figures.items()))
