"""`psms why NUMBER` and `GET /v1/numbers/{number}/history`: every decision taken about a number
in a business unit, in order, derived from where each fact is stored.

- imported: calling-list records that carry it (list, line, external id);
- queued or skipped at launch (with the reason), skipped at the moment of sending (DNC);
- waits: for the calling window or a frequency cap until when, holds for a review (message_wait);
- submitted (through which connection), the carrier's answer, each part's receipt;
- texts received from it (replies, keywords, possible opt-outs) and their reviews;
- DNC changes on the lists that decide for the unit's codes, and by what.

A unit sees only its own records, texts and codes; DNC lists are the tenant's, and the unit sees
the changes of those that apply to its codes (its codes' DNC groups, the default list when a code
names none). A number nothing is known of has an empty history: the same answer as a number of
another unit, so the answer tells nothing of other units.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.domain import phone
from proactive_sms.domain.message_states import MessageKind, MessageState, SkipReason
from proactive_sms.domain.number_history import EventKind, HistoryEvent, in_order, utc
from proactive_sms.domain.number_visibility import Reader, sees_full_numbers
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store import calling_lists, dnc, message_waits, messages, skills
from proactive_sms.store import number_history as seen
from proactive_sms.store.tenancy import BusinessUnit


@dataclass(frozen=True)
class NumberHistory:
    number: str  # as the reader may see it: E.164, or masked
    masked: bool
    skill: str | None  # the skill the history was narrowed to
    events: list[HistoryEvent]


def number_history(engine: Engine, bu: BusinessUnit, number: str, reader: Reader, *,
                   skill: str | None = None) -> NumberHistory:
    """The history of `number` (any spelling; local numbers in the unit's region) in `bu`,
    narrowed to one skill if named. Raises InvalidRequest for a value that is not a phone
    number, NotFound for a skill the unit does not have."""
    result = phone.normalize(number, bu.default_region)
    if result.e164 is None:
        raise InvalidRequest(f"'{number}' is not a phone number: {result.detail}", "number")
    e164 = result.e164
    full = sees_full_numbers(reader)
    show = (lambda n: n or "") if full else phone.mask
    with engine.connect() as conn:
        narrowed = skills.find_skill(conn, bu.id, skill) if skill else None
        records = seen.records(conn, bu.id, e164)
        if narrowed is not None:
            records = [r for r in records if r.calling_list_id == narrowed.calling_list_id]
        texts = seen.texts(conn, bu.id, e164, [r.id for r in records],
                           narrowed.id if narrowed else None)
        waits = message_waits.of_messages(conn, [t.message.id for t in texts])
        parts = {t.message.id: messages.parts(conn, t.message.id)
                 for t in texts if t.message.sent_at is not None}
        replies = seen.replies(conn, bu.id, e164, narrowed.id if narrowed else None)
        list_ids = seen.applicable_dnc_lists(conn, bu.id, bu.tenant_id,
                                             narrowed.registration_id if narrowed else None)
        changes = dnc.changes_for(conn, list_ids, e164)
    events: list[HistoryEvent] = []
    for record in records:
        events.extend(_record_events(record, e164, show))
    for text in texts:
        events.extend(_text_events(text, waits.get(text.message.id, []),
                                   parts.get(text.message.id, [])))
    for reply in replies:
        events.extend(_reply_events(reply))
    events.extend(_dnc_event(change) for change in changes)
    return NumberHistory(show(e164), not full, narrowed.name if narrowed else None,
                         in_order(events))


def record_history(engine: Engine, bu: BusinessUnit, list_name: str, external_id: str,
                   reader: Reader, *, skill: str | None = None) -> NumberHistory:
    """The history of a calling-list record's number: its SMS number, else its phone number.
    NotFound for a list or record the unit does not have; InvalidRequest for a record without
    any number (nothing was ever decided about a number for it)."""
    with engine.connect() as conn:
        found = calling_lists.find_list(conn, bu.id, list_name)
        record = calling_lists.find_record(conn, found.id, external_id)
    number = record.sms_destination or record.phone
    if number is None:
        raise InvalidRequest(f"record {external_id} of list '{list_name}' has no phone number "
                             f"({record.sms_problem or 'none given'})", "record")
    return number_history(engine, bu, number, reader, skill=skill)


# --- records -----------------------------------------------------------------------------------

def _record_events(record: seen.RecordSeen, e164: str, show) -> Iterator[HistoryEvent]:
    role = ("as its SMS number" if record.as_sms_number
            else f"as its phone number (not texted: {record.sms_problem or 'another SMS number'})")
    details = {"calling_list": record.list_name, "external_id": record.external_id,
               "number": show(e164)}
    reimported = utc(record.updated_at) > utc(record.created_at)
    if not reimported:
        yield HistoryEvent(utc(record.created_at), EventKind.IMPORTED,
                           f"imported into calling list '{record.list_name}' from line "
                           f"{record.source_line}, record {record.external_id}, {role}",
                           details={**details, "line": record.source_line})
        return
    yield HistoryEvent(utc(record.created_at), EventKind.IMPORTED,
                       f"imported into calling list '{record.list_name}', record "
                       f"{record.external_id}", details=details)
    yield HistoryEvent(utc(record.updated_at), EventKind.REIMPORTED,
                       f"updated by a later import into '{record.list_name}' from line "
                       f"{record.source_line}, {role}",
                       details={**details, "line": record.source_line})


# --- texts to the number -----------------------------------------------------------------------

_SKIP_WORDS = {
    SkipReason.DNC: "on the DNC list",
    SkipReason.NO_MOBILE_NUMBER: "the record has no SMS-capable number",
    SkipReason.INVALID_NUMBER: "the SMS number is not a valid phone number",
    SkipReason.MISSING_FIELD: "the template needs a field the record leaves empty",
    SkipReason.TOO_LONG: "the text is longer than the skill allows",
    SkipReason.DUPLICATE_DESTINATION: "another record of the skill has this number",
    SkipReason.EXPIRED: "the record's ExpirationDate had passed",
    SkipReason.NO_TIME_ZONE: "no time zone found and the skill skips such records",
}
_SYSTEM_WORDS = {
    MessageKind.OPT_OUT_CONFIRMATION: "an opt-out confirmation",
    MessageKind.OPT_IN_CONFIRMATION: "an opt-in confirmation",
    MessageKind.HELP_RESPONSE: "the help answer",
    MessageKind.AGENT_REPLY: "an agent's answer",
}
# Skips decided when the text was about to leave, not at launch (outbox.claim writes these).
_SKIPPED_AT_SENDING = frozenset({SkipReason.DNC.value, SkipReason.NO_TIME_ZONE.value})


def _text_events(text: seen.TextSeen, waits: list[message_waits.Wait],
                 parts: list[messages.StoredPart]) -> Iterator[HistoryEvent]:
    m = text.message
    base = {"skill": text.skill_name, "message_id": m.id}
    where = f"code {text.code}" if text.code else "its code"
    state = MessageState(m.state)
    skipped_at_sending = (state is MessageState.SKIPPED and m.finished_at is not None
                          and m.skip_reason in _SKIPPED_AT_SENDING)
    if state is MessageState.SKIPPED and not skipped_at_sending:
        # StrEnum keys: a stored reason (a plain string) finds its words; an unknown one reads
        # as itself rather than failing the whole history.
        words = _SKIP_WORDS.get(m.skip_reason, m.skip_reason) if m.skip_reason else "skipped"
        when = f"at cadence step {m.cadence_step}" if m.cadence_step else "at launch"
        yield HistoryEvent(utc(m.created_at), EventKind.SKIPPED,
                           f"skipped {when} by skill '{text.skill_name}': {words}"
                           + (f" ({m.detail})" if m.detail else ""),
                           details={"skip_reason": m.skip_reason, "detail": m.detail}, **base)
        return
    if m.skill_id is not None:
        summary = (f"queued by skill '{text.skill_name}' to leave from {where}: "
                   f"{m.segments} segment(s), {m.encoding}")
        if m.cadence_step:
            summary += f" (cadence step {m.cadence_step}, attempt {m.step_attempt + 1})"
    else:
        summary = f"{_SYSTEM_WORDS.get(m.kind, m.kind)} queued on {where}"
    yield HistoryEvent(utc(m.created_at), EventKind.QUEUED, summary,
                       details={"kind": m.kind, "body": m.body, "segments": m.segments,
                                "encoding": m.encoding, "code": text.code}, **base)
    for wait in waits:
        yield _wait_event(wait, base)
    if skipped_at_sending:
        yield HistoryEvent(utc(m.finished_at), EventKind.SKIPPED,
                           f"skipped at the moment of sending: {m.detail or m.skip_reason}",
                           details={"skip_reason": m.skip_reason, "detail": m.detail}, **base)
        return
    if m.submitted_at is not None:
        carried = text.connection_name or text.code_connection_name
        how = (f"through connection '{carried}'" if carried else "(no connection recorded)")
        if text.connection_name is None and carried:
            how += " (the code's connection now; texts sent before revision 0022 kept none)"
        yield HistoryEvent(utc(m.submitted_at), EventKind.SUBMITTED,
                           f"submitted from {where} {how}"
                           + (f", attempt {m.attempts}" if m.attempts > 1 else ""),
                           details={"connection": carried, "code": text.code,
                                    "attempts": m.attempts}, **base)
    yield from _answer_events(text, state, parts, base)


def _wait_event(wait: message_waits.Wait, base: dict) -> HistoryEvent:
    until = f" until {utc(wait.until).isoformat()}" if wait.until is not None else ""
    details = {"wait": wait.kind, "reason": wait.reason,
               "until": utc(wait.until) if wait.until is not None else None}
    if wait.kind == message_waits.REVIEW:
        return HistoryEvent(utc(wait.at), EventKind.HELD,
                            "held: a possible opt-out from this number awaits a person's review",
                            details=details, **base)
    if wait.kind == message_waits.FREQUENCY_CAP:
        return HistoryEvent(utc(wait.at), EventKind.HELD,
                            f"held by the frequency cap{until}: {wait.reason}",
                            details=details, **base)
    return HistoryEvent(utc(wait.at), EventKind.WAITED,
                        f"waited for the calling window{until}: {wait.reason}",
                        details=details, **base)


def _answer_events(text: seen.TextSeen, state: MessageState, parts: list[messages.StoredPart],
                   base: dict) -> Iterator[HistoryEvent]:
    m = text.message
    if m.sent_at is not None:
        ids = [p.carrier_message_id for p in parts]
        yield HistoryEvent(utc(m.sent_at), EventKind.ACCEPTED,
                           f"accepted by the carrier (id {', '.join(ids) or 'unknown'})",
                           details={"carrier_ids": ids}, **base)
        for part in parts:
            if part.receipt_at is None:
                continue
            which = f" for part {part.part_no} of {len(parts)}" if len(parts) > 1 else ""
            error = f", error {part.receipt_error}" if part.receipt_error else ""
            yield HistoryEvent(utc(part.receipt_at), EventKind.RECEIPT,
                               f"receipt{which}: {part.receipt_state}{error}",
                               details={"part": part.part_no, "state": part.receipt_state,
                                        "error_code": part.receipt_error}, **base)
        return
    ended_at = m.finished_at or m.submitted_at or m.created_at
    if state is MessageState.FAILED:
        error = f" (error {m.error_code})" if m.error_code is not None else ""
        yield HistoryEvent(utc(ended_at), EventKind.REFUSED,
                           f"refused by the carrier: {m.detail or 'no detail'}{error}",
                           details={"error_code": m.error_code, "detail": m.detail}, **base)
    elif state is MessageState.UNCERTAIN:
        yield HistoryEvent(utc(ended_at), EventKind.UNCERTAIN,
                           f"no answer recorded from the carrier: {m.detail or 'unknown'}; "
                           "never re-sent without a person's decision",
                           details={"detail": m.detail}, **base)
    elif state in (MessageState.EXPIRED, MessageState.CANCELLED):
        yield HistoryEvent(utc(ended_at), EventKind.ENDED,
                           f"{state.value} before it left"
                           + (f": {m.detail}" if m.detail else ""),
                           details={"state": state.value, "detail": m.detail}, **base)


# --- texts from the number, and DNC ------------------------------------------------------------

_CLASS_WORDS = {
    "opt_out": "an opt-out keyword",
    "opt_in": "an opt-in keyword",
    "help": "a help keyword",
    "possible_opt_out": "a possible opt-out (a person reviews it; texts to the number wait)",
    "reply": "a reply",
}
_REVIEW_WORDS = {
    "accepted": "review accepted: an opt-out (the number goes on the DNC list)",
    "rejected": "review rejected: not an opt-out (held texts may go)",
    "settled": "review left undecided past its deadline: taken as an opt-out",
}


def _reply_events(reply: seen.ReplySeen) -> Iterator[HistoryEvent]:
    base = {"skill": reply.skill_name}
    yield HistoryEvent(utc(reply.received_at), EventKind.RECEIVED,
                       f"received on code {reply.code}: \"{reply.text}\", "
                       f"{_CLASS_WORDS.get(reply.classification, reply.classification)} "
                       f"({reply.reason})",
                       details={"inbound_id": reply.inbound_id, "text": reply.text,
                                "classification": reply.classification,
                                "reason": reply.reason, "code": reply.code}, **base)
    if reply.review_state in _REVIEW_WORDS and reply.reviewed_at is not None:
        yield HistoryEvent(utc(reply.reviewed_at), EventKind.REVIEWED,
                           _REVIEW_WORDS[reply.review_state],
                           details={"inbound_id": reply.inbound_id,
                                    "review_state": reply.review_state}, **base)


_BY_WORDS = {
    "manual": "by hand (console or command line)",
    "import": "by a DNC import",
    "api": "through the API",
    "opt_out": "by an opt-out reply",
    "opt_in": "by an opt-in reply",
    "carrier": "by the carrier (the recipient unsubscribed at the provider)",
}


def _dnc_event(change: dnc.DncChange) -> HistoryEvent:
    by = _BY_WORDS.get(change.source, change.source)
    note = f" ({change.note})" if change.note else ""
    if change.added:
        return HistoryEvent(utc(change.at), EventKind.DNC_ADDED,
                            f"put on DNC list '{change.list_name}' {by}{note}",
                            details={"dnc_list": change.list_name, "source": change.source,
                                     "note": change.note})
    return HistoryEvent(utc(change.at), EventKind.DNC_REMOVED,
                        f"taken off DNC list '{change.list_name}' {by}",
                        details={"dnc_list": change.list_name, "source": change.source})


def event_as_dict(event: HistoryEvent) -> dict:
    """An event for JSON (CLI --json; the API has its own model of the same fields)."""
    return {"at": event.at, "kind": event.kind.value, "summary": event.summary,
            "skill": event.skill, "message_id": event.message_id, "details": event.details}

