"""Erasure on request: a person asks to be forgotten by a business unit.

Given their number and/or their ExternalId, every calling record of theirs in the BU's lists and
every text to or from them (skill texts, confirmations, agent replies, replies received,
conversations) loses what identifies them: numbers, names, field values, message bodies. Rows
that reports count are anonymised rather than deleted (store.erasure), so a skill's or a
campaign's figures still add up after an erasure; texts of theirs not sent yet are cancelled.

Kept on purpose: their DNC entries. A person who opted out and then asked to be forgotten must
still never be texted, and the DNC list is what guarantees it (a re-import of the number is
still skipped as `dnc`).

Refused (InUse, 409) rather than raced: while one of their texts is being submitted (the
carrier's answer must be recorded against it first: retry in a moment), and while a possible
opt-out of theirs awaits review (accepting it must still be able to put the number on the DNC
list). The audit entry names the number masked, never in clear.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.domain.phone import mask
from proactive_sms.services import audit
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.calling_list_admin import number_of
from proactive_sms.store import erasure as erasure_store
from proactive_sms.store.errors import InUse, NotFound
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class ErasureResult:
    """What was erased, as counts; the person's number appears only masked."""

    who: str  # the masked number and/or the ExternalId
    records: int
    messages: int
    cancelled: int
    inbound: int
    conversations: int
    webhook_events: int

    def as_dict(self) -> dict:
        return asdict(self)


def erase_person(engine: Engine, bu: BusinessUnit, clock: Clock, *, number: str | None = None,
                 external_id: str | None = None, actor: str | None = None) -> ErasureResult:
    """Erase one person from the BU (see the module's docstring). NotFound when nothing of
    theirs is stored; InUse while a text of theirs is in flight or an opt-out awaits review."""
    if not number and not external_id:
        raise InvalidRequest("give the person's number or ExternalId (or both)", "number")
    e164 = number_of(number, bu) if number else None
    who = " / ".join(part for part in (mask(e164) if e164 else None,
                                       f"ExternalId {external_id}" if external_id else None)
                     if part)
    with engine.begin() as conn:
        person = erasure_store.find_person(conn, bu.id, number=e164,
                                           external_id=external_id or None)
        if e164 is None and not person.record_ids:
            raise NotFound("record with ExternalId", external_id)
        if erasure_store.in_flight(conn, bu.id, person):
            raise InUse("person", who, "has a text being submitted right now: try again in a "
                                       "few seconds")
        if erasure_store.under_review(conn, bu.id, person.numbers):
            raise InUse("person", who, "sent a possible opt-out that awaits review: accept "
                                       "or reject it first")
        done = erasure_store.erase(conn, bu.id, person, clock.now())
        # Checked after the cancel: a claim that won the race is seen here, and the whole
        # erasure rolls back rather than leave a text in flight to a number half erased.
        if erasure_store.in_flight(conn, bu.id, person):
            raise InUse("person", who, "has a text being submitted right now: try again in a "
                                       "few seconds")
        result = ErasureResult(who, done.records, done.messages, done.cancelled, done.inbound,
                               done.conversations, done.webhook_events)
        if not any((done.records, done.messages, done.inbound, done.conversations)):
            raise NotFound("person", who)
        audit.record(conn, None, "person.erased", who, result.as_dict(), bu=bu,
                     now=clock.now(), username=actor)
        return result
