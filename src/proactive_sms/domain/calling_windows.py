"""When a text may be sent: the recipient's calling window, in every candidate time zone.

A text may go at instant `now` when, in each of the recipient's candidate zones, the local
wall-clock time is inside both the skill's hours for that local day and the hours of every legal
rule that applies (`window_rules`): the stricter always wins. When a zone is uncertain (an area
code that spans two zones), the text waits until every candidate zone is open at once.

Windows follow local wall-clock time, also on the days the clocks change. A window's opening
or closing time that falls into a clock change is read the strict way:
- in a gap (spring forward; the wall time never happens) it is the instant of the change,
  the first moment the wall clock shows a later time;
- in a fold (fall back; the wall time happens twice) a window opens at the second occurrence
  and closes at the first, so that no instant of the window is ever outside its hours.
With the usual windows (08:00-21:00) neither case occurs in the US, where clocks change at 02:00.

Everything is pure and keyed for caching: each zone's window for one local day is computed once
per (zone, day, skill window, rules table) and reused, so that deciding for a million recipients
costs a few microseconds each (see `decide`). Times in and out are timezone-aware UTC.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from proactive_sms.domain.time_zones import zone_info
from proactive_sms.domain.window_rules import (
    DEFAULT_RULE_TABLE,
    DEFAULT_RULES,
    SECONDS_PER_DAY,
    WEEKDAY_NAMES,
    Hours,
    Policy,
    RuleError,
    Rules,
    WindowRule,
    format_seconds,
    hours_seconds,
    load_rules,
    parse_hours,
    public_holiday,
    weekday_number,
)

__all__ = [
    "DEFAULT_RULES", "DEFAULT_RULE_TABLE", "HORIZON_DAYS", "RuleError", "Rules", "SkillWindow",
    "WindowDecision", "WindowRule", "decide", "frequency_cap_for", "load_rules", "zone_info",
]

HORIZON_DAYS = 14  # how far ahead next_open is looked for; None beyond it
_HORIZON = timedelta(days=HORIZON_DAYS)
_DEFAULT_HOURS: Hours = (time(8), time(21))
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SkillWindow:
    """A skill's own hours, in the recipient's local time; the law applies on top.

    `forbidden_days` holds weekday names ("sunday", "Sun") and dates (date objects or
    "2026-12-25"); both are read in the recipient's local calendar.
    """

    weekday: Hours = _DEFAULT_HOURS  # Monday to Friday
    weekend: Hours = _DEFAULT_HOURS  # Saturday and Sunday
    forbidden_days: frozenset[str | date] = frozenset()
    _weekday_s: tuple[int, int] = field(init=False, repr=False, compare=False)
    _weekend_s: tuple[int, int] = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weekday = _skill_hours(self.weekday, "weekday")
        weekend = _skill_hours(self.weekend, "weekend")
        days: set[str | date] = set()
        for day in self.forbidden_days:
            days.add(_forbidden_day(day))
        forbidden = frozenset(days)
        object.__setattr__(self, "weekday", weekday)
        object.__setattr__(self, "weekend", weekend)
        object.__setattr__(self, "forbidden_days", forbidden)
        object.__setattr__(self, "_weekday_s", hours_seconds(weekday))
        object.__setattr__(self, "_weekend_s", hours_seconds(weekend))
        # Hashed on every cached lookup: compute it once.
        object.__setattr__(self, "_hash", hash((weekday, weekend, forbidden)))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def from_config(cls, config: Mapping[str, object] | None) -> SkillWindow:
        """From {"weekday": "08:00-21:00", "weekend": "10:00-18:00", "forbidden_days":
        ["sunday", "2026-12-25"]}; missing keys take the defaults. ValueError names the key."""
        config = dict(config or {})
        unknown = sorted(set(config) - {"weekday", "weekend", "forbidden_days"})
        if unknown:
            raise ValueError(f"skill window: unknown setting {unknown[0]!r}")
        days = config.get("forbidden_days") or []
        if isinstance(days, str) or not isinstance(days, Iterable):
            raise ValueError("skill window: 'forbidden_days' must be a list")
        return cls(
            weekday=config.get("weekday", _DEFAULT_HOURS),
            weekend=config.get("weekend", _DEFAULT_HOURS),
            forbidden_days=frozenset(days),
        )

    def seconds_on(self, day: date) -> tuple[tuple[int, int] | None, str]:
        """Allowed [start, end) seconds of local `day`, or None with the reason it is off."""
        name = WEEKDAY_NAMES[day.weekday()]
        if name in self.forbidden_days:
            return None, f"the skill forbids {name.capitalize()}s"
        if day in self.forbidden_days:
            return None, f"the skill forbids {day.isoformat()}"
        return (self._weekend_s if day.weekday() >= 5 else self._weekday_s), ""


def _skill_hours(value: object, key: str) -> Hours:
    try:
        return parse_hours(value)
    except ValueError as exc:
        raise ValueError(f"skill window: {key!r}: {exc}") from None


def _forbidden_day(value: object) -> str | date:
    if isinstance(value, datetime):
        raise ValueError(f"skill window: forbidden day {value!r} must be a date, not a datetime")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
        try:
            return WEEKDAY_NAMES[weekday_number(value)]
        except RuleError:
            pass
    raise ValueError(
        f"skill window: forbidden day {value!r} is neither a weekday name nor a date YYYY-MM-DD"
    )


@dataclass(frozen=True, slots=True)
class WindowDecision:
    """Whether a text may go now, and when that changes."""

    allowed_now: bool
    # When not allowed: the earliest instant (UTC) at or after now when every candidate zone is
    # inside its window; None if there is none within HORIZON_DAYS.
    next_open: datetime | None
    # When allowed: the earliest instant (UTC) the window closes in any candidate zone (for the
    # SMPP validity period); None if it stays open beyond HORIZON_DAYS.
    closes_at: datetime | None
    reason: str  # for people: which zone and which rule decided


def decide(
    now: datetime,
    zones: Sequence[str],
    state: str | None,
    skill_window: SkillWindow,
    rules: Rules = DEFAULT_RULES,
    country: str = "US",
) -> WindowDecision:
    """May a text go at `now` to a recipient whose candidate IANA zones are `zones`?

    `state` (a USPS code such as "FL", or None) and `country` (ISO 3166, e.g. "US", "FR")
    choose the legal rules that apply. No zone at all is never allowed. An unknown zone name
    or a naive `now` raises ValueError: resolve zones with `time_zones.resolve_zones`.

    Cost: a decision holds until its answer changes (until `closes_at`, or `next_open`), and
    is kept per (zones, skill window, applicable rules): recipients that share those cost ~2 us
    each at a `now` that moves forward; a fresh computation costs ~20-100 us.
    """
    now = _as_utc(now)
    policy = rules.policy_for(country, state)
    key = (zones if type(zones) is tuple else tuple(zones), skill_window, policy)
    known = _decisions.get(key)
    if known is not None and known[0] <= now < known[1]:
        return known[2]
    decision, valid_from, valid_until = _decide(now, key[0], skill_window, policy)
    if valid_until is not None:
        if len(_decisions) >= _DECISION_CACHE_LIMIT:
            _decisions.clear()
        _decisions[key] = (valid_from, valid_until, decision)
    return decision


# (zones, skill window, policy) -> (valid from, valid until, the decision for that span)
_decisions: dict[tuple, tuple[datetime, datetime, WindowDecision]] = {}
_DECISION_CACHE_LIMIT = 65_536


def _decide(
    now: datetime, zones: tuple[str, ...], skill: SkillWindow, policy: Policy
) -> tuple[WindowDecision, datetime, datetime | None]:
    """The decision at `now` and the span [from, until) over which it stays the same
    (until None: do not reuse it)."""
    names = tuple(dict.fromkeys(zones))  # unique, in order
    if not names:
        reason = "no time zone is known for the recipient"
        return WindowDecision(False, None, None, reason), now, None
    for name in names:
        zone_info(name)  # unknown names raise ValueError before anything is cached
    found = _next_common_open(names, now, skill, policy)
    if found is None:
        reason = _never_reason(names, now, skill, policy)
        return WindowDecision(False, None, None, reason), now, None
    moment, windows = found
    if moment > now:
        # The zone that opens last is the one everyone waits for.
        waiting = max(range(len(names)), key=lambda i: windows[i].opens)
        local = moment.astimezone(zone_info(names[waiting]))
        reason = (
            f"closed until {local:%a %Y-%m-%d %H:%M %Z} in {names[waiting]},"
            f" window {_span(windows[waiting])}"
        )
        return WindowDecision(False, moment, None, reason), now, moment
    until = now + _HORIZON
    closes_at: datetime | None = None
    closing = 0
    for i, (zone, window) in enumerate(zip(names, windows, strict=True)):
        close = _merged_close(zone, window, skill, policy, until)
        if close is not None and (closes_at is None or close < closes_at):
            closes_at, closing = close, i
    reason = f"inside {_span(windows[closing])} in {names[closing]}"
    if len(names) > 1:
        reason += f" and in {len(names) - 1} more zone{'s' if len(names) > 2 else ''}"
    opened = max(w.opens for w in windows)
    return WindowDecision(True, None, closes_at, reason), opened, closes_at


def frequency_cap_for(
    state: str | None,
    rules: Rules = DEFAULT_RULES,
    default_per_24h: int | None = None,
    country: str = "US",
) -> int | None:
    """Texts a recipient may get in any rolling 24 hours: the strictest of the rules that apply
    and the configured default; None when nothing caps it."""
    caps = [r.max_per_24h for r in rules.policy_for(country, state).rules if r.max_per_24h]
    if default_per_24h is not None:
        caps.append(default_per_24h)
    return min(caps) if caps else None


# --- one zone, one local day -------------------------------------------------------------------


class _DayWindow(NamedTuple):
    day: date  # the local date
    opens: datetime | None  # UTC; None when the whole day is closed
    closes: datetime | None  # UTC, exclusive
    start: str  # "08:00 (US federal)": the binding opening time and who set it
    end: str  # "20:00 (Florida)"
    closed_reason: str  # why the whole day is closed, else ""


@functools.lru_cache(maxsize=1 << 16)
def _day_window(zone: str, day: date, skill: SkillWindow, policy: Policy) -> _DayWindow:
    skill_hours, why = skill.seconds_on(day)
    if skill_hours is None:
        return _DayWindow(day, None, None, "", "", why)
    weekday = day.weekday()
    start, end = 0, SECONDS_PER_DAY
    start_by = end_by = ""
    for rule in policy.rules:
        if weekday in rule.forbidden_weekdays:
            reason = f"{rule.name} forbids {WEEKDAY_NAMES[weekday].capitalize()}s"
            return _DayWindow(day, None, None, "", "", reason)
        if rule.no_public_holidays:
            holiday = public_holiday(policy.country, day)
            if holiday:
                reason = f"{day.isoformat()} is a public holiday ({holiday}): {rule.name}"
                return _DayWindow(day, None, None, "", "", reason)
        limit = rule.seconds_on(weekday)
        if limit is not None:
            if limit[0] > start:
                start, start_by = limit[0], rule.name
            if limit[1] < end:
                end, end_by = limit[1], rule.name
    # The law's label wins a tie: "before 08:00 (US federal)" says more than "(the skill)".
    if skill_hours[0] > start or not start_by:
        start, start_by = max(start, skill_hours[0]), "the skill"
    if skill_hours[1] < end or not end_by:
        end, end_by = min(end, skill_hours[1]), "the skill"
    start_text = f"{format_seconds(start)} ({start_by})"
    end_text = f"{format_seconds(end)} ({end_by})"
    if start >= end:
        reason = f"no hours left on {WEEKDAY_NAMES[weekday]}: opens {start_text}, ends {end_text}"
        return _DayWindow(day, None, None, start_text, end_text, reason)
    tz = zone_info(zone)
    opens = _instant(day, start, tz, opening=True)
    closes = _instant(day, end, tz, opening=False)
    if opens >= closes:  # the whole window is inside a clock change
        return _DayWindow(day, None, None, start_text, end_text, "the clocks skip the window")
    return _DayWindow(day, opens, closes, start_text, end_text, "")


def _instant(day: date, second_of_day: int, tz: ZoneInfo, *, opening: bool) -> datetime:
    """The UTC instant a window bound at local `day` + `second_of_day` stands for.

    See the module docstring for wall times that a clock change skips or repeats.
    """
    if second_of_day >= SECONDS_PER_DAY:
        day, second_of_day = day + _ONE_DAY, second_of_day - SECONDS_PER_DAY
    hour, rest = divmod(second_of_day, 3600)
    wall = datetime(day.year, day.month, day.day, hour, rest // 60, rest % 60, tzinfo=tz)
    first = wall.astimezone(UTC)  # fold=0: the offset in force before a change
    second = wall.replace(fold=1).astimezone(UTC)
    if first == second:
        return first
    if first < second:  # a fold: the wall time occurs twice
        return second if opening else first
    return _change_between(second, first, tz)  # a gap: the wall time never occurs


def _change_between(low: datetime, high: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (low, high] whose UTC offset differs from low's: the clock change."""
    before = low.astimezone(tz).utcoffset()
    lo, hi = 0, int((high - low).total_seconds())
    while hi - lo > 1:  # a gap is at most a few hours: about 14 steps to the second
        mid = (lo + hi) // 2
        if (low + timedelta(seconds=mid)).astimezone(tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return low + timedelta(seconds=hi)


# --- several zones -----------------------------------------------------------------------------


def _window_from(
    zone: str, moment: datetime, skill: SkillWindow, policy: Policy
) -> _DayWindow | None:
    """The zone's window that contains `moment` or is the next to open; None if none opens
    within the horizon (two days of slack cover the widest offsets)."""
    day = moment.astimezone(zone_info(zone)).date()
    for offset in range(HORIZON_DAYS + 2):
        window = _day_window(zone, day + timedelta(days=offset), skill, policy)
        if window.closes is not None and window.closes > moment:
            return window
    return None


def _next_common_open(
    zones: tuple[str, ...], now: datetime, skill: SkillWindow, policy: Policy
) -> tuple[datetime, list[_DayWindow]] | None:
    """The earliest instant at or after `now` inside every zone's window (within the horizon),
    with each zone's window at that instant.

    Leapfrog: move to the latest opening among the zones' current-or-next windows until one
    instant is inside all of them. Each step moves forward, so it ends within the horizon.
    """
    until = now + _HORIZON
    moment = now
    while moment <= until:
        windows = []
        for zone in zones:
            window = _window_from(zone, moment, skill, policy)
            if window is None:
                return None
            windows.append(window)
        latest = max(w.opens for w in windows)
        if latest <= moment:
            return moment, windows
        moment = latest
    return None


def _merged_close(
    zone: str, window: _DayWindow, skill: SkillWindow, policy: Policy, until: datetime
) -> datetime | None:
    """When the window stops, also across midnight into a next day that opens at once."""
    close = window.closes
    day = window.day
    while close is not None and close <= until:
        following = _day_window(zone, day + _ONE_DAY, skill, policy)
        if following.opens != close:
            return close
        close, day = following.closes, following.day
    return None


def _never_reason(
    zones: tuple[str, ...], now: datetime, skill: SkillWindow, policy: Policy
) -> str:
    for zone in zones:
        if _window_from(zone, now, skill, policy) is None:
            first_day = now.astimezone(zone_info(zone)).date()
            reasons = dict.fromkeys(
                _day_window(zone, first_day + timedelta(days=i), skill, policy).closed_reason
                for i in range(7)
            )
            return f"{zone} has no window in the next {HORIZON_DAYS} days: " + "; ".join(reasons)
    return (
        f"the windows of {', '.join(zones)} do not overlap in the next {HORIZON_DAYS} days"
    )


def _span(window: _DayWindow) -> str:
    """ "08:00-21:00 (US federal)", or "08:00-20:00 (US federal, Florida)" when two set it."""
    start, _, start_by = window.start.partition(" ")
    end, _, end_by = window.end.partition(" ")
    if start_by == end_by:
        return f"{start}-{end} {end_by}"
    return f"{start}-{end} ({start_by[1:-1]}, {end_by[1:-1]})"


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} must be timezone-aware (UTC)")
    return moment.astimezone(UTC)
