"""`/v1/campaigns`: skills reported on together, and their report as JSON or CSV."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api import idempotency, report_format
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import API_ACTOR, expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.services import administration, campaign_admin, listing, reporting

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


class CampaignIn(RequestBody):
    name: str = Field(min_length=1, max_length=200)


class CampaignOut(BaseModel):
    name: str


class MemberIn(RequestBody):
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


class CampaignDetail(BaseModel):
    name: str
    skills: list[str] = Field(description="The skills reported in it (archived ones too).")
    version: int = Field(description="Raised by every change; the ETag carries it.")


class CampaignPatch(RequestBody):
    name: str = Field(min_length=1, max_length=200, description="A new name.")


def _detail(view: campaign_admin.CampaignView, response: Response) -> CampaignDetail:
    set_etag(response, view.campaign.version)
    return CampaignDetail(**view.as_dict())


@router.get("/{name}")
def get_campaign(name: str, bu: CurrentBu, engine: EngineDep,
                 response: Response) -> CampaignDetail:
    """One campaign and its skills; its ETag for PATCH and DELETE."""
    return _detail(campaign_admin.show_campaign(engine, bu, name), response)


@router.patch("/{name}")
def rename_campaign(name: str, body: CampaignPatch, request: Request, bu: CurrentBu,
                    engine: EngineDep, clock: ClockDep, response: Response) -> CampaignDetail:
    """Rename the campaign (If-Match: only if unchanged since that ETag, else 412)."""
    return _detail(campaign_admin.rename_campaign(
        engine, bu, clock, name, body.name, expected_version(request), actor=API_ACTOR),
        response)


@router.delete("/{name}", status_code=204)
def remove_campaign(name: str, request: Request, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep) -> Response:
    """Remove an empty campaign (409 while it holds skills)."""
    campaign_admin.remove_campaign(engine, bu, clock, name, expected_version(request),
                                   actor=API_ACTOR)
    return Response(status_code=204)


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
