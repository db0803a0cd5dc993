"""`/v1/campaigns`: skills reported on together, and their report as JSON or CSV."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api import idempotency, report_format
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.services import administration, listing, reporting

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class CampaignOut(BaseModel):
    name: str


class MemberIn(BaseModel):
    skill: str = Field(description="A skill of the BU to report in this campaign.")


@router.get("")
def list_campaigns(bu: CurrentBu, engine: EngineDep, page: PageParams) -> Paged[CampaignOut]:
    """The BU's campaigns, a page at a time."""
    return paged(listing.campaigns_page(engine, bu, page), lambda c: CampaignOut(name=c.name))


@router.post("", status_code=201, responses=idempotency.responses(201))
def create_campaign(body: CampaignIn, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep, guard: Idempotent) -> CampaignOut:
    return guard.run(lambda: CampaignOut(
        name=administration.create_campaign(engine, bu, clock, body.name).name))


@router.post("/{name}/skills", status_code=204)
def add_skill(name: str, body: MemberIn, bu: CurrentBu, engine: EngineDep) -> Response:
    """Report a skill as part of the campaign."""
    administration.add_skill_to_campaign(engine, bu, name, body.skill)
    return Response(status_code=204)


@router.get("/{name}/report", response_class=Response,
            responses=report_format.REPORT_RESPONSES)
def campaign_report(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                    format: report_format.ReportFormat = "json") -> Response:
    """The campaign's skills together: counts by state and skip reason, segments, rates."""
    return report_format.render(reporting.campaign_report(engine, bu, name, clock.now()),
                                format)
