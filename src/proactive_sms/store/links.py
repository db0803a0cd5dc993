"""Tracked links: each skill's link targets, and clicks (one row per recipient and link)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, insert, select, update

from proactive_sms.store.schema import link_click, message, skill, skill_link


@dataclass(frozen=True)
class SkillLinks:
    """What the redirect needs of one skill: its targets by link index, its business unit and
    when it finished (None while it runs)."""

    skill_id: int
    business_unit_id: int
    targets: tuple[str, ...]
    finished_at: datetime | None


@dataclass(frozen=True)
class ClickCounts:
    clicks: int  # every counted click
    unique_clickers: int  # recipients who clicked at least once


def save_targets(conn: Connection, skill_id: int, targets: Sequence[str], first: int) -> None:
    """The skill's link targets from index `first`, once: a launch resumed after a crash, or a
    cadence's step reached again, finds them written (the same text gives the same targets)."""
    written = set(conn.execute(select(skill_link.c.link_index)
                               .where(skill_link.c.skill_id == skill_id)).scalars())
    rows = [{"skill_id": skill_id, "link_index": first + i, "target_url": url}
            for i, url in enumerate(targets) if first + i not in written]
    if rows:
        conn.execute(insert(skill_link), rows)


def targets(conn: Connection, skill_id: int) -> tuple[str, ...]:
    rows = conn.execute(select(skill_link.c.target_url).where(skill_link.c.skill_id == skill_id)
                        .order_by(skill_link.c.link_index)).scalars().all()
    return tuple(rows)


def skill_links(conn: Connection, skill_id: int) -> SkillLinks | None:
    """The skill's targets and state, or None when the skill has no tracked link."""
    row = conn.execute(select(skill.c.business_unit_id, skill.c.finished_at)
                       .where(skill.c.id == skill_id)).first()
    if row is None:
        return None
    found = targets(conn, skill_id)
    if not found:
        return None
    return SkillLinks(skill_id, row.business_unit_id, found, row.finished_at)


def record_click(conn: Connection, skill_id: int, record_id: int, link_index: int,
                 agent_class: str, now: datetime) -> bool:
    """Count one click; True when it is this recipient's first on this link.

    An UPDATE first (the common case once a link is clicked: one statement), else an INSERT
    that leaves a row written meanwhile by another process alone, and then the UPDATE again."""
    key = and_(link_click.c.skill_id == skill_id, link_click.c.record_id == record_id,
               link_click.c.link_index == link_index)
    bump = update(link_click).where(key).values(clicks=link_click.c.clicks + 1,
                                                last_clicked_at=now)
    if conn.execute(bump).rowcount:
        return False
    values = {"skill_id": skill_id, "record_id": record_id, "link_index": link_index,
              "first_clicked_at": now, "last_clicked_at": now, "clicks": 1,
              "agent_class": agent_class}
    inserted = conn.execute(_insert_ignoring_conflict(conn).values(**values)).rowcount
    if inserted:
        return True
    conn.execute(bump)
    return False


def _insert_ignoring_conflict(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(link_click).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(link_click).on_conflict_do_nothing()


def click_counts(conn: Connection, skill_ids: Sequence[int]) -> ClickCounts:
    """Clicks and unique clickers over these skills (a recipient of two skills counts twice:
    they are two texts)."""
    if not skill_ids:
        return ClickCounts(0, 0)
    clickers = (select(link_click.c.skill_id, link_click.c.record_id,
                       func.sum(link_click.c.clicks).label("clicks"))
                .where(link_click.c.skill_id.in_(skill_ids))
                .group_by(link_click.c.skill_id, link_click.c.record_id).subquery())
    row = conn.execute(select(func.coalesce(func.sum(clickers.c.clicks), 0),
                              func.count()).select_from(clickers)).one()
    return ClickCounts(int(row[0]), int(row[1]))


def clicks_by_skill(conn: Connection, skill_ids: Sequence[int]) -> dict[int, ClickCounts]:
    """ClickCounts of each skill that has clicks."""
    if not skill_ids:
        return {}
    rows = conn.execute(
        select(link_click.c.skill_id, func.sum(link_click.c.clicks),
               func.count(func.distinct(link_click.c.record_id)))
        .where(link_click.c.skill_id.in_(skill_ids)).group_by(link_click.c.skill_id)).all()
    return {row[0]: ClickCounts(int(row[1]), int(row[2])) for row in rows}


def message_of(conn: Connection, skill_id: int, record_id: int) -> tuple[int, str | None] | None:
    """(id, destination) of the recipient's latest text of the skill, for the webhook event."""
    row = conn.execute(select(message.c.id, message.c.destination)
                       .where(message.c.skill_id == skill_id, message.c.record_id == record_id)
                       .order_by(message.c.id.desc()).limit(1)).first()
    return None if row is None else (row.id, row.destination)
