"""The cadence of an agent skill: its steps, and where a record goes after each outcome.

Pure decisions, no I/O. A record starts at step 1. After each attempt's outcome:
1. an outcome the cadence ends on (a sale, a refusal, ... and always `dnc`) ends the record;
2. else the first *later* step whose `after` lists the outcome is next, due at once;
3. else the same step again, `rest_minutes` later, while it has attempts left;
4. else the record is done: `attempts_exhausted` (a step that could retry) or
   `cadence_complete` (an SMS step, which is never retried: the dispatcher retries a text's
   temporary failures itself).
An SMS step's outcome is `texted` or `skipped` (no SMS-capable number, DNC, ...), so a cadence
goes on past a record it cannot text.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


class Channel(enum.StrEnum):
    VOICE = "voice"  # the dialer calls
    SMS = "sms"  # we text, through the launch rules and the dispatcher


# What the dialer reports of a call that reached no agent.
CALL_OUTCOMES = frozenset({"answering_machine", "no_answer", "busy", "disconnected"})
TEXTED, SKIPPED = "texted", "skipped"  # an SMS step's outcomes (`skipped`: voice too, no number)
DNC = "dnc"  # always ends a record: on the DNC list, or texted STOP
ATTEMPTS_EXHAUSTED, CADENCE_COMPLETE = "attempts_exhausted", "cadence_complete"
SKILL_STOPPED = "skill_stopped"  # the skill was stopped by a person

PHONE, SMS_PHONE = "PhoneNumber", "SMSPhoneNumber"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_STEPS = 20
MAX_BATCH = 1000  # attempts handed out, or outcomes taken, in one request (API and CLI)
MAX_ATTEMPTS = 50
MAX_REST_MINUTES = 60 * 24 * 30  # a month


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, its place in the cadence
    channel: Channel
    destination: str  # PhoneNumber, SMSPhoneNumber or a custom phone field of the list
    after: frozenset[str] = frozenset()  # outcomes of an earlier step that lead here
    template: str | None = None  # SMS steps: the saved template's name
    max_attempts: int = 1
    rest_minutes: int = 0  # between two attempts of this step


@dataclass(frozen=True)
class Cadence:
    steps: tuple[Step, ...]
    dispositions: frozenset[str] = frozenset()  # what agents may report (sale, refused, ...)
    ends_on: frozenset[str] = frozenset()  # outcomes that end a record (DNC always does)

    def step(self, number: int) -> Step:
        return self.steps[number - 1]

    @property
    def outcomes(self) -> frozenset[str]:
        """Everything the dialer may report of a call."""
        return CALL_OUTCOMES | self.dispositions | {DNC}

    def to_dict(self) -> dict:
        return {
            "steps": [{
                "channel": s.channel.value, "destination": s.destination,
                "after": sorted(s.after), "template": s.template,
                "max_attempts": s.max_attempts, "rest_minutes": s.rest_minutes,
            } for s in self.steps],
            "dispositions": sorted(self.dispositions),
            "ends_on": sorted(self.ends_on),
        }


@dataclass(frozen=True)
class Problem:
    field: str  # e.g. "steps[2].template"
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class CadenceError(ValueError):
    """A cadence definition that cannot be used; `problems` names every field to fix."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def parse(data: object, list_fields: Iterable[str]) -> Cadence:
    """A cadence from its JSON form, checked against the calling list's fields.

    Raises CadenceError naming every problem (field path and reason), not just the first.
    """
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        raise CadenceError([Problem("cadence", "must be an object with 'steps'")])
    known = {f.casefold() for f in list_fields} | {PHONE.casefold(), SMS_PHONE.casefold()}
    dispositions = _names(data.get("dispositions", []), "dispositions", problems)
    clash = dispositions & (CALL_OUTCOMES | {TEXTED, SKIPPED})
    if clash:
        problems.append(Problem("dispositions", f"{', '.join(sorted(clash))} is an outcome "
                                                "of its own, not an agent disposition"))
    ends_on = _names(data.get("ends_on", []), "ends_on", problems)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append(Problem("steps", "needs at least one step"))
        raw_steps = []
    elif len(raw_steps) > MAX_STEPS:
        problems.append(Problem("steps", f"at most {MAX_STEPS} steps"))
    steps = []
    reachable: set[str] = set()  # outcomes some earlier step can produce
    for index, raw in enumerate(raw_steps, start=1):
        step = _step(index, raw, known, reachable, problems)
        if step is not None:
            steps.append(step)
        channel = raw.get("channel") if isinstance(raw, Mapping) else None
        # What this step can end in, even if it has problems: later steps are judged on that.
        reachable |= ({TEXTED, SKIPPED} if channel == Channel.SMS.value
                      else CALL_OUTCOMES | dispositions | {SKIPPED})
    possible = CALL_OUTCOMES | dispositions | {TEXTED, SKIPPED, DNC}
    for name in sorted(ends_on - possible):
        problems.append(Problem("ends_on", f"'{name}' is not a call outcome nor one of the "
                                           "dispositions"))
    if problems:
        raise CadenceError(problems)
    return Cadence(tuple(steps), frozenset(dispositions), frozenset(ends_on))


def _names(value: object, where: str, problems: list[Problem]) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(where, "must be a list of names"))
        return set()
    bad = [v for v in value if not _NAME.fullmatch(v)]
    for v in bad:
        problems.append(Problem(where, f"'{v}' is not a name (lower case letters, digits, _)"))
    return {v for v in value if v not in bad}


def _step(index: int, raw: object, known: set[str], reachable: set[str],
          problems: list[Problem]) -> Step | None:
    where = f"steps[{index}]"
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, "must be an object"))
        return None
    before = len(problems)
    try:
        channel = Channel(raw.get("channel"))
    except ValueError:
        problems.append(Problem(f"{where}.channel", "must be voice or sms"))
        channel = None
    destination = raw.get("destination", SMS_PHONE if channel is Channel.SMS else PHONE)
    if not isinstance(destination, str) or destination.casefold() not in known:
        problems.append(Problem(f"{where}.destination",
                                f"'{destination}' is not PhoneNumber, SMSPhoneNumber or a "
                                "field of the calling list"))
    after = raw.get("after", [])
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        problems.append(Problem(f"{where}.after", "must be a list of outcomes"))
        after = []
    if index == 1 and after:
        problems.append(Problem(f"{where}.after", "the first step is where every record "
                                                  "starts: it follows no outcome"))
    if index > 1 and not after:
        problems.append(Problem(f"{where}.after", "name the outcomes of an earlier step "
                                                  "that lead to this one"))
    for outcome in after:
        if index > 1 and outcome not in reachable:
            problems.append(Problem(f"{where}.after", f"no earlier step can end in "
                                                      f"'{outcome}'"))
    template = raw.get("template")
    if channel is Channel.SMS and not (isinstance(template, str) and template.strip()):
        problems.append(Problem(f"{where}.template", "an SMS step needs a template"))
    if channel is Channel.VOICE and template is not None:
        problems.append(Problem(f"{where}.template", "a voice step sends no text"))
    max_attempts = raw.get("max_attempts", 1)
    if not _int_in(max_attempts, 1, MAX_ATTEMPTS):
        problems.append(Problem(f"{where}.max_attempts", f"must be a whole number 1.."
                                                         f"{MAX_ATTEMPTS}"))
    elif channel is Channel.SMS and max_attempts != 1:
        problems.append(Problem(f"{where}.max_attempts", "an SMS step texts once (the "
                                                         "dispatcher retries failures)"))
    rest = raw.get("rest_minutes", 0)
    if not _int_in(rest, 0, MAX_REST_MINUTES):
        problems.append(Problem(f"{where}.rest_minutes", f"must be a whole number 0.."
                                                         f"{MAX_REST_MINUTES}"))
    unknown = set(raw) - {"channel", "destination", "after", "template", "max_attempts",
                          "rest_minutes"}
    for name in sorted(unknown):
        problems.append(Problem(f"{where}.{name}", "unknown setting"))
    if len(problems) > before or channel is None:
        return None
    return Step(index, channel, destination, frozenset(after), template, max_attempts, rest)


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


@dataclass(frozen=True)
class Position:
    """Where a record stands: the step, attempts made there, when the next may be made, or
    why it is done."""

    step: int
    attempts: int = 0
    due_at: datetime | None = None
    done_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.done_reason is not None


@dataclass(frozen=True)
class Move:
    """What an outcome did: the new position, and how (`next_step`, `retry` or `done`)."""

    position: Position
    how: str


def start(now: datetime) -> Position:
    return Position(step=1, attempts=0, due_at=now)


def after_outcome(cadence: Cadence, position: Position, outcome: str, now: datetime) -> Move:
    """The record's next position once the current step's attempt ended in `outcome`."""
    if position.done:
        return Move(position, "done")
    step = cadence.step(position.step)
    attempts = position.attempts + 1
    if outcome == DNC or outcome in cadence.ends_on:
        return Move(Position(step.number, attempts, None, outcome), "done")
    for later in cadence.steps[step.number:]:
        if outcome in later.after:
            return Move(Position(later.number, 0, now), "next_step")
    if step.channel is Channel.VOICE and outcome != SKIPPED and attempts < step.max_attempts:
        return Move(Position(step.number, attempts,
                             now + timedelta(minutes=step.rest_minutes)), "retry")
    reason = (ATTEMPTS_EXHAUSTED if step.channel is Channel.VOICE and outcome != SKIPPED
              else CADENCE_COMPLETE)
    return Move(Position(step.number, attempts, None, reason), "done")


def is_due(position: Position, now: datetime) -> bool:
    return not position.done and (position.due_at is None or position.due_at <= now)
