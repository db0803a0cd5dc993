"""Tracked links: each skill's link targets, and clicks (one row per recipient and link)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, tuple_, update

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


@dataclass(frozen=True)
class NewClick:
    """One counted click, as the redirect saw it."""

    skill_id: int
    record_id: int
    link_index: int
    agent_class: str
    at: datetime


ClickKey = tuple[int, int, int]  # (skill_id, record_id, link_index)


def record_clicks(conn: Connection, clicks: Sequence[NewClick]) -> set[ClickKey]:
    """Count a batch of clicks in three statements whatever its size; the keys for which a
    click of the batch was the recipient's first on that link.

    Clicks on one link are folded first (their count, the first one's time and agent class);
    links already clicked get one UPDATE each in an executemany, new ones an INSERT that adds
    to a row another process wrote meanwhile instead of failing (that process then sent the
    event, and on PostgreSQL both may: a webhook receiver must expect an event twice)."""
    folded: dict[ClickKey, list] = {}
    for click in clicks:
        key = (click.skill_id, click.record_id, click.link_index)
        entry = folded.get(key)
        if entry is None:
            folded[key] = [click.at, click.at, 1, click.agent_class]
        else:
            entry[1] = max(entry[1], click.at)
            entry[2] += 1
    keys = list(folded)
    existing: set[ClickKey] = set()
    for start in range(0, len(keys), 300):  # bound the parameters of one statement
        chunk = keys[start:start + 300]
        existing.update(tuple(row) for row in conn.execute(
            select(link_click.c.skill_id, link_click.c.record_id, link_click.c.link_index)
            .where(tuple_(link_click.c.skill_id, link_click.c.record_id,
                          link_click.c.link_index).in_(chunk))))
    bumps = [{"k_skill": k[0], "k_record": k[1], "k_index": k[2], "n": v[2], "last": v[1]}
             for k, v in folded.items() if k in existing]
    news = [{"skill_id": k[0], "record_id": k[1], "link_index": k[2], "first_clicked_at": v[0],
             "last_clicked_at": v[1], "clicks": v[2], "agent_class": v[3]}
            for k, v in folded.items() if k not in existing]
    if bumps:
        conn.execute(_BUMP, bumps)
    if news:
        statement = _upsert(conn)
        conn.execute(statement.on_conflict_do_update(
            index_elements=[link_click.c.skill_id, link_click.c.record_id,
                            link_click.c.link_index],
            set_={"clicks": link_click.c.clicks + statement.excluded.clicks,
                  "last_clicked_at": statement.excluded.last_clicked_at}), news)
    return {k for k in folded if k not in existing}


_BUMP = (update(link_click)
         .where(link_click.c.skill_id == bindparam("k_skill"),
                link_click.c.record_id == bindparam("k_record"),
                link_click.c.link_index == bindparam("k_index"))
         .values(clicks=link_click.c.clicks + bindparam("n"),
                 last_clicked_at=bindparam("last")))


def _upsert(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(link_click)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(link_click)


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
