"""`/v1/business-unit`: the key's business unit and its settings (the short link domain)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import API_ACTOR
from proactive_sms.interfaces.api.deps import EngineDep
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.services import administration
from proactive_sms.store.tenancy import BusinessUnit

router = APIRouter(prefix="/business-unit", tags=["business unit"])


class BusinessUnitOut(BaseModel):
    name: str
    default_region: str
    frequency_cap_per_24h: int | None
    link_domain: str | None = Field(description="Where short links are served (`psms serve` "
                                                "answers /l/{code} there); null: links are "
                                                "sent as written, untracked.")

    @classmethod
    def of(cls, bu: BusinessUnit) -> BusinessUnitOut:
        return cls(name=bu.name, default_region=bu.default_region,
                   frequency_cap_per_24h=bu.frequency_cap_per_24h, link_domain=bu.link_domain)


class BusinessUnitPatch(RequestBody):
    link_domain: str | None = Field(
        description="https://go.example.com (a host, no path); null or \"\" turns tracked "
                    "links off for skills started from now on.", max_length=200)


@router.get("")
def show(bu: CurrentBu) -> BusinessUnitOut:
    """The business unit of the API key."""
    return BusinessUnitOut.of(bu)


@router.patch("")
def change(body: BusinessUnitPatch, bu: CurrentBu, engine: EngineDep) -> BusinessUnitOut:
    """Set the short link domain (skills already started keep the links they sent)."""
    return BusinessUnitOut.of(administration.set_link_domain(engine, bu, body.link_domain,
                                                             actor=API_ACTOR))
