"""Launching an agentless skill: deciding every record once.

Each record becomes a `pending` message with its rendered body, encoding and segments, or a
`skipped` one with its reason. Records are read in id order a batch at a time; each batch's
decisions and the skill's launch cursor are written in one transaction, so a launch killed at any
point resumes where it stopped, and the unique (skill, record) constraint makes a second start, or
two at once, create nothing twice.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import Connection, Engine

from proactive_sms.domain import encoding, template
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageState, SkipReason
from proactive_sms.services import offload
from proactive_sms.store import calling_lists, dnc, messages, registrations, skills, spend, tenancy
from proactive_sms.store import templates as template_store
from proactive_sms.store.calling_lists import LaunchFields, LaunchRecord
from proactive_sms.store.messages import Decision, destination_key
from proactive_sms.store.skills import Skill, SkillStatus

LAUNCH_BATCH = 20_000  # larger batches rewrite fewer pages of the message indexes per row
PARALLEL_MIN_RECORDS = 50_000  # below this a worker process saves too little to be worth it


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
    bidi_marks: str = "auto"  # the template's: isolates where needed (auto) or none (off)


def resolve_text(conn: Connection, skill: Skill) -> MessageText:
    if skill.template_id is not None:
        stored = template_store.template_by_id(conn, skill.template_id)
        body, declared, smart = stored.body, stored.direction, stored.smart_encoding
        marks = stored.bidi_marks
    elif skill.message_text is not None:
        body, declared, smart, marks = skill.message_text, skill.direction, False, "auto"
    else:
        raise LaunchError(f"skill '{skill.name}' has no text: give --template NAME or --message")
    try:
        parsed = template.parse(body)
    except template.TemplateError as exc:
        raise LaunchError(f"the text of skill '{skill.name}' is not valid: {exc}") from exc
    return MessageText(parsed, template.resolve_direction(parsed, declared), smart, marks)


def check_text(conn: Connection, skill: Skill, text: MessageText) -> None:
    """Every variable must name a field of the skill's calling list."""
    fields = calling_lists.list_by_id(conn, skill.calling_list_id).fields
    problems = template.validate(text.template, fields)
    if problems:
        listing = "; ".join(str(p) for p in problems)
        raise LaunchError(
            f"the text does not fit calling list fields ({', '.join(fields)}): {listing}"
        )


def check_startable(conn: Connection, skill: Skill) -> None:
    """What a start refuses before deciding any record, checked when a start is scheduled and
    again at its moment: an agentless skill's text must exist and fit its list's fields, an
    agent skill needs a cadence."""
    if skill.kind == "agent":
        from proactive_sms.services import cadences

        if cadences.load(conn, skill) is None:
            raise LaunchError(f"skill '{skill.name}' has no cadence yet: set one first")
        return
    check_text(conn, skill, resolve_text(conn, skill))


def too_long_detail(segments: int, max_segments: int) -> str | None:
    """Why a text of `segments` parts is skipped as too_long by a skill that sends at most
    `max_segments`, or None when it is not too long."""
    if segments <= max_segments:
        return None
    return f"{segments} segments, more than the skill's {max_segments}"


def start_skill(
    engine: Engine, skill_id: int, clock: Clock, *, template_id: int | None = None,
    message_text: str | None = None, direction: str = "auto",
    batch_size: int = LAUNCH_BATCH,
    after_batch: Callable[[int], None] | None = None, workers: int | None = None,
) -> LaunchSummary:
    """Start a skill (or resume its interrupted launch) and decide every record once.

    `after_batch` is called with the number of records decided so far after each committed
    batch (for progress bars, and for tests that interrupt a launch). `workers`: 1 renders
    texts in a worker process, 0 here; None (the default) uses a worker for a text with
    variables and PARALLEL_MIN_RECORDS records or more left to decide.
    """
    with engine.begin() as conn:
        skill = skills.skill_by_id(conn, skill_id)
    if skill.status is SkillStatus.SCHEDULED:
        raise LaunchError(f"skill '{skill.name}' is scheduled to start later: cancel or move "
                          "its scheduled start first")
    if skill.status is SkillStatus.DRAFT:
        _check_budgets(engine, skill, clock, template_id, message_text, direction)
    if skill.kind == "agent":  # records enter its cadence; texts come from its SMS steps
        from proactive_sms.services import cadences

        return cadences.start(engine, skill_id, clock)
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
        prices = spend.price_list(conn, registration.id)  # fixes each text's cost
        seen = messages.live_destinations(conn, skill_id)
        decided = messages.count_decided(conn, skill_id)
        first = calling_lists.first_id(conn, skill.calling_list_id)
        cursor = skill.launch_cursor if first is None else max(skill.launch_cursor, first - 1)
        remaining = calling_lists.count_after(conn, skill.calling_list_id, cursor,
                                              PARALLEL_MIN_RECORDS)

    summary = LaunchSummary(skill_id, SkillStatus.LAUNCHING)
    decider = _Decider(skill, text, seen, clock.now().date())
    if workers is None:
        workers = 1 if decider.needs_fields and remaining >= PARALLEL_MIN_RECORDS else 0
    # Texts are rendered a batch ahead, in a worker process for a large list (services.offload),
    # while this process reads and writes: the worker renders batch n+1 while batch n is written.
    # A fresh worker rather than a fork: this process may be large by now (a server, or an
    # import just before in the same process), and a fork of it keeps a copy of every page this
    # process rewrites while the launch runs (measured: ~110 MB at 1M records, against ~60 MB
    # for a fresh interpreter). The worker imports what it needs while the first batch is
    # decided here.
    with offload.frozen_heap(), offload.runner(_Preparations(decider.preparer), workers,
                                               start="fresh") as work:
        sent: _Ahead | None = None  # the batch read ahead, being prepared
        while True:
            # Read, decide and write a batch in one transaction: the DNC list is read in the
            # transaction that records the decisions, and a crash loses nothing decided.
            with engine.begin() as conn:
                batch = calling_lists.launch_batch(conn, skill.calling_list_id, cursor,
                                                   batch_size, dnc_list_id, decider.needs_fields)
                if not batch:
                    break
                this, sent = sent, None
                if decider.needs_fields and work.alive:
                    # The next batch, read now and prepared while this one is written.
                    following = calling_lists.launch_fields(conn, skill.calling_list_id,
                                                            batch[-1].id, batch_size)
                    if following:
                        sent = _Ahead.read(following)
                        work.submit(sent)
                prepared = (_aligned(batch, this, work.result()) if this is not None
                            else [None] * len(batch))
                decisions = [decider.decide(record, preparation)
                             for record, preparation in zip(batch, prepared, strict=True)]
                summary.decided_now += messages.insert_decisions(conn, skill_id, decisions,
                                                                 clock.now(), prices)
                cursor = batch[-1].id
                skills.advance_launch_cursor(conn, skill_id, cursor)
            for d in decisions:
                if d.state is _PENDING:
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


def _check_budgets(engine: Engine, skill: Skill, clock: Clock, template_id: int | None,
                   message_text: str | None, direction: str) -> None:
    """A start whose dry-run cost exceeds the skill's budget or its unit's month is refused
    (services.spend.BudgetExceeded), with the text it is started with."""
    from proactive_sms.services import spend

    if template_id is not None or message_text is not None:
        skill = dataclasses.replace(skill, template_id=template_id, message_text=message_text,
                                    direction=direction)
    spend.check_start(engine, skill, clock)


# Enum members and values looked up once: launch uses them a million times, and an enum's
# `.value` is a Python-level property.
_PENDING = MessageState.PENDING
_SKIPPED = MessageState.SKIPPED
_EXPIRED = SkipReason.EXPIRED.value
_DNC = SkipReason.DNC.value
_NO_MOBILE_NUMBER = SkipReason.NO_MOBILE_NUMBER.value
_SKIP_REASONS = frozenset(reason.value for reason in SkipReason)
_DUPLICATE = SkipReason.DUPLICATE_DESTINATION.value
_MISSING_FIELD = SkipReason.MISSING_FIELD.value
_TOO_LONG = SkipReason.TOO_LONG.value
_GSM7 = encoding.Encoding.GSM7.value


class _Decider:
    """Decides one record at a time; remembers destinations already given a text.

    `seen` holds `messages.destination_key`s (ints for E.164 numbers: half the memory of the
    strings, which matters at a million records).
    """

    def __init__(self, skill: Skill, text: MessageText, seen: set[int | str],
                 today: date) -> None:
        self.skill = skill
        self.text = text
        self.seen = seen
        self.today = today
        self.preparer = _Preparer(text, skill.max_segments)
        self._rendering = self.preparer.rendering
        # A text without variables renders and encodes the same for everyone: do it once.
        self._fixed: Decision | None = None
        if not text.template.variables:
            self._fixed = self._render(0, None, {})

    @property
    def needs_fields(self) -> bool:
        return self._fixed is None

    def decide(self, record: LaunchRecord, prepared: Prepared | None = None) -> Decision:
        """The decision for `record`. `prepared` is `self.preparer.prepare(destination,
        fields)` of its destination and fields when that was worked out already (in a worker
        process); else that is worked out here."""
        destination = record.sms_destination
        if record.expiration_date is not None and record.expiration_date < self.today:
            return Decision(record.id, _SKIPPED, destination, None, None, 0, _EXPIRED,
                            f"expired on {record.expiration_date.isoformat()}")
        if destination is None:
            reason = record.sms_problem or _NO_MOBILE_NUMBER
            if reason not in _SKIP_REASONS:
                reason = SkipReason(reason).value  # ValueError: not a reason we know
            return Decision(record.id, _SKIPPED, None, None, None, 0, reason)
        if record.on_dnc:
            return Decision(record.id, _SKIPPED, destination, None, None, 0, _DNC)
        key = destination_key(destination) if prepared is None else prepared[0]
        if key in self.seen:
            return Decision(record.id, _SKIPPED, destination, None, None, 0, _DUPLICATE)
        fixed = self._fixed
        if fixed is not None:
            decision = fixed._replace(record_id=record.id, destination=destination)
        else:
            if prepared is None:
                prepared = (key, *self._rendering(calling_lists.decode_fields(record.fields)))
            _, state, body, encoded, segments, reason, detail = prepared
            decision = Decision(record.id, state, destination, body, encoded, segments, reason,
                                detail)
        if decision.state is _PENDING:
            self.seen.add(key)
        return decision

    def _render(self, record_id: int, destination: str | None, fields: dict) -> Decision:
        state, body, encoded, segments, reason, detail = self._rendering(fields)
        return Decision(record_id, state, destination, body, encoded, segments, reason, detail)


class _Preparer:
    """The part of deciding that depends only on a record's destination and fields: the text
    and its encoding. Small and picklable (no state but caches), for a worker process."""

    def __init__(self, text: MessageText, max_segments: int) -> None:
        self.text = text
        self.max_segments = max_segments
        self._renderer = _Renderer(text.template, text.direction, text.bidi_marks)

    def prepare(self, destination: str, fields: str | dict[str, str] | None) -> Prepared:
        """For a record with a destination and these fields (as LaunchRecord has them): the
        destination's key and the text, or why it cannot be sent."""
        return (destination_key(destination),
                *self.rendering(calling_lists.decode_fields(fields)))

    def rendering(self, fields: dict) -> Rendered:
        try:
            body = self._renderer.render(fields)
        except template.MissingFieldError as exc:
            return _SKIPPED, None, None, 0, _MISSING_FIELD, f"{exc.field} is empty"
        segments = encoding.basic_gsm7_segments(body)  # most texts: no report needed
        if segments is not None:
            text, encoded = body, _GSM7
        else:
            report = encoding.analyze(body, smart=self.text.smart_encoding)
            text, encoded, segments = report.text, report.encoding.value, report.segments
        if segments > self.max_segments:
            return (_SKIPPED, None, None, 0, _TOO_LONG,
                    too_long_detail(segments, self.max_segments))
        return _PENDING, text, encoded, segments, None, None


# A record's text as Decision has it: (state, body, encoding, segments, skip_reason, detail).
Rendered = tuple[MessageState, str | None, str | None, int, str | None, str | None]
# (destination_key, *rendering): one flat tuple, the cheapest to send back from a worker
Prepared = tuple[int | str, MessageState, str | None, str | None, int, str | None, str | None]


class _Ahead(NamedTuple):
    """A batch read a transaction ahead of its own, to be prepared by the worker."""

    ids: list[int]
    destinations: list[str | None]
    fields: list  # None for a record without a destination: it needs no text

    @classmethod
    def read(cls, rows: Sequence[LaunchFields]) -> _Ahead:
        return cls([r.id for r in rows], [r.sms_destination for r in rows],
                   [r.fields if r.sms_destination is not None else None for r in rows])


class _Preparations:
    """The worker's task: `_Preparer.prepare` for each record of an _Ahead that has a
    destination, None for the others."""

    def __init__(self, preparer: _Preparer) -> None:
        self.preparer = preparer

    def __call__(self, ahead: _Ahead) -> list[Prepared | None]:
        prepare = self.preparer.prepare
        return [None if d is None else prepare(d, f)
                for d, f in zip(ahead.destinations, ahead.fields, strict=True)]


def _aligned(batch: Sequence[LaunchRecord], ahead: _Ahead,
             prepared: list[Prepared | None]) -> Sequence[Prepared | None]:
    """The preparations made for `ahead` (the batch as read a transaction earlier), set
    against the batch as read now, in the writing transaction.

    One is used only for the same record with the same destination and fields (a re-import
    between the two reads could change them); any other record is prepared here (None).
    """
    now = _Ahead.read(batch)  # type: ignore[arg-type]  # LaunchRecords have those attributes
    if now == ahead:  # the usual case: compared in C, list against list
        return prepared
    made = {record_id: (destination, fields, preparation) for record_id, destination, fields,
            preparation in zip(ahead.ids, ahead.destinations, ahead.fields, prepared,
                               strict=True)}
    aligned: list[Prepared | None] = []
    for record_id, destination, fields in zip(now.ids, now.destinations, now.fields,
                                              strict=True):
        found = made.get(record_id)
        aligned.append(found[2] if found is not None and found[:2] == (destination, fields)
                       else None)
    return aligned


_PLAN_CACHE_LIMIT = 4096  # distinct field-name sets remembered; a list has a handful


class _Renderer:
    """template.render(tpl, fields, direction) for record after record, without redoing per
    record what depends only on which field names the record has.

    render() folds every field name of every record to find each variable's value. Records of
    one list share a few sets of names, so for each set (a tuple of the names, in order) we work
    out once which name each variable reads. A record whose set gives a variable exactly one
    name, holding a non-blank string, is merged directly (left-to-right text) or handed to
    render() with just those values (right-to-left, for the isolates); any other record goes to
    render() whole, so the answer, or the MissingFieldError, is always render()'s own.
    """

    def __init__(self, tpl: template.Template, direction: str, marks: str = "auto") -> None:
        self._template = tpl
        self._direction = direction
        self._marks = marks
        self._ltr = template.resolve_direction(tpl, direction) == "ltr" or marks == "off"
        self._plans: dict[tuple[str, ...], tuple[str | None, ...] | None] = {}

    def render(self, fields: dict) -> str:
        names = tuple(fields)
        plan = self._plans.get(names)
        if plan is None and names not in self._plans:
            plan = self._plan(names)
            if len(self._plans) < _PLAN_CACHE_LIMIT:
                self._plans[names] = plan
        if plan is None:
            return template.render(self._template, fields, self._direction, self._marks)
        merged: list[str] = []
        for piece, name in zip(self._template.pieces, plan, strict=True):
            if name is None:
                merged.append(piece)  # type: ignore[arg-type]  # literal text
                continue
            value = fields[name]
            if value.__class__ is not str or not value.strip():
                return template.render(self._template, fields, self._direction, self._marks)
            merged.append(value)
        if self._ltr:
            return "".join(merged)
        return template.render(self._template, {n: fields[n] for n in plan if n is not None},
                               self._direction, self._marks)

    def _plan(self, names: tuple[str, ...]) -> tuple[str | None, ...] | None:
        """For each piece, the one field name a variable reads (None for literal text); None
        when some variable has no name or several in this set: render() decides those."""
        by_key: dict[str, list[str]] = {}
        for name in names:
            by_key.setdefault(template.field_key(name), []).append(name)
        plan: list[str | None] = []
        for piece in self._template.pieces:
            if isinstance(piece, str):
                plan.append(None)
                continue
            found = by_key.get(piece.key, [])
            if len(found) != 1:
                return None
            plan.append(found[0])
        return tuple(plan)
