"""`/v1/erasures`: erase a person from the business unit on their request (services.erasure):
their records and texts anonymised, their DNC entries kept."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import API_ACTOR
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.services import erasure

router = APIRouter(prefix="/erasures", tags=["erasures"])


class ErasureIn(RequestBody):
    number: str | None = Field(None, max_length=40,
                               description="Their number, in any spelling.")
    external_id: str | None = Field(None, min_length=1, max_length=200,
                                    description="Their ExternalId in the BU's calling lists.")


class ErasureOut(BaseModel):
    who: str = Field(description="The number masked, and/or the ExternalId.")
    records: int = Field(description="Calling records anonymised.")
    messages: int = Field(description="Texts to them anonymised (counts stay in reports).")
    cancelled: int = Field(description="Of those, texts not yet sent, cancelled.")
    inbound: int = Field(description="Texts from them anonymised.")
    conversations: int = Field(description="Their conversations anonymised and closed.")
    webhook_events: int = Field(description="Webhook events whose number was masked.")


@router.post("", responses={409: {"description": "A text to them is being submitted, or "
                                                 "their possible opt-out awaits review."}})
def erase_person(body: ErasureIn, bu: CurrentBu, engine: EngineDep,
                 clock: ClockDep) -> ErasureOut:
    """Erase a person (by number and/or ExternalId): 404 when nothing of theirs is stored;
    their DNC entries are kept, so they are still never texted."""
    result = erasure.erase_person(engine, bu, clock, number=body.number,
                                  external_id=body.external_id, actor=API_ACTOR)
    return ErasureOut(**result.as_dict())
