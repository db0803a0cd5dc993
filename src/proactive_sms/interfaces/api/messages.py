"""`/v1/messages`: the BU's outbound texts, found by skill, state or number, and one in full."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.money import amount_text
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import EngineDep
from proactive_sms.interfaces.api.errors import blame
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import listing
from proactive_sms.store.messages import StoredMessage

router = APIRouter(prefix="/messages", tags=["messages"])


class MessageSummary(BaseModel):
    id: int
    kind: str = Field(description="skill, or a system text: opt_out_confirmation, "
                                  "opt_in_confirmation, help_response, agent_reply.")
    skill: str | None = Field(description="The skill it belongs to (none for system texts).")
    destination: str | None = Field(description="E.164.")
    state: MessageState
    skip_reason: str | None
    body: str | None
    encoding: str | None = Field(description="gsm7 or ucs2.")
    segments: int
    created_at: UtcDatetime
    sent_at: UtcDatetime | None

    @classmethod
    def of(cls, m: StoredMessage, skill_names: dict[int, str]) -> MessageSummary:
        return cls(id=m.id, kind=m.kind, skill=skill_names.get(m.skill_id or 0),
                   destination=m.destination, state=MessageState(m.state),
                   skip_reason=m.skip_reason, body=m.body, encoding=m.encoding,
                   segments=m.segments, created_at=m.created_at, sent_at=m.sent_at)


class PartOut(BaseModel):
    part_no: int
    carrier_message_id: str = Field(description="The carrier's id of this part.")
    receipt_state: str | None = Field(description="From the delivery receipt, if one came.")
    receipt_error: int | None
    receipt_at: UtcDatetime | None


class MessageOut(MessageSummary):
    registration: str | None = Field(description="The transport code it leaves from.")
    conversation_id: int | None
    error_code: int | None = Field(description="The carrier's error, when it refused.")
    detail: str | None = Field(description="Why it ended as it did, in words.")
    attempts: int
    next_attempt_at: UtcDatetime | None = Field(description="Held until then (calling window).")
    submitted_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    parts: list[PartOut] = Field(description="The parts the carrier accepted, with receipts.")
    cost: str | None = Field(None, description="What it costs (decimal text, its code's "
                                               "currency), fixed when it was decided; null "
                                               "when its code had no price (docs/spend.md).")


@router.get("")
def list_messages(
    bu: CurrentBu, engine: EngineDep, page: PageParams,
    skill: Annotated[str | None, Query(description="Only this skill's texts.")] = None,
    state: Annotated[MessageState | None, Query(description="Only texts in this state.")] = None,
    number: Annotated[str | None, Query(
        max_length=40, description="Only texts to this number, in any spelling (local "
                                   "numbers are read in the BU's region).")] = None,
) -> Paged[MessageSummary]:
    """The BU's texts (skill texts and system texts), oldest first, a page at a time."""
    with blame("number"):
        named = listing.messages_page(engine, bu, page, skill=skill, state=state,
                                      destination=number)
    return paged(named.page, lambda m: MessageSummary.of(m, named.skill_names))


@router.get("/{message_id}")
def get_message(message_id: int, bu: CurrentBu, engine: EngineDep) -> MessageOut:
    """One text: its state and timestamps, carrier ids and receipts of its parts, error,
    segments, encoding and body. Another BU's id answers 404."""
    detail = listing.message(engine, bu, message_id)
    m = detail.message
    names = {m.skill_id: detail.skill_name} if m.skill_id and detail.skill_name else {}
    return MessageOut(
        **MessageSummary.of(m, names).model_dump(), registration=detail.registration_code,
        conversation_id=m.conversation_id, error_code=m.error_code, detail=m.detail,
        attempts=m.attempts, next_attempt_at=m.next_attempt_at, submitted_at=m.submitted_at,
        finished_at=m.finished_at,
        parts=[PartOut(part_no=p.part_no, carrier_message_id=p.carrier_message_id,
                       receipt_state=p.receipt_state, receipt_error=p.receipt_error,
                       receipt_at=p.receipt_at) for p in detail.parts],
        cost=None if m.cost_micros is None else amount_text(m.cost_micros))
