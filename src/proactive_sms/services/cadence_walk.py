"""Walking records through one agent skill's cadence, inside one transaction: log each outcome,
run the SMS steps a record reaches (launch's own decision for that one record, a pending text for
the dispatcher), and store where the record ends up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from proactive_sms.domain import cadence as model
from proactive_sms.domain import phone, template
from proactive_sms.domain.cadence import Cadence, Channel, Position
from proactive_sms.domain.message_states import MessageState, SkipReason
from proactive_sms.services.record_decision import (
    Decider,
    MessageText,
    remember_links,
    with_tracked_links,
)
from proactive_sms.store import cadences, calling_lists, dnc, registrations, spend, tenancy
from proactive_sms.store import templates as template_store
from proactive_sms.store.messages import destination_key
from proactive_sms.store.skills import Skill


@dataclass(frozen=True)
class Moved:
    position: Position
    how: str
    texted: int = 0
    skip_reason: str | None = None


class Walker:
    """Moves records through one skill's cadence inside one transaction: logs each outcome,
    runs the SMS steps a record reaches, and stores where it ends up."""

    def __init__(self, conn: Connection, skill: Skill, steps: Cadence, now: datetime) -> None:
        self.conn = conn
        self.skill = skill
        self.steps = steps
        self.now = now
        registration = registrations.registration_by_id(conn, skill.registration_id)
        bu = tenancy.business_unit_by_id(conn, skill.business_unit_id)
        self.region = bu.default_region
        self.dnc_list_id = registration.dnc_list_id or dnc.find_list(conn, bu.tenant_id).id
        self._texts: dict[int, MessageText] = {}
        self.prices = spend.price_list(conn, skill.registration_id)  # fixes each text's cost

    def on_dnc(self, number: str) -> bool:
        return dnc.is_on_list(self.conn, self.dnc_list_id, number)

    def numbers_on_dnc(self, numbers: Iterable[str]) -> set[str]:
        return dnc.numbers_on_list(self.conn, self.dnc_list_id, numbers)

    def put_on_dnc(self, record_id: int, step: model.Step, note: str) -> None:
        """The customer told the agent not to contact them: the number called goes on the
        code's DNC list (so no text of any skill reaches it either)."""
        voice, sms, fields = cadences.record_contact(self.conn, record_id)
        number = call_number(step.destination, voice, sms, calling_lists.decode_fields(fields),
                             self.region)
        if number:
            dnc.add_numbers(self.conn, self.dnc_list_id, [number], "api", note, self.now)

    def record_outcome(self, record_id: int, position: Position, outcome: str,
                       detail: str | None) -> Moved:
        cadences.log_outcome(self.conn, self.skill.id, record_id, position.step,
                             position.attempts + 1, outcome, detail, self.now)
        move = model.after_outcome(self.steps, position, outcome, self.now)
        if move.position.done or self.steps.step(move.position.step).channel is Channel.VOICE:
            cadences.save_position(self.conn, self.skill.id, record_id, move.position,
                                   self.now)
            return Moved(move.position, move.how)
        settled = self.settle(record_id, move.position)
        return replace(settled, how=move.how)

    def settle(self, record_id: int, position: Position) -> Moved:
        """Run the SMS steps the record is on, one after another, until it rests on a voice
        step or is done; store that position."""
        texted, skip_reason, how = 0, None, "next_step"
        while not position.done and self.steps.step(position.step).channel is Channel.SMS:
            step = self.steps.step(position.step)
            attempt = position.attempts + 1
            decision = self._decide(record_id, step)
            cost = (self.prices.cost(decision.destination, decision.segments)
                    if self.prices is not None else None)
            cadences.insert_step_message(self.conn, self.skill.id, decision, step.number,
                                         attempt, self.now, cost)
            if decision.state is MessageState.PENDING:
                outcome, detail = model.TEXTED, None
                texted += 1
            else:
                outcome, detail = model.SKIPPED, decision.skip_reason
                skip_reason = decision.skip_reason
            cadences.log_outcome(self.conn, self.skill.id, record_id, step.number, attempt,
                                 outcome, detail, self.now)
            move = model.after_outcome(self.steps, position, outcome, self.now)
            position, how = move.position, move.how
        cadences.save_position(self.conn, self.skill.id, record_id, position, self.now)
        return Moved(position, how, texted, skip_reason)

    def _decide(self, record_id: int, step: model.Step):
        """Launch's decision for this record and this step: a pending text or a skip."""
        (record,) = calling_lists.launch_batch(self.conn, self.skill.calling_list_id,
                                               record_id - 1, 1, self.dnc_list_id, True)
        if step.destination.casefold() != model.SMS_PHONE.casefold():
            record = self._other_destination(record, step.destination)
        seen: set[int | str] = set()
        if record.sms_destination and cadences.step_has_texted(
                self.conn, self.skill.id, step.number, record.sms_destination):
            seen.add(destination_key(record.sms_destination))
        decider = Decider(self.skill, self._text(step), seen, self.now.date())
        return decider.decide(record)

    def _other_destination(self, record, destination: str):
        """The record with its SMS number taken from another field: PhoneNumber only when the
        list says it is the SMS-capable number; a custom field as written in the list."""
        if destination.casefold() == model.PHONE.casefold():
            voice, sms, _ = cadences.record_contact(self.conn, record.id)
            number = voice if voice == sms else None
            problem = None if number else SkipReason.NO_MOBILE_NUMBER.value
        else:
            fields = calling_lists.decode_fields(record.fields)
            raw = next((v for k, v in fields.items() if k.casefold() == destination.casefold()),
                       None)
            result = phone.normalize(raw, self.region)
            number = result.e164
            problem = (None if number else SkipReason.NO_MOBILE_NUMBER.value if not raw
                       else SkipReason.INVALID_NUMBER.value)
        on_dnc = bool(number) and self.on_dnc(number)
        return _StepRecord(record.id, number, problem, record.expiration_date, on_dnc,
                           record.fields)

    def _text(self, step: model.Step) -> MessageText:
        if step.number not in self._texts:
            stored = template_store.find_template(self.conn, self.skill.business_unit_id,
                                                  step.template or "")
            parsed = template.parse(stored.body)
            self._texts[step.number] = remember_links(self.conn, with_tracked_links(
                self.conn, self.skill, MessageText(
                    parsed, template.resolve_direction(parsed, stored.direction),
                    stored.smart_encoding, stored.bidi_marks)))
        return self._texts[step.number]


@dataclass(frozen=True)
class _StepRecord:
    """A record as launch reads it (calling_lists.LaunchRecord), numbered for another field."""

    id: int
    sms_destination: str | None
    sms_problem: str | None
    expiration_date: object
    on_dnc: bool
    fields: object


def call_number(destination: str, record_phone: str | None, sms_destination: str | None,
                fields: dict, region: str) -> str | None:
    """The number a step's destination field names for a record (E.164), or None."""
    key = destination.casefold()
    if key == model.PHONE.casefold():
        return record_phone
    if key == model.SMS_PHONE.casefold():
        return sms_destination
    raw = next((v for k, v in fields.items() if k.casefold() == key), None)
    return phone.normalize(raw, region).e164 if raw else None
