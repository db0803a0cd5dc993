"""Agents of a business unit, their availability and the skills whose replies they answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update

from proactive_sms.domain.agent_assignment import Availability
from proactive_sms.store import paging
from proactive_sms.store.errors import AlreadyExists, NotFound
from proactive_sms.store.schema import (
    agent,
    agent_skill,
    conversation,
    conversation_assignment,
    skill,
)


@dataclass(frozen=True)
class Agent:
    id: int
    business_unit_id: int
    name: str
    display_name: str
    availability: Availability
    max_open_conversations: int | None
    last_assigned_at: datetime | None
    created_at: datetime
    version: int = 1  # raised by every change of its settings (store.versions)


def _agent(row) -> Agent:
    return Agent(row.id, row.business_unit_id, row.name, row.display_name,
                 Availability(row.availability), row.max_open_conversations,
                 row.last_assigned_at, row.created_at, row.version)


def create(conn: Connection, business_unit_id: int, name: str, display_name: str,
           availability: Availability, max_open_conversations: int | None,
           now: datetime) -> Agent:
    existing = conn.execute(select(agent.c.id, agent.c.archived_at).where(
        agent.c.business_unit_id == business_unit_id, agent.c.name == name)).first()
    if existing is not None and existing.archived_at is None:
        raise AlreadyExists("agent", name)
    if existing is not None:
        # An archived agent created again: the same row comes back (the conversations they
        # handled stay theirs) with the new settings.
        conn.execute(update(agent).where(agent.c.id == existing.id).values(
            display_name=display_name, availability=availability.value,
            max_open_conversations=max_open_conversations, archived_at=None,
            version=agent.c.version + 1))
        return by_id(conn, existing.id)
    new_id = conn.execute(agent.insert().values(
        business_unit_id=business_unit_id, name=name, display_name=display_name,
        availability=availability.value, max_open_conversations=max_open_conversations,
        created_at=now)).inserted_primary_key[0]
    return by_id(conn, new_id)


def find(conn: Connection, business_unit_id: int, name: str) -> Agent:
    row = conn.execute(select(agent).where(agent.c.business_unit_id == business_unit_id,
                                           agent.c.name == name,
                                           agent.c.archived_at.is_(None))).first()
    if row is None:
        raise NotFound("agent", name)
    return _agent(row)


def by_id(conn: Connection, agent_id: int) -> Agent:
    row = conn.execute(select(agent).where(agent.c.id == agent_id)).first()
    if row is None:
        raise NotFound("agent", agent_id)
    return _agent(row)


def page(conn: Connection, business_unit_id: int, after_id: int, limit: int) -> paging.Page[Agent]:
    """The BU's agents after an id, in id order."""
    return paging.fetch(conn, select(agent).where(agent.c.business_unit_id == business_unit_id,
                                                  agent.c.archived_at.is_(None)),
                        agent.c.id, after_id, limit, _agent)


def of_business_unit(conn: Connection, business_unit_id: int) -> list[Agent]:
    rows = conn.execute(select(agent).where(agent.c.business_unit_id == business_unit_id,
                                            agent.c.archived_at.is_(None))
                        .order_by(agent.c.id))
    return [_agent(r) for r in rows]


def set_availability(conn: Connection, agent_id: int, availability: Availability) -> None:
    conn.execute(update(agent).where(agent.c.id == agent_id)
                 .values(availability=availability.value))


def add_skill(conn: Connection, agent_id: int, skill_id: int) -> bool:
    """Make the agent answer the skill's replies; False when they already did."""
    if conn.scalar(select(func.count()).select_from(agent_skill).where(
            agent_skill.c.agent_id == agent_id, agent_skill.c.skill_id == skill_id)):
        return False
    conn.execute(agent_skill.insert().values(agent_id=agent_id, skill_id=skill_id))
    return True


def remove_skill(conn: Connection, agent_id: int, skill_id: int) -> bool:
    return conn.execute(delete(agent_skill).where(agent_skill.c.agent_id == agent_id,
                                                  agent_skill.c.skill_id == skill_id)
                        ).rowcount == 1


def skill_names(conn: Connection, agent_ids: list[int]) -> dict[int, list[str]]:
    """Each agent's skill names, sorted."""
    names: dict[int, list[str]] = {agent_id: [] for agent_id in agent_ids}
    rows = conn.execute(select(agent_skill.c.agent_id, skill.c.name)
                        .join(skill, skill.c.id == agent_skill.c.skill_id)
                        .where(agent_skill.c.agent_id.in_(agent_ids))
                        .order_by(skill.c.name))
    for agent_id, name in rows:
        names[agent_id].append(name)
    return names


def skill_ids(conn: Connection, agent_id: int) -> list[int]:
    return list(conn.scalars(select(agent_skill.c.skill_id)
                             .where(agent_skill.c.agent_id == agent_id)
                             .order_by(agent_skill.c.skill_id)))


def open_counts(conn: Connection, agent_ids: list[int]) -> dict[int, int]:
    """Open conversations assigned to each agent."""
    counts = {agent_id: 0 for agent_id in agent_ids}
    rows = conn.execute(
        select(conversation_assignment.c.agent_id, func.count())
        .join(conversation, conversation.c.id == conversation_assignment.c.conversation_id)
        .where(conversation_assignment.c.agent_id.in_(agent_ids),
               conversation.c.status == "open")
        .group_by(conversation_assignment.c.agent_id))
    for agent_id, count in rows:
        counts[agent_id] = int(count)
    return counts


def of_skill(conn: Connection, skill_id: int, lock: bool = False) -> list[Agent]:
    """The skill's agents. With `lock`, their rows stay locked until the transaction ends
    (PostgreSQL), so two workers assigning at once cannot both fill the same agent's last
    place; SQLite has one writer at a time anyway."""
    query = (select(agent).join(agent_skill, agent_skill.c.agent_id == agent.c.id)
             .where(agent_skill.c.skill_id == skill_id).order_by(agent.c.id))
    if lock:
        query = query.with_for_update(of=agent)
    return [_agent(r) for r in conn.execute(query)]


def skills_with_agents(conn: Connection, skill_ids: list[int]) -> set[int]:
    """Those of these skills that at least one agent answers (whatever their availability)."""
    if not skill_ids:
        return set()
    return set(conn.scalars(select(agent_skill.c.skill_id).distinct()
                            .where(agent_skill.c.skill_id.in_(list(skill_ids)))))
