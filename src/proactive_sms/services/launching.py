"""Launching an agentless skill: deciding every record once.

Each record becomes a `pending` message with its rendered body, encoding and segments, or a
`skipped` one with its reason. Records are read in id order a batch at a time; each batch's
decisions and the skill's launch cursor are written in one transaction, so a launch killed at any
point resumes where it stopped, and the unique (skill, record) constraint makes a second start, or
two at once, create nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine

from proactive_sms.domain import encoding, template
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageState, SkipReason
from proactive_sms.store import calling_lists, dnc, messages, registrations, skills, tenancy
from proactive_sms.store import templates as template_store
from proactive_sms.store.calling_lists import StoredRecord
from proactive_sms.store.messages import Decision
from proactive_sms.store.skills import Skill, SkillStatus

LAUNCH_BATCH = 2000


class LaunchError(ValueError):
    """The skill cannot start: says what is wrong (bad template, no text, wrong state)."""


@dataclass
class LaunchSummary:
    skill_id: int
    status: SkillStatus
    decided_now: int = 0
    pending: int = 0
    skipped: Counter = field(default_factory=Counter)
    already_started: bool = False


@dataclass(frozen=True)
class MessageText:
    """What a skill sends: a parsed template, its direction and its encoding options."""

    template: template.Template
    direction: str  # resolved: ltr | rtl
    smart_encoding: bool


def resolve_text(conn: Connection, skill: Skill) -> MessageText:
    if skill.template_id is not None:
        stored = template_store.template_by_id(conn, skill.template_id)
        body, declared, smart = stored.body, stored.direction, stored.smart_encoding
    elif skill.message_text is not None:
        body, declared, smart = skill.message_text, skill.direction, False
    else:
        raise LaunchError(f"skill '{skill.name}' has no text: give --template NAME or --message")
    try:
        parsed = template.parse(body)
    except template.TemplateError as exc:
        raise LaunchError(f"the text of skill '{skill.name}' is not valid: {exc}") from exc
    return MessageText(parsed, template.resolve_direction(parsed, declared), smart)


def check_text(conn: Connection, skill: Skill, text: MessageText) -> None:
    """Every variable must name a field of the skill's calling list."""
    fields = calling_lists.list_by_id(conn, skill.calling_list_id).fields
    problems = template.validate(text.template, fields)
    if problems:
        listing = "; ".join(str(p) for p in problems)
        raise LaunchError(
            f"the text does not fit calling list fields ({', '.join(fields)}): {listing}"
        )


def start_skill(
    engine: Engine, skill_id: int, clock: Clock, *, template_id: int | None = None,
    message_text: str | None = None, direction: str = "auto",
    batch_size: int = LAUNCH_BATCH,
    after_batch: Callable[[int], None] | None = None,
) -> LaunchSummary:
    """Start a skill (or resume its interrupted launch) and decide every record once.

    `after_batch` is called with the number of records decided so far after each committed
    batch (for progress bars, and for tests that interrupt a launch).
    """
    with engine.begin() as conn:
        skill = skills.skill_by_id(conn, skill_id)
        if skill.status is SkillStatus.DRAFT:
            if template_id is not None or message_text is not None:
                skills.set_text(conn, skill_id, template_id, message_text, direction)
                skill = skills.skill_by_id(conn, skill_id)
            text = resolve_text(conn, skill)
            check_text(conn, skill, text)
            skills.change_status(conn, skill_id, SkillStatus.LAUNCHING, [SkillStatus.DRAFT],
                                 clock.now())
        elif skill.status is SkillStatus.LAUNCHING:
            text = resolve_text(conn, skill)  # resuming a launch that was interrupted
        else:
            return LaunchSummary(skill_id, skill.status, already_started=True)
        registration = registrations.registration_by_id(conn, skill.registration_id)
        bu = tenancy.business_unit_by_id(conn, skill.business_unit_id)
        dnc_list_id = registration.dnc_list_id or dnc.find_list(conn, bu.tenant_id).id
        seen = messages.live_destinations(conn, skill_id)
        decided = messages.count_decided(conn, skill_id)

    summary = LaunchSummary(skill_id, SkillStatus.LAUNCHING)
    decider = _Decider(skill, text, seen, clock.now().date())
    with engine.connect() as reader:
        for batch in calling_lists.record_batches(reader, skill.calling_list_id,
                                                  skill.launch_cursor, batch_size):
            reader.commit()  # do not hold a read transaction across our own writes
            with engine.begin() as conn:
                on_dnc = dnc.numbers_on_list(conn, dnc_list_id,
                                             (r.sms_destination for r in batch))
                decisions = [decider.decide(record, on_dnc) for record in batch]
                summary.decided_now += messages.insert_decisions(conn, skill_id, decisions,
                                                                 clock.now())
                skills.advance_launch_cursor(conn, skill_id, batch[-1].id)
            for d in decisions:
                if d.state is MessageState.PENDING:
                    summary.pending += 1
                else:
                    summary.skipped[d.skip_reason] += 1
            decided += len(batch)
            if after_batch:
                after_batch(decided)

    with engine.begin() as conn:
        skills.change_status(conn, skill_id, SkillStatus.RUNNING, [SkillStatus.LAUNCHING],
                             clock.now())
        summary.status = skills.skill_by_id(conn, skill_id).status
    return summary


class _Decider:
    """Decides one record at a time; remembers destinations already given a text."""

    def __init__(self, skill: Skill, text: MessageText, seen: set[str], today: date) -> None:
        self.skill = skill
        self.text = text
        self.seen = seen
        self.today = today
        # A text without variables renders and encodes the same for everyone: do it once.
        self._fixed: Decision | None = None
        if not text.template.variables:
            self._fixed = self._render(0, None, {})

    def decide(self, record: StoredRecord, on_dnc: set[str]) -> Decision:
        destination = record.sms_destination

        def skip(reason: SkipReason, detail: str | None = None) -> Decision:
            return Decision(record.id, MessageState.SKIPPED, destination,
                            skip_reason=reason.value, detail=detail)

        if record.expiration_date is not None and record.expiration_date < self.today:
            return skip(SkipReason.EXPIRED, f"expired on {record.expiration_date.isoformat()}")
        if destination is None:
            reason = SkipReason(record.sms_problem or SkipReason.NO_MOBILE_NUMBER.value)
            return skip(reason)
        if destination in on_dnc:
            return skip(SkipReason.DNC)
        if destination in self.seen:
            return skip(SkipReason.DUPLICATE_DESTINATION)
        if self._fixed is not None:
            decision = Decision(record.id, self._fixed.state, destination, self._fixed.body,
                                self._fixed.encoding, self._fixed.segments,
                                self._fixed.skip_reason, self._fixed.detail)
        else:
            decision = self._render(record.id, destination, record.fields)
        if decision.state is MessageState.PENDING:
            self.seen.add(destination)
        return decision

    def _render(self, record_id: int, destination: str | None, fields: dict) -> Decision:
        try:
            body = template.render(self.text.template, fields, self.text.direction)
        except template.MissingFieldError as exc:
            return Decision(record_id, MessageState.SKIPPED, destination,
                            skip_reason=SkipReason.MISSING_FIELD.value,
                            detail=f"{exc.field} is empty")
        report = encoding.analyze(body, smart=self.text.smart_encoding)
        if report.segments > self.skill.max_segments:
            return Decision(record_id, MessageState.SKIPPED, destination,
                            skip_reason=SkipReason.TOO_LONG.value,
                            detail=f"{report.segments} segments, more than the skill's "
                                   f"{self.skill.max_segments}")
        return Decision(record_id, MessageState.PENDING, destination, report.text,
                        report.encoding.value, report.segments)
