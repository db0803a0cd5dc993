"""Giving conversations to agents, inside the caller's transaction.

`route` runs in the transaction that opens (or extends) a conversation, so a reply is never
stored without its routing decided; `offer_waiting` runs whenever an agent may have become able
to take more (back to available, a skill added, a conversation closed or transferred away);
`hand_back` when an agent goes offline.
The choice itself is `domain.agent_assignment.choose_agent`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from proactive_sms.domain.agent_assignment import Candidate, choose_agent
from proactive_sms.domain.phone import mask
from proactive_sms.store import agents, assignments
from proactive_sms.store.conversations import Conversation

log = logging.getLogger(__name__)


def route(conn: Connection, found: Conversation, now: datetime) -> int | None:
    """Assign an open, unassigned conversation of a skill to the agent the rule picks.
    Returns the agent id, or None when it waits (no skill, no eligible agent, or it already
    has an agent)."""
    if found.skill_id is None or found.status != "open":
        return None
    if assignments.of_conversation(conn, found.id) is not None:
        return None
    team = agents.of_skill(conn, found.skill_id, lock=True)
    if not team:
        return None
    open_now = agents.open_counts(conn, [a.id for a in team])
    candidates = [Candidate(a.id, a.availability, open_now[a.id], a.max_open_conversations,
                            a.last_assigned_at) for a in team]
    previous = assignments.last_agent_for(conn, found.registration_id, found.phone, found.id)
    chosen = choose_agent(candidates, previous)
    if chosen is None:
        log.info("conversation #%d with %s waits: no agent of skill #%d can take it",
                 found.id, mask(found.phone), found.skill_id)
        return None
    assignments.assign(conn, found.id, chosen, now)
    return chosen


def offer_waiting(conn: Connection, skill_ids: Iterable[int], now: datetime
                  ) -> list[tuple[int, int]]:
    """Offer the conversations waiting for an agent of these skills, oldest first, by the same
    rule. Returns (conversation id, agent id) of each one assigned."""
    assigned = []
    stuck: set[int] = set()  # skills with nobody left to take one: later ones wait too
    for waiting in assignments.waiting_for_skills(conn, sorted(set(skill_ids))):
        if waiting.skill_id in stuck:
            continue
        agent_id = route(conn, waiting, now)
        if agent_id is None:
            stuck.add(waiting.skill_id)
        else:
            assigned.append((waiting.id, agent_id))
    return assigned


def offer_to_skills_of(conn: Connection, agent_id: int, now: datetime) -> list[tuple[int, int]]:
    """An agent may take more (they came back, or one of theirs was closed or moved away):
    offer the conversations waiting for any of their skills."""
    return offer_waiting(conn, agents.skill_ids(conn, agent_id), now)


def hand_back(conn: Connection, agent_id: int, now: datetime) -> tuple[list[int],
                                                                      list[tuple[int, int]]]:
    """An agent who goes offline answers nobody: their open conversations wait for an agent
    again and are offered at once to the others of their skills (the rule, oldest waiting
    first). Returns the ids handed back and (conversation id, agent id) of those re-assigned."""
    held = [found for found, _ in assignments.of_agent(conn, agent_id)]
    assignments.release(conn, [found.id for found in held])
    for found in held:
        log.info("conversation #%d with %s goes back to the queue: its agent went offline",
                 found.id, mask(found.phone))
    skill_ids = {found.skill_id for found in held if found.skill_id is not None}
    return [found.id for found in held], offer_waiting(conn, skill_ids, now)


def after_close(conn: Connection, conversation_id: int, now: datetime) -> None:
    """A closed conversation frees a place with its agent, if it had one."""
    holder = assignments.of_conversation(conn, conversation_id)
    if holder is not None:
        offer_to_skills_of(conn, holder.agent_id, now)
