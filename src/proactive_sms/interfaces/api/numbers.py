"""`/v1/numbers/{number}/history`: every decision taken about a number in the caller's unit, in
order (issue 19, "why was this number (not) texted?").

Full numbers: an API key is the unit's own systems, which read full numbers in /v1/messages and
/v1/inbound-texts already (keys have no scopes; domain/number_visibility says who sees what).
Another unit's key gets an empty history, the same answer as for a number never seen, so the
answer tells nothing of other units. Not paged: a number's history is a few dozen events.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from proactive_sms.domain.number_history import EventKind
from proactive_sms.domain.number_visibility import Reader
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import EngineDep
from proactive_sms.interfaces.api.errors import blame
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import number_history

router = APIRouter(tags=["numbers"])


class HistoryEventOut(BaseModel):
    at: UtcDatetime
    kind: EventKind = Field(description="What happened: imported, skipped, waited, held, "
                                        "submitted, accepted, receipt, received, dnc_added, ...")
    summary: str = Field(description="The decision in words.")
    skill: str | None = Field(description="The skill it was about, if any.")
    message_id: int | None = Field(description="The text it was about (see /v1/messages).")
    details: dict[str, Any] = Field(description="The facts behind it (list and line, reason, "
                                                "until when, connection, carrier ids, ...).")


class NumberHistoryOut(BaseModel):
    number: str = Field(description="E.164.")
    masked: bool
    skill: str | None = Field(description="The skill the history was narrowed to.")
    events: list[HistoryEventOut] = Field(description="Oldest first.")


@router.get("/numbers/{number}/history")
def number_history_of(
    number: Annotated[str, Path(max_length=40, description="Any spelling; local numbers in "
                                                           "the unit's region.")],
    bu: CurrentBu, engine: EngineDep,
    skill: Annotated[str | None, Query(description="Only what this skill decided (and the "
                                                   "DNC lists of its code).")] = None,
) -> NumberHistoryOut:
    """Why was this number (not) texted: imports, launch decisions, waits for a calling window
    or a frequency cap, review holds, submits with their connection, the carrier's answers and
    receipts, replies and keywords, DNC changes and by what, in order."""
    with blame("number"):
        history = number_history.number_history(engine, bu, number, Reader.API_KEY,
                                                skill=skill)
    return _out(history)


def _out(history: number_history.NumberHistory) -> NumberHistoryOut:
    return NumberHistoryOut(
        number=history.number, masked=history.masked, skill=history.skill,
        events=[HistoryEventOut(at=e.at, kind=e.kind, summary=e.summary, skill=e.skill,
                                message_id=e.message_id, details=e.details)
                for e in history.events])


@router.get("/calling-lists/{name}/records/{external_id}/history")
def record_history_of(name: str, external_id: str, bu: CurrentBu, engine: EngineDep,
                      skill: Annotated[str | None, Query(description="Only what this skill "
                                                                     "decided.")] = None,
                      ) -> NumberHistoryOut:
    """The history of a record's number (its SMS number, else its phone number): the same
    events as /v1/numbers/{number}/history."""
    with blame("record"):
        history = number_history.record_history(engine, bu, name, external_id, Reader.API_KEY,
                                                skill=skill)
    return _out(history)
