"""Showing, renaming and removing a business unit's campaigns. A campaign only groups skills
for reports, so only an empty one can be removed (InUse, 409, while it holds skills, archived
ones included: their reports still name it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services import audit
from proactive_sms.services.administration import checked_name
from proactive_sms.store import skills, versions
from proactive_sms.store.errors import InUse, refuse_taken
from proactive_sms.store.paging import Page
from proactive_sms.store.schema import campaign
from proactive_sms.store.skills import Campaign
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class CampaignView:
    campaign: Campaign
    skills: tuple[str, ...]  # the skills reported in it, archived ones too

    def as_dict(self) -> dict:
        return {"name": self.campaign.name, "skills": list(self.skills),
                "version": self.campaign.version}


def _view(conn, found: Campaign) -> CampaignView:
    return CampaignView(found, tuple(s.name for s in skills.skills_of_campaign(conn, found.id)))


def show_campaign(engine: Engine, bu: BusinessUnit, name: str) -> CampaignView:
    with engine.connect() as conn:
        return _view(conn, skills.find_campaign(conn, bu.id, name))


def campaigns_page(engine: Engine, bu: BusinessUnit, after_id: int,
                   limit: int) -> Page[CampaignView]:
    with engine.connect() as conn:
        page = skills.page_campaigns(conn, bu.id, after_id, limit)
        return Page([_view(conn, c) for c in page.items], page.last_id, page.more)


def rename_campaign(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, new_name: str,
                    expected_version: int | None = None,
                    actor: str | None = None) -> CampaignView:
    """Give the campaign a new name (unique in the BU)."""
    checked_name("campaign", new_name)
    with engine.begin() as conn:
        found = skills.find_campaign(conn, bu.id, name)
        if new_name != name:
            refuse_taken("campaign", new_name,
                         lambda taken: skills.find_campaign(conn, bu.id, taken))
        versions.change(conn, campaign, found.id, expected_version, "campaign", name,
                        name=new_name)
        audit.record(conn, None, "campaign.renamed", new_name, {"from": name}, bu=bu,
                     now=clock.now(), username=actor)
        return _view(conn, skills.campaign_by_id(conn, found.id))


def remove_campaign(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                    expected_version: int | None = None, actor: str | None = None) -> None:
    """Delete an empty campaign; InUse while skills are reported in it."""
    with engine.begin() as conn:
        found = skills.find_campaign(conn, bu.id, name)
        members = skills.skills_of_campaign(conn, found.id)
        if members:
            raise InUse("campaign", name,
                        f"holds {len(members)} skill(s) ({members[0].name}...): only an empty "
                        "campaign can be removed")
        versions.remove(conn, campaign, found.id, expected_version, "campaign", name)
        audit.record(conn, None, "campaign.removed", name, "", bu=bu, now=clock.now(),
                     username=actor)
