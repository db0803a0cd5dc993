"""A skill's settings as a person sees them (names, not ids) and changing them after creation.

What may change depends on the skill's status. Before it starts, everything but its name and
kind. Once started, launch has decided every record with the code, list, text and segment limit
it had, so those stay; what the dispatcher reads as it sends (calling window, pacing, reply pacing,
validity, the no-zone policy) still applies to the texts not sent yet, and the campaign only groups
reports. A stopped or finished skill sends nothing more: only its campaign may change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.domain.money import amount_text
from proactive_sms.services.administration import (
    InvalidRequest,
    budget_amount,
    check_one_text,
    check_skill_settings,
    code_key,
)
from proactive_sms.store import calling_lists, registrations, skills
from proactive_sms.store import templates as template_store
from proactive_sms.store.errors import StaleVersion
from proactive_sms.store.skills import Skill, SkillStatus
from proactive_sms.store.tenancy import BusinessUnit

# The settings as a form or an API names them (template, campaign... by name).
ALL_SETTINGS = frozenset({
    "registration", "calling_list", "template", "message_text", "direction", "max_segments",
    "pacing_per_s", "validity_hours", "campaign", "calling_window", "no_zone_policy",
    "default_time_zone", "reply_pacing", "reply_rate_prior", "budget"})
# A budget may change while the skill runs: raising it lets a skill paused by it resume.
LIVE_SETTINGS = frozenset({"pacing_per_s", "validity_hours", "calling_window", "no_zone_policy",
                           "default_time_zone", "campaign", "reply_pacing", "reply_rate_prior",
                           "budget"})
_STARTED = (SkillStatus.LAUNCHING, SkillStatus.RUNNING, SkillStatus.PAUSED)


@dataclass(frozen=True)
class SkillView:
    """A skill with the names of what it refers to."""

    skill: Skill
    registration: str  # the transport code
    calling_list: str
    template: str | None
    campaign: str | None

    def settings(self) -> dict[str, Any]:
        """Every setting by its name in ALL_SETTINGS, as `update_skill` takes them."""
        s = self.skill
        return {"registration": self.registration, "calling_list": self.calling_list,
                "template": self.template, "message_text": s.message_text,
                "direction": s.direction, "max_segments": s.max_segments,
                "pacing_per_s": s.pacing_per_s, "validity_hours": s.validity_hours,
                "campaign": self.campaign, "calling_window": s.calling_window,
                "no_zone_policy": s.no_zone_policy, "default_time_zone": s.default_time_zone,
                "reply_pacing": s.reply_pacing, "reply_rate_prior": s.reply_rate_prior,
                "budget": None if s.budget_micros is None else amount_text(s.budget_micros)}


def editable(skill: Skill) -> frozenset[str]:
    """The settings a person may change now (see the module's docstring)."""
    if skill.status in (SkillStatus.DRAFT, SkillStatus.SCHEDULED):
        return ALL_SETTINGS  # a scheduled skill is checked again when it starts
    if skill.status in _STARTED:
        return LIVE_SETTINGS
    return frozenset({"campaign"})


def skill_view(engine: Engine, bu: BusinessUnit, name: str) -> SkillView:
    """The BU's skill of that name (NotFound otherwise) with the names it refers to."""
    with engine.connect() as conn:
        return _view(conn, skills.find_skill(conn, bu.id, name))


def _view(conn, skill: Skill) -> SkillView:
    return SkillView(
        skill,
        registrations.registration_by_id(conn, skill.registration_id).code,
        calling_lists.list_by_id(conn, skill.calling_list_id).name,
        (template_store.template_by_id(conn, skill.template_id).name
         if skill.template_id else None),
        skills.campaign_by_id(conn, skill.campaign_id).name if skill.campaign_id else None)


def update_skill(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                 changes: dict[str, Any], expected_version: int | None = None) -> SkillView:
    """Change some settings (keys of ALL_SETTINGS; None clears an optional one). Settings given
    with their current value are no change; a change the skill's status does not allow is
    refused naming the setting, as is a bad value (the same rules as creating one). With
    `expected_version` (an API's If-Match) the change applies only to that version of the
    skill: StaleVersion when another edit came first."""
    unknown = sorted(set(changes) - ALL_SETTINGS)
    if unknown:
        raise InvalidRequest(f"'{unknown[0]}' is not a setting of a skill", unknown[0])
    with engine.begin() as conn:
        current = _view(conn, skills.find_skill(conn, bu.id, name))
        if expected_version is not None and current.skill.version != expected_version:
            raise StaleVersion("skill", name, expected_version, current.skill.version)
        before = current.settings()
        wanted = {k: v for k, v in changes.items() if v != before[k]}
        if "budget" in wanted and wanted["budget"] is not None and before["budget"] is not None \
                and budget_amount(wanted["budget"]) == budget_amount(before["budget"]):
            del wanted["budget"]  # "120" and "120.00" are one amount
        allowed = editable(current.skill)
        for key in sorted(wanted):
            if key not in allowed:
                raise InvalidRequest(f"{key} cannot change once a skill is "
                                     f"{current.skill.status.value}", key)
        if not wanted:
            return current
        merged = {**before, **wanted}
        check_skill_settings(
            calling_window=merged["calling_window"], no_zone_policy=merged["no_zone_policy"],
            default_time_zone=merged["default_time_zone"],
            validity_hours=merged["validity_hours"], max_segments=merged["max_segments"],
            pacing_per_s=merged["pacing_per_s"], direction=merged["direction"],
            reply_pacing=merged["reply_pacing"], reply_rate_prior=merged["reply_rate_prior"])
        check_one_text(merged["template"], merged["message_text"])
        values = _stored_values(conn, bu, wanted)
        if not skills.update_settings(conn, current.skill.id, values,
                                      [current.skill.status], expected_version, name):
            raise InvalidRequest(f"skill '{name}' changed status meanwhile: try again",
                                 "status")
        return _view(conn, skills.skill_by_id(conn, current.skill.id))


def _stored_values(conn, bu: BusinessUnit, wanted: dict[str, Any]) -> dict[str, Any]:
    """The changes as the skill's columns (names looked up within the BU: NotFound if not)."""
    values: dict[str, Any] = {}
    for key, value in wanted.items():
        if key == "registration":
            values["registration_id"] = registrations.find_registration(
                conn, bu.id, code_key(value, bu)).id
        elif key == "calling_list":
            values["calling_list_id"] = calling_lists.find_list(conn, bu.id, value).id
        elif key == "template":
            values["template_id"] = (template_store.find_template(conn, bu.id, value).id
                                     if value else None)
        elif key == "budget":
            values["budget_micros"] = None if value is None else budget_amount(value)
        elif key == "campaign":
            values["campaign_id"] = (skills.find_campaign(conn, bu.id, value).id
                                     if value else None)
        else:
            values[key] = value
    return values
