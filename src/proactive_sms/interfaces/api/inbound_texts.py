"""`/v1/inbound-texts` (every text received on the BU's codes) and `/v1/reviews` (possible
opt-outs waiting for a person's decision)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from proactive_sms.domain.keywords import InboundClass
from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import Problem, blame, field_error
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import listing
from proactive_sms.services.inbound import InboundService
from proactive_sms.store.errors import NotFound
from proactive_sms.store.inbound import StoredInbound

router = APIRouter(tags=["inbound texts"])


class InboundOut(BaseModel):
    id: int
    received_at: UtcDatetime
    sender: str = Field(description="E.164.")
    recipient: str = Field(description="The code as the carrier gave it.")
    text: str
    classification: InboundClass
    reason: str = Field(description="Why it was classified so, in words.")
    skill: str | None = Field(description="The skill that last texted the sender.")
    conversation_id: int | None
    review_state: str | None = Field(description="possible_opt_out only: pending, accepted, "
                                                 "rejected, or settled (left undecided for 2 "
                                                 "business days: an opt-out).")

    @classmethod
    def of(cls, i: StoredInbound, skill_names: dict[int, str]) -> InboundOut:
        return cls(id=i.id, received_at=i.received_at, sender=i.sender, recipient=i.recipient,
                   text=i.text, classification=InboundClass(i.classification), reason=i.reason,
                   skill=skill_names.get(i.skill_id or 0), conversation_id=i.conversation_id,
                   review_state=i.review_state)


class ReviewOut(BaseModel):
    inbound: InboundOut
    dnc_changed: bool = Field(description="Accepted: the number went on the DNC list.")
    confirmation_id: int | None = Field(description="The confirmation text queued, if any.")
    conversation_id: int | None


@router.get("/inbound-texts")
def list_inbound_texts(
    bu: CurrentBu, engine: EngineDep, page: PageParams,
    classification: InboundClass | None = None,
    number: Annotated[str | None, Query(max_length=40,
                                        description="Only texts from this number.")] = None,
    skill: Annotated[str | None, Query(
        description="Only texts from people this skill texted last.")] = None,
    since: Annotated[datetime | None, Query(
        description="Received at or after (ISO 8601; UTC without an offset).")] = None,
) -> Paged[InboundOut]:
    """Texts received on the BU's codes, oldest first, a page at a time."""
    with blame("number"):
        named = listing.inbound_page(engine, bu, page, classification=classification,
                                     sender=number, skill=skill, since=since)
    return paged(named.page, lambda i: InboundOut.of(i, named.skill_names))


@router.get("/inbound-texts/{inbound_id}")
def get_inbound_text(inbound_id: int, bu: CurrentBu, engine: EngineDep) -> InboundOut:
    named = listing.inbound_text(engine, bu, inbound_id)
    return InboundOut.of(named.page.items[0], named.skill_names)


@router.get("/reviews")
def list_reviews(bu: CurrentBu, engine: EngineDep, page: PageParams) -> Paged[InboundOut]:
    """Possible opt-outs waiting for a person's decision, oldest first."""
    named = listing.inbound_page(engine, bu, page, review_state="pending")
    return paged(named.page, lambda i: InboundOut.of(i, named.skill_names))


def _decide(inbound_id: int, accept: bool, bu, engine, clock) -> ReviewOut:
    try:
        outcome = InboundService(engine, clock).review(inbound_id, accept, bu.id)
    except LookupError as exc:
        raise NotFound("inbound text", inbound_id) from exc
    except ValueError as exc:
        raise Problem(409, "already-reviewed", "The text is not waiting for review", str(exc),
                      [field_error("review_state", str(exc))]) from exc
    return ReviewOut(inbound=get_inbound_text(inbound_id, bu, engine),
                     dnc_changed=outcome.dnc_changed, confirmation_id=outcome.confirmation_id,
                     conversation_id=outcome.conversation_id)


@router.post("/reviews/{inbound_id}/accept", responses=idempotency.responses(200))
def accept_review(inbound_id: int, bu: CurrentBu, engine: EngineDep,
                  clock: ClockDep, guard: Idempotent) -> ReviewOut:
    """It was an opt-out: the number goes on the code's DNC list and is confirmed (a text: with
    an Idempotency-Key, a retried request answers the first answer and texts nothing)."""
    return guard.run(lambda: _decide(inbound_id, True, bu, engine, clock))


@router.post("/reviews/{inbound_id}/reject", responses=idempotency.responses(200))
def reject_review(inbound_id: int, bu: CurrentBu, engine: EngineDep,
                  clock: ClockDep, guard: Idempotent) -> ReviewOut:
    """It was an ordinary reply (on sms_messaging codes it joins a conversation)."""
    return guard.run(lambda: _decide(inbound_id, False, bu, engine, clock))
