"""The decision for one record of a skill: a pending text (rendered body, encoding, segments)
or a skip with its reason.

Launching an agentless skill decides every record of its list with it, a batch at a time; an
agent skill's cadence (services/cadence_walk.py) decides one record when it reaches an SMS step;
the dry run counts what a launch would decide. One set of rules for all three, in a module of
its own so that none of them imports another.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection

from proactive_sms.domain import encoding, template
from proactive_sms.domain.message_states import MessageState, SkipReason
from proactive_sms.services import tracked_links
from proactive_sms.services.tracked_links import LinkSwap
from proactive_sms.store import calling_lists
from proactive_sms.store import templates as template_store
from proactive_sms.store.calling_lists import LaunchRecord
from proactive_sms.store.messages import Decision, destination_key
from proactive_sms.store.skills import Skill, SkillStatus


class LaunchError(ValueError):
    """The skill cannot start: says what is wrong (bad template, no text, wrong state)."""


@dataclass
class LaunchSummary:
    """What a start decided: records decided by this call, texts pending, skips by reason."""

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
    # With a BU link domain: `template` holds sample short links, swapped per recipient
    # (services.tracked_links); None: links go out as written.
    links: LinkSwap | None = None


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
    return with_tracked_links(conn, skill, MessageText(
        parsed, template.resolve_direction(parsed, declared), smart, marks))


def with_tracked_links(conn: Connection, skill: Skill, text: MessageText) -> MessageText:
    """`text` with its web links replaced by sample short links when the skill's BU has a link
    domain (the direction stays that of the text as written)."""
    tracked, swap = tracked_links.tracking(conn, skill, text.template)
    if swap is None:
        return text
    return MessageText(tracked, text.direction, text.smart_encoding, text.bidi_marks, swap)


def remember_links(conn: Connection, text: MessageText) -> MessageText:
    """Store the text's link targets for its skill (once) before its first text is decided."""
    if text.links is None:
        return text
    return MessageText(text.template, text.direction, text.smart_encoding, text.bidi_marks,
                       tracked_links.remember_targets(conn, text.links))


def check_text(conn: Connection, skill: Skill, text: MessageText) -> None:
    """Every variable must name a field of the skill's calling list."""
    fields = calling_lists.list_by_id(conn, skill.calling_list_id).fields
    problems = template.validate(text.template, fields)
    if problems:
        listing = "; ".join(str(p) for p in problems)
        raise LaunchError(
            f"the text does not fit calling list fields ({', '.join(fields)}): {listing}"
        )


def too_long_detail(segments: int, max_segments: int) -> str | None:
    """Why a text of `segments` parts is skipped as too_long by a skill that sends at most
    `max_segments`, or None when it is not too long."""
    if segments <= max_segments:
        return None
    return f"{segments} segments, more than the skill's {max_segments}"


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


class Decider:
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
        self.preparer = Preparer(text, skill.max_segments)
        self._rendering = self.preparer.rendering
        self._links = text.links
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
            if self._links is not None:
                decision = decision._replace(
                    body=self._links.personalize(decision.body, record.id))
        return decision

    def _render(self, record_id: int, destination: str | None, fields: dict) -> Decision:
        state, body, encoded, segments, reason, detail = self._rendering(fields)
        return Decision(record_id, state, destination, body, encoded, segments, reason, detail)


class Preparer:
    """The part of deciding that depends only on a record's destination and fields: the text
    and its encoding. Small and picklable (no state but caches), for a worker process."""

    def __init__(self, text: MessageText, max_segments: int) -> None:
        self.text = text
        self.max_segments = max_segments
        self._renderer = Renderer(text.template, text.direction, text.bidi_marks)

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


_PLAN_CACHE_LIMIT = 4096  # distinct field-name sets remembered; a list has a handful


class Renderer:
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
