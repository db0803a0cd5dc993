"""What reply-aware pacing needs from the store, and the bound it sets, as last written.

`figures` reads, for many skills at once, their agents (availability, limit, open conversations),
their conversations waiting for an agent, their replies and their texts sent: five statements
whatever the number of skills or texts, read at the dispatcher's housekeeping, never per text.
`save` / `by_skill` keep each skill's bound for the status commands, the API and the console,
which may run in other processes (as code_pace does for a code's rate).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from proactive_sms.domain.agent_assignment import Availability
from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.reply_pacing import AgentSeat, ReplyBound, ReplyFigures, free_places
from proactive_sms.store.dialect import insert
from proactive_sms.store.schema import (
    agent,
    agent_skill,
    conversation,
    conversation_assignment,
    skill_counter,
    skill_reply_pace,
)

# A skill's texts that have left us (whatever the carrier or the handset made of them since).
_LEFT = (MessageState.SUBMITTING, MessageState.SENT, MessageState.DELIVERED,
         MessageState.UNDELIVERABLE, MessageState.EXPIRED, MessageState.UNCERTAIN)


def figures(conn: Connection, skill_ids: Sequence[int], recent_since: datetime,
            places_per_agent: int) -> dict[int, ReplyFigures]:
    """Each skill's agents' free places, replies (ever, and opened since `recent_since`) and
    texts sent, from the kept counters and the agents' and conversations' tables. Skills that
    no agent answers (none assigned, whatever their availability) are absent: their replies
    wait in the unit's inbox for a supervisor, and there are no agents' places to pace by."""
    ids = list(skill_ids)
    if not ids:
        return {}
    seats_of: dict[int, list[tuple[int, Availability, int | None]]] = defaultdict(list)
    agent_ids: set[int] = set()
    for skill_id, agent_id, availability, limit in conn.execute(
            select(agent_skill.c.skill_id, agent.c.id, agent.c.availability,
                   agent.c.max_open_conversations)
            .join(agent, agent.c.id == agent_skill.c.agent_id)
            .where(agent_skill.c.skill_id.in_(ids))):
        seats_of[skill_id].append((agent_id, Availability(availability), limit))
        agent_ids.add(agent_id)
    held: dict[int, int] = {}
    if agent_ids:
        held = dict(conn.execute(
            select(conversation_assignment.c.agent_id, func.count())
            .join(conversation, conversation.c.id == conversation_assignment.c.conversation_id)
            .where(conversation_assignment.c.agent_id.in_(sorted(agent_ids)),
                   conversation.c.status == "open")
            .group_by(conversation_assignment.c.agent_id)).all())
    waiting = dict(conn.execute(
        select(conversation.c.skill_id, func.count())
        .outerjoin(conversation_assignment,
                   conversation_assignment.c.conversation_id == conversation.c.id)
        .where(conversation.c.skill_id.in_(ids), conversation.c.status == "open",
               conversation_assignment.c.conversation_id.is_(None))
        .group_by(conversation.c.skill_id)).all())
    replies = {row[0]: (int(row[1]), int(row[2] or 0)) for row in conn.execute(
        select(conversation.c.skill_id, func.count(),
               func.sum(case((conversation.c.opened_at >= recent_since, 1), else_=0)))
        .where(conversation.c.skill_id.in_(ids))
        .group_by(conversation.c.skill_id))}
    sent = {row[0]: int(row[1] or 0) for row in conn.execute(
        select(skill_counter.c.skill_id, func.sum(skill_counter.c.messages))
        .where(skill_counter.c.skill_id.in_(ids),
               skill_counter.c.state.in_([s.value for s in _LEFT]))
        .group_by(skill_counter.c.skill_id))}
    found = {}
    for skill_id in ids:
        if not seats_of.get(skill_id):
            continue  # no agent answers this skill at all: nobody to pace for
        seats = [AgentSeat(availability is Availability.AVAILABLE, held.get(agent_id, 0), limit)
                 for agent_id, availability, limit in seats_of.get(skill_id, [])]
        available, free = free_places(seats, int(waiting.get(skill_id, 0)), places_per_agent)
        total, recent = replies.get(skill_id, (0, 0))
        found[skill_id] = ReplyFigures(available, free, total, recent, sent.get(skill_id, 0))
    return found


@dataclass(frozen=True)
class SavedBound:
    """A skill's bound as its dispatching worker last wrote it, and when."""

    bound: ReplyBound
    updated_at: datetime


def save(conn: Connection, bounds: dict[int, ReplyBound], now: datetime) -> None:
    """Record these skills' bounds (one statement)."""
    if not bounds:
        return
    statement = insert(conn, skill_reply_pace).values([
        dict(skill_id=skill_id, available_agents=b.available_agents, free_places=b.free_places,
             reply_rate=b.reply_rate, texts_per_min=b.texts_per_min,
             replies_in_flight=b.replies_in_flight, waiting=b.waiting, updated_at=now)
        for skill_id, b in bounds.items()])
    excluded = statement.excluded
    conn.execute(statement.on_conflict_do_update(
        index_elements=["skill_id"],
        set_={name: excluded[name] for name in (
            "available_agents", "free_places", "reply_rate", "texts_per_min",
            "replies_in_flight", "waiting", "updated_at")}))


def by_skill(conn: Connection, skill_ids: Sequence[int]) -> dict[int, SavedBound]:
    """The recorded bounds of these skills (absent: never reply-paced by a worker)."""
    if not skill_ids:
        return {}
    rows = conn.execute(select(skill_reply_pace)
                        .where(skill_reply_pace.c.skill_id.in_(list(skill_ids))))
    return {row.skill_id: SavedBound(
        ReplyBound(row.available_agents, row.free_places, row.reply_rate, row.texts_per_min,
                   row.replies_in_flight, bool(row.waiting)), row.updated_at) for row in rows}
