"""Inbound texts: store every one, act on keywords at once, route replies.

Called by the dispatcher for each batch of texts the carrier delivered, in one transaction, before
the carrier is told we have them. STOP-type texts put the number on the registration's DNC group
(or the tenant default list) in that same transaction, so the dispatcher's check at the moment of
sending sees it; START-type texts remove only what an opt-out added.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from proactive_sms.carriers.base import InboundText
from proactive_sms.domain import keyword_responses
from proactive_sms.domain.business_days import add_business_days
from proactive_sms.domain.cadence import DNC
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.keywords import InboundClass, KeywordSet, classify
from proactive_sms.domain.message_states import MessageKind
from proactive_sms.domain.phone import mask
from proactive_sms.services import assignment, cadences, webhook_emitters
from proactive_sms.store import (
    conversations,
    dnc,
    inbound,
    registrations,
    review_holds,
    system_texts,
    tenancy,
)

log = logging.getLogger(__name__)

CONFIRMATION_QUIET = timedelta(minutes=5)  # at most one confirmation of a kind in this time
REVIEW_DEADLINE_BUSINESS_DAYS = 2  # a possible opt-out undecided this long is an opt-out


@dataclass(frozen=True)
class InboundOutcome:
    inbound_id: int
    kind: InboundClass
    registration_code: str | None  # None: the code is not ours (stored and flagged)
    dnc_changed: bool = False
    confirmation_id: int | None = None
    conversation_id: int | None = None


def recipient_spellings(recipient: str) -> list[str]:
    """The ways a code may be written: short codes as digits, numbers in E.164."""
    digits = "".join(ch for ch in recipient if ch.isdigit())
    spellings = [recipient.strip(), digits, "+" + digits]
    if len(digits) == 10:
        spellings.append("+1" + digits)  # a national NANP number without its country code
    return list(dict.fromkeys(s for s in spellings if s))


def sender_e164(sender: str) -> str:
    digits = "".join(ch for ch in sender if ch.isdigit())
    return "+" + digits if digits else sender.strip()


class InboundService:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def handle_batch(self, texts: Sequence[InboundText]) -> list[InboundOutcome]:
        """Handle texts in one transaction; if that fails, one by one, so that one text that
        cannot be handled does not hold back the others (it fails alone and is redelivered)."""
        try:
            with self.engine.begin() as conn:
                return [self.handle(conn, text) for text in texts]
        except Exception:
            if len(texts) == 1:
                raise
            log.exception("inbound batch of %d failed; handling one by one", len(texts))
            outcomes = []
            for text in texts:
                with self.engine.begin() as conn:
                    outcomes.append(self.handle(conn, text))
            return outcomes

    def handle(self, conn: Connection, text: InboundText) -> InboundOutcome:
        now = self.clock.now()
        sender = sender_e164(text.sender)
        reg = inbound.registration_for(conn, recipient_spellings(text.recipient))
        settings = dict(reg.keyword_responses or {}) if reg else {}
        extra = KeywordSet.from_dict(settings.get("extra_keywords") or {})
        result = classify(text.text, extra)
        attribution = inbound.last_texted(conn, reg.id, sender) if reg else None
        inbound_id = inbound.record(
            conn, received_at=now, sender=sender, recipient=text.recipient,
            registration_id=reg.id if reg else None,
            carrier_message_id=text.carrier_message_id, text=text.text,
            classification=result.kind.value, reason=result.reason,
            skill_id=attribution[0] if attribution else None,
            record_id=attribution[1] if attribution else None,
            review_state="pending" if result.kind is InboundClass.POSSIBLE_OPT_OUT else None)
        if reg is None:
            log.warning("inbound text from %s to unknown code %s stored and flagged",
                        mask(sender), text.recipient)
            return InboundOutcome(inbound_id, result.kind, None)
        outcome = self._act(conn, reg, sender, result.kind, inbound_id, text.text, attribution)
        webhook_emitters.inbound_received(
            conn, reg, inbound_id=inbound_id, sender=sender, text=text.text,
            classification=result.kind.value, skill_id=attribution[0] if attribution else None,
            conversation_id=outcome.conversation_id, now=now)
        return outcome

    def _act(self, conn: Connection, reg, sender: str, kind: InboundClass, inbound_id: int,
             body: str, attribution, confirm: bool = True) -> InboundOutcome:
        now = self.clock.now()
        bu = tenancy.business_unit_by_id(conn, reg.business_unit_id)
        responses = keyword_responses.resolve(reg.kind, reg.keyword_responses or {}, bu.name)
        list_id = reg.dnc_list_id or dnc.find_list(conn, bu.tenant_id).id
        changed, confirmation, conversation_id = False, None, None

        if kind is InboundClass.OPT_OUT:
            changed = dnc.add_numbers(conn, list_id, [sender], "opt_out",
                                      f"inbound #{inbound_id}: {body[:60]}", now) > 0
            if changed and confirm:
                confirmation = self._confirm(conn, reg.id, sender, responses.opt_out_text,
                                             MessageKind.OPT_OUT_CONFIRMATION)
            if attribution:  # the customer leaves the cadence that texted them
                cadences.leave(conn, attribution[0], attribution[1], DNC, now)
        elif kind is InboundClass.OPT_IN:
            changed = dnc.remove_numbers(conn, list_id, [sender], only_source="opt_out",
                                         removed_by="opt_in", now=now) > 0
            if changed:
                confirmation = self._confirm(conn, reg.id, sender, responses.opt_in_text,
                                             MessageKind.OPT_IN_CONFIRMATION)
        elif kind is InboundClass.HELP:
            confirmation = self._confirm(conn, reg.id, sender, responses.help_text,
                                         MessageKind.HELP_RESPONSE)

        open_conversation = conversations.find_open(conn, reg.id, sender)
        if kind is InboundClass.REPLY and reg.solution == "sms_messaging":
            skill_id, record_id = attribution or (None, None)
            opened = conversations.open_or_continue(conn, reg.id, sender, skill_id, record_id,
                                                    now)
            conversation_id = opened.id
            assignment.route(conn, opened, now)  # to an agent of its skill, or it waits
        elif open_conversation is not None:
            conversation_id = open_conversation.id  # keywords show in the history, not queued
        if conversation_id is not None:
            inbound.attach(conn, inbound_id, conversation_id)
        if changed and kind in (InboundClass.OPT_OUT, InboundClass.OPT_IN):
            webhook_emitters.opt_changed(conn, reg, opted_out=kind is InboundClass.OPT_OUT,
                                         phone=sender, dnc_list_id=list_id,
                                         inbound_id=inbound_id, now=now)
        return InboundOutcome(inbound_id, kind, reg.code, changed, confirmation, conversation_id)

    def _confirm(self, conn: Connection, registration_id: int, phone: str, body: str | None,
                 kind: MessageKind) -> int | None:
        if body is None:  # toll-free: the carrier answers
            return None
        if inbound.system_text_since(conn, registration_id, phone, kind,
                                     self.clock.now() - CONFIRMATION_QUIET):
            return None
        return system_texts.queue(conn, registration_id=registration_id, destination=phone,
                                  body=body, kind=kind, now=self.clock.now())

    # --- the review queue of possible opt-outs ------------------------------------------------

    def review(self, inbound_id: int, accept: bool, business_unit_id: int) -> InboundOutcome:
        """A supervisor's decision on a possible opt-out: accepted, it is an opt-out now;
        rejected, it is an ordinary reply."""
        with self.engine.begin() as conn:
            stored = inbound.find(conn, inbound_id)
            reg = (registrations.registration_by_id(conn, stored.registration_id)
                   if stored and stored.registration_id else None)
            if stored is None or reg is None or reg.business_unit_id != business_unit_id:
                raise LookupError(f"no inbound text #{inbound_id} in this business unit")
            if not inbound.set_review(conn, inbound_id, "accepted" if accept else "rejected",
                                      self.clock.now()):
                raise ValueError(f"inbound text #{inbound_id} is not waiting for review")
            if not accept:  # an ordinary reply after all: the texts held for it may go
                review_holds.release(conn, stored.sender, self.clock.now())
            kind = InboundClass.OPT_OUT if accept else InboundClass.REPLY
            attribution = (stored.skill_id, stored.record_id) if stored.skill_id else None
            return self._act(conn, reg, stored.sender, kind, inbound_id, stored.text,
                             attribution)

    def settle_overdue_reviews(self, business_days: int = REVIEW_DEADLINE_BUSINESS_DAYS) -> int:
        """Possible opt-outs left undecided for `business_days` business days (of their unit's
        country) become opt-outs: a revocation by any reasonable means must be honored, and a
        review nobody makes must not hold it back for ever. Returns how many were settled."""
        now = self.clock.now()
        settled = 0
        with self.engine.begin() as conn:
            # Business days are never fewer than calendar days: older than that, a candidate.
            for stored in inbound.pending_reviews_before(conn, now - timedelta(days=business_days)):
                reg = registrations.registration_by_id(conn, stored.registration_id)
                bu = tenancy.business_unit_by_id(conn, reg.business_unit_id)
                received = _aware(stored.received_at)
                if add_business_days(received, business_days, bu.default_region) > now:
                    continue
                if not inbound.set_review(conn, stored.id, "settled", now):
                    continue  # decided meanwhile (another worker, a person)
                attribution = (stored.skill_id, stored.record_id) if stored.skill_id else None
                # No confirmation text days later: it would come from nowhere.
                self._act(conn, reg, stored.sender, InboundClass.OPT_OUT, stored.id,
                          stored.text, attribution, confirm=False)
                log.warning("possible opt-out #%d from %s undecided for %d business days: "
                            "settled as an opt-out", stored.id, mask(stored.sender),
                            business_days)
                settled += 1
        return settled


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # SQLite: naive UTC


def pending_reviews(engine: Engine, business_unit_id: int) -> list[inbound.StoredInbound]:
    """Possible opt-outs waiting for a supervisor, oldest first."""
    with engine.connect() as conn:
        codes = [r.id for r in registrations.list_registrations(conn, business_unit_id)]
        return inbound.review_queue(conn, codes)
