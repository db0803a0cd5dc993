"""/campaigns: create a campaign and add skills to it (the forms are on the skills page), as
POST /v1/campaigns and POST /v1/campaigns/{name}/skills do."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web import forms
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.rendering import redirect
from proactive_sms.interfaces.web.skills import skills_list
from proactive_sms.services import administration, audit

router = APIRouter()


@router.post("/campaigns")
async def create_campaign(request: Request, user: SupervisorUser, bu: CurrentBu,
                          engine: EngineDep, clock: ClockDep) -> Response:
    form = await forms.values_of(request)
    name = form.get("name", "").strip()
    try:
        created = administration.create_campaign(engine, bu, clock, name)
    except forms.FORM_ERRORS as exc:
        reason = next(iter(forms.errors_of(exc, "name").values()))
        return skills_list(request, engine, bu, errors={"campaign_name": reason},
                           values={"campaign_name": name}, status_code=422)
    audit.record(engine, user, "campaign.created", created.name, address=address_of(request))
    return redirect(f"/skills?campaign={quote(created.name)}", f"Campaign {created.name} created.")


@router.post("/campaigns/skills")
async def add_skill(request: Request, user: SupervisorUser, bu: CurrentBu,
                    engine: EngineDep) -> Response:
    form = await forms.values_of(request)
    campaign, skill = form.get("campaign", ""), form.get("skill", "")
    try:
        administration.add_skill_to_campaign(engine, bu, campaign, skill)
    except forms.FORM_ERRORS as exc:
        return redirect("/skills", f"Could not add {skill} to {campaign}: "
                                   f"{next(iter(forms.errors_of(exc).values()))}", "error")
    audit.record(engine, user, "campaign.skill_added", campaign, {"skill": skill},
                 address=address_of(request))
    return redirect(f"/skills?campaign={quote(campaign)}", f"Skill {skill} added to {campaign}.")
