"""Notices: saved templates sent to a calling list again and again (use 2 of DESIGN.md).

A notice is an agentless skill that sends a saved template. The list and the code a template
was last sent with are remembered by its last notice, so the next one is a single click; the
history lists past notices with their outcome. Sending itself is `broadcasts.send`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from proactive_sms.services import reporting
from proactive_sms.store import calling_lists, registrations, skills, templates
from proactive_sms.store.errors import NotFound
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class Target:
    """Where a notice goes: the calling list and the transport code it is sent from."""

    calling_list: str
    registration: str
    calling_window: dict | None = None  # the recipient-local hours it was sent within


@dataclass(frozen=True)
class Outcome:
    """One past notice and what became of its texts (its skill report)."""

    skill: str
    template: str
    target: Target
    status: str
    created_at: datetime
    started_at: datetime | None
    report: reporting.Report

    @property
    def by_state(self) -> Mapping[str, int]:
        """Messages by state (skipped included)."""
        return self.report.by_state

    @property
    def total(self) -> int:
        return self.report.total

    @property
    def sent(self) -> int:
        return reporting.texts_sent(self.report.by_state)

    @property
    def delivery_rate(self) -> float | None:
        return self.report.delivery_rate


def last_targets(engine: Engine, bu: BusinessUnit) -> dict[str, Target]:
    """For each template that was sent as a notice: the list and code of its last notice."""
    found: dict[str, Target] = {}
    with engine.connect() as conn:
        for stored in templates.list_templates(conn, bu.id):
            latest = skills.latest_with_template(conn, bu.id, 1, stored.id)
            if latest:
                found[stored.name] = _target(conn, latest[0])
    return found


def last_target(engine: Engine, bu: BusinessUnit, template_name: str) -> Target | None:
    """The list and code the template was last sent with, or None if it never was."""
    with engine.connect() as conn:
        stored = templates.find_template(conn, bu.id, template_name)
        latest = skills.latest_with_template(conn, bu.id, 1, stored.id)
        return _target(conn, latest[0]) if latest else None


def history(engine: Engine, bu: BusinessUnit, now: datetime,
            limit: int = 20) -> list[Outcome]:
    """The BU's latest notices, newest first, each with its skill report."""
    with engine.connect() as conn:
        notices = skills.latest_with_template(conn, bu.id, limit)
        found = [(skill, _template_name(conn, skill.template_id), _target(conn, skill))
                 for skill in notices]
    return [Outcome(skill.name, template, target, skill.status.value, skill.created_at,
                    skill.started_at, reporting.skill_report(engine, bu, skill.name, now))
            for skill, template, target in found]


def _target(conn, skill: skills.Skill) -> Target:
    return Target(calling_lists.list_by_id(conn, skill.calling_list_id).name,
                  registrations.registration_by_id(conn, skill.registration_id).code,
                  skill.calling_window)


def _template_name(conn, template_id: int | None) -> str:
    if template_id is None:
        return ""
    try:
        return templates.template_by_id(conn, template_id).name
    except NotFound:
        return ""
