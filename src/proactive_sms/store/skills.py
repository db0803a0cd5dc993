"""Skills and campaigns."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from proactive_sms.store import paging
from proactive_sms.store.errors import AlreadyExists, NotFound, StaleVersion
from proactive_sms.store.schema import campaign, skill


class SkillStatus(enum.StrEnum):
    DRAFT = "draft"  # created, never started
    SCHEDULED = "scheduled"  # to start at a moment (skill_start); cancelled: back to draft
    LAUNCHING = "launching"  # deciding every record once; resumable after a crash
    RUNNING = "running"  # its pending messages are dispatched (a launching skill's too)
    PAUSED = "paused"  # no new submits; resume continues
    STOPPED = "stopped"  # stopped by a person: pending messages were cancelled
    FINISHED = "finished"  # every message settled


@dataclass(frozen=True)
class Skill:
    id: int
    business_unit_id: int
    name: str
    kind: str
    registration_id: int
    calling_list_id: int
    campaign_id: int | None
    template_id: int | None
    message_text: str | None
    direction: str
    status: SkillStatus
    max_segments: int
    pacing_per_s: float | None
    validity_hours: float | None
    launch_cursor: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    calling_window: dict | None = None
    no_zone_policy: str = "skip"
    default_time_zone: str | None = None
    version: int = 1  # raised by user edits only (store.versions)
    archived_at: datetime | None = None  # a finished or stopped skill hidden from the lists
    reply_pacing: bool = True  # texts go no faster than the agents can answer their replies
    reply_rate_prior: float | None = None  # replies per text assumed at first (None: default)
    budget_micros: int | None = None  # the most its texts may cost (services.spend)
    pause_reason: str | None = None  # why the system paused it (a budget reached), if it did


def create_skill(conn: Connection, *, business_unit_id: int, name: str, registration_id: int,
                 calling_list_id: int, template_id: int | None, message_text: str | None,
                 direction: str, max_segments: int, pacing_per_s: float | None,
                 validity_hours: float | None, campaign_id: int | None,
                 now: datetime, calling_window: dict | None = None,
                 no_zone_policy: str = "skip", default_time_zone: str | None = None,
                 kind: str = "agentless_sms", reply_pacing: bool = True,
                 reply_rate_prior: float | None = None,
                 budget_micros: int | None = None) -> Skill:
    if conn.scalar(select(skill.c.id).where(skill.c.business_unit_id == business_unit_id,
                                            skill.c.name == name)):
        raise AlreadyExists("skill", name)
    conn.execute(skill.insert().values(
        business_unit_id=business_unit_id, name=name, kind=kind,
        registration_id=registration_id, calling_list_id=calling_list_id,
        template_id=template_id, message_text=message_text, direction=direction,
        status=SkillStatus.DRAFT.value, max_segments=max_segments, pacing_per_s=pacing_per_s,
        validity_hours=validity_hours, campaign_id=campaign_id, launch_cursor=0, created_at=now,
        calling_window=calling_window, no_zone_policy=no_zone_policy,
        default_time_zone=default_time_zone, reply_pacing=reply_pacing,
        reply_rate_prior=reply_rate_prior, budget_micros=budget_micros,
    ))
    return find_skill(conn, business_unit_id, name)


def find_skill(conn: Connection, business_unit_id: int, name: str) -> Skill:
    row = conn.execute(select(skill).where(skill.c.business_unit_id == business_unit_id,
                                           skill.c.name == name)).first()
    if row is None:
        raise NotFound("skill", name)
    return _skill(row)


def skill_by_id(conn: Connection, skill_id: int) -> Skill:
    row = conn.execute(select(skill).where(skill.c.id == skill_id)).first()
    if row is None:
        raise NotFound("skill", skill_id)
    return _skill(row)


def list_skills(conn: Connection, business_unit_id: int | None = None,
                statuses: Iterable[SkillStatus] | None = None,
                campaign_id: int | None = None) -> list[Skill]:
    query = select(skill).order_by(skill.c.id)
    if business_unit_id is not None:
        query = query.where(skill.c.business_unit_id == business_unit_id)
    if statuses is not None:
        query = query.where(skill.c.status.in_([s.value for s in statuses]))
    if campaign_id is not None:
        query = query.where(skill.c.campaign_id == campaign_id)
    return [_skill(r) for r in conn.execute(query)]



def latest_with_template(conn: Connection, business_unit_id: int, limit: int,
                         template_id: int | None = None) -> list[Skill]:
    """The BU's latest agentless skills that send a saved template (its notices), newest
    first; only those of one template when it is given."""
    query = select(skill).where(skill.c.business_unit_id == business_unit_id,
                                skill.c.kind == "agentless_sms",
                                skill.c.template_id.is_not(None))
    if template_id is not None:
        query = query.where(skill.c.template_id == template_id)
    return [_skill(r) for r in conn.execute(query.order_by(skill.c.id.desc()).limit(limit))]


def agent_skills_of_list(conn: Connection, calling_list_id: int,
                         statuses: Iterable[SkillStatus]) -> list[Skill]:
    """The agent skills working this calling list, in these statuses."""
    rows = conn.execute(select(skill).where(
        skill.c.calling_list_id == calling_list_id, skill.c.kind == "agent",
        skill.c.status.in_([s.value for s in statuses])).order_by(skill.c.id))
    return [_skill(r) for r in rows]

def change_status(conn: Connection, skill_id: int, new: SkillStatus,
                  expected: Iterable[SkillStatus], now: datetime) -> bool:
    """Compare-and-set the status: True when the skill was in one of `expected`."""
    values: dict = {"status": new.value}
    if new is not SkillStatus.PAUSED:
        values["pause_reason"] = None  # a system pause's reason lasts as long as the pause
    if new is SkillStatus.LAUNCHING:
        values["started_at"] = now
    if new in (SkillStatus.FINISHED, SkillStatus.STOPPED):
        values["finished_at"] = now
    result = conn.execute(
        update(skill)
        .where(skill.c.id == skill_id, skill.c.status.in_([s.value for s in expected]))
        .values(**values)
    )
    return result.rowcount == 1


def pause_with_reason(conn: Connection, skill_id: int, reason: str) -> bool:
    """The system pauses a running skill and says why (a budget reached): True when it was
    running (a person's pause or stop meanwhile wins)."""
    result = conn.execute(
        update(skill).where(skill.c.id == skill_id,
                            skill.c.status == SkillStatus.RUNNING.value)
        .values(status=SkillStatus.PAUSED.value, pause_reason=reason))
    return result.rowcount == 1


def set_text(conn: Connection, skill_id: int, template_id: int | None,
             message_text: str | None, direction: str) -> None:
    conn.execute(update(skill).where(skill.c.id == skill_id).values(
        template_id=template_id, message_text=message_text, direction=direction))


# What a person may change of a skill after creating it (its name and kind are its identity).
SETTINGS = ("registration_id", "calling_list_id", "campaign_id", "template_id", "message_text",
            "direction", "max_segments", "pacing_per_s", "validity_hours", "calling_window",
            "no_zone_policy", "default_time_zone", "reply_pacing", "reply_rate_prior",
            "budget_micros")


def update_settings(conn: Connection, skill_id: int, values: dict,
                    expected: Iterable[SkillStatus], expected_version: int | None = None,
                    name: str = "") -> bool:
    """Change settings (SETTINGS names) of a skill still in one of `expected` statuses, raising
    its version: False when its status moved meanwhile (a start between reading and writing);
    StaleVersion when `expected_version` is given and another edit came first."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValueError(f"not a skill setting: {sorted(unknown)}")
    condition = [skill.c.id == skill_id, skill.c.status.in_([s.value for s in expected])]
    if expected_version is not None:
        condition.append(skill.c.version == expected_version)
    result = conn.execute(update(skill).where(*condition)
                          .values(version=skill.c.version + 1, **values))
    if result.rowcount == 1:
        return True
    now = conn.scalar(select(skill.c.version).where(skill.c.id == skill_id))
    if expected_version is not None and now is not None and now != expected_version:
        raise StaleVersion("skill", name or skill_id, expected_version, now)
    return False


def advance_launch_cursor(conn: Connection, skill_id: int, record_id: int) -> None:
    conn.execute(update(skill).where(skill.c.id == skill_id, skill.c.launch_cursor < record_id)
                 .values(launch_cursor=record_id))


def _skill(row) -> Skill:
    return Skill(row.id, row.business_unit_id, row.name, row.kind, row.registration_id,
                 row.calling_list_id, row.campaign_id, row.template_id, row.message_text,
                 row.direction, SkillStatus(row.status), row.max_segments, row.pacing_per_s,
                 row.validity_hours, row.launch_cursor, row.created_at, row.started_at,
                 row.finished_at, row.calling_window, row.no_zone_policy, row.default_time_zone,
                 row.version, row.archived_at, bool(row.reply_pacing), row.reply_rate_prior,
                 row.budget_micros, row.pause_reason)


@dataclass(frozen=True)
class Campaign:
    id: int
    business_unit_id: int
    name: str
    version: int = 1  # raised by every user edit (store.versions)


def _campaign(row) -> Campaign:
    return Campaign(row.id, row.business_unit_id, row.name, row.version)


def create_campaign(conn: Connection, business_unit_id: int, name: str,
                    now: datetime) -> Campaign:
    if conn.scalar(select(campaign.c.id).where(campaign.c.business_unit_id == business_unit_id,
                                               campaign.c.name == name)):
        raise AlreadyExists("campaign", name)
    conn.execute(campaign.insert().values(business_unit_id=business_unit_id, name=name,
                                          created_at=now))
    return find_campaign(conn, business_unit_id, name)


def find_campaign(conn: Connection, business_unit_id: int, name: str) -> Campaign:
    row = conn.execute(select(campaign).where(campaign.c.business_unit_id == business_unit_id,
                                              campaign.c.name == name)).first()
    if row is None:
        raise NotFound("campaign", name)
    return _campaign(row)


def campaign_by_id(conn: Connection, campaign_id: int) -> Campaign:
    row = conn.execute(select(campaign).where(campaign.c.id == campaign_id)).first()
    if row is None:
        raise NotFound("campaign", campaign_id)
    return _campaign(row)


def assign_campaign(conn: Connection, skill_id: int, campaign_id: int) -> None:
    conn.execute(update(skill).where(skill.c.id == skill_id).values(campaign_id=campaign_id))


def page_skills(conn: Connection, business_unit_id: int, after_id: int, limit: int,
                status: SkillStatus | None = None,
                campaign_id: int | None = None, archived: bool = False) -> paging.Page[Skill]:
    """The BU's skills after an id, in id order, of one status or campaign if asked; archived
    skills only when asked."""
    query = select(skill).where(skill.c.business_unit_id == business_unit_id)
    if not archived:
        query = query.where(skill.c.archived_at.is_(None))
    if status is not None:
        query = query.where(skill.c.status == status.value)
    if campaign_id is not None:
        query = query.where(skill.c.campaign_id == campaign_id)
    return paging.fetch(conn, query, skill.c.id, after_id, limit, _skill)


def page_campaigns(conn: Connection, business_unit_id: int, after_id: int,
                   limit: int) -> paging.Page[Campaign]:
    query = select(campaign).where(campaign.c.business_unit_id == business_unit_id)
    return paging.fetch(conn, query, campaign.c.id, after_id, limit, _campaign)


def names(conn: Connection, skill_ids: Iterable[int | None]) -> dict[int, str]:
    """The names of these skills, by id (for showing a page of items that name their skill)."""
    wanted = sorted({i for i in skill_ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(select(skill.c.id, skill.c.name).where(skill.c.id.in_(wanted)))
    return {row.id: row.name for row in rows}


def campaign_names(conn: Connection, campaign_ids: Iterable[int | None]) -> dict[int, str]:
    """The names of these campaigns, by id."""
    wanted = sorted({i for i in campaign_ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(select(campaign.c.id, campaign.c.name).where(campaign.c.id.in_(wanted)))
    return {row.id: row.name for row in rows}


def skills_using_list(conn: Connection, calling_list_id: int) -> list[Skill]:
    """Every skill (archived ones too) that works or reported on this calling list."""
    rows = conn.execute(select(skill).where(skill.c.calling_list_id == calling_list_id)
                        .order_by(skill.c.id))
    return [_skill(r) for r in rows]


def skills_of_campaign(conn: Connection, campaign_id: int) -> list[Skill]:
    """Every skill (archived ones too) reported in this campaign."""
    rows = conn.execute(select(skill).where(skill.c.campaign_id == campaign_id)
                        .order_by(skill.c.id))
    return [_skill(r) for r in rows]
