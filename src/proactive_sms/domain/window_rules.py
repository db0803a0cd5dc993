"""The law on when a text may reach someone, as one readable table a user can extend.

Each `WindowRule` says, for the recipients of some countries (and optionally some of their
states), which local hours are allowed, which weekdays and whether public holidays are off
limits, and how many texts a recipient may get in a rolling 24 hours. Every rule that applies
to a recipient applies at once: the hours allowed are the intersection of theirs, so the
stricter rule always wins. `calling_windows` intersects the result with the skill's own hours.

`DEFAULT_RULE_TABLE` holds the rules of the shared REFERENCE ("When a text may be sent").
`load_rules(extra)` adds configured rules to it: a rule whose name is already in the table
replaces that rule (or removes it with `"enabled": false`), any other name is added. Config form:

    {"name": "Texas", "country": "US", "states": ["TX"], "hours": "09:00-21:00",
     "hours_by_weekday": {"sunday": "12:00-21:00"}, "forbidden_weekdays": [],
     "no_public_holidays": false, "max_per_24h": null, "note": "..."}

`country` may also be `countries` (a list of ISO 3166 codes); `hours` may be a pair
["09:00", "21:00"] or null (no hour limit); "24:00" ends a window at midnight.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SECONDS_PER_DAY = 86_400
# The NANP territories where US federal law applies as in the states (their own ISO codes are
# what phonenumbers gives as their region).
US_AND_TERRITORIES = frozenset({"US", "PR", "VI", "GU", "AS", "MP"})

Hours = tuple[time, time]  # [start, end) local wall-clock time; an end of 00:00 means 24:00


class RuleError(ValueError):
    """A rule that cannot be used, naming the rule and the field that is wrong."""

    def __init__(self, rule: str, field_name: str, message: str) -> None:
        super().__init__(f"calling-window rule {rule}: field {field_name!r}: {message}")
        self.rule = rule
        self.field = field_name


# --- hours -----------------------------------------------------------------------------------

_CLOCK = re.compile(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*")
_RANGE_SEPARATORS = re.compile(r"\s*(?:-|\u2013|\u2014|to)\s*")


def parse_hours(value: object) -> Hours:
    """(start, end) from "08:00-21:00", ("08:00", "21:00") or (time, time).

    "24:00" (or an end of 00:00) ends the window at midnight; start must be before end.
    Raises ValueError saying what is wrong.
    """
    if isinstance(value, str):
        parts = _RANGE_SEPARATORS.split(value.strip())
        if len(parts) != 2:
            raise ValueError(f"{value!r} is not a range of hours such as '08:00-21:00'")
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        parts = list(value)
    else:
        raise ValueError(f"{value!r} is not a range of hours such as '08:00-21:00'")
    start, end = (_clock_time(part) for part in parts)
    hours_seconds((start, end))  # checks the order
    return start, end


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"{value!r}: hours are local wall-clock times, without a zone")
        return value
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a time such as '08:00'")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if (hour, minute, second) == (24, 0, 0):
        return time(0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{value!r} is not a time of day")
    return time(hour, minute, second)


@functools.lru_cache(maxsize=1024)
def hours_seconds(hours: Hours) -> tuple[int, int]:
    """[start, end) as seconds of the local day; an end of 00:00 is 86400 (midnight)."""
    start, end = hours
    start_s = start.hour * 3600 + start.minute * 60 + start.second
    end_s = end.hour * 3600 + end.minute * 60 + end.second or SECONDS_PER_DAY
    if start.microsecond or end.microsecond:
        raise ValueError("hours are whole seconds")
    if start_s >= end_s:
        raise ValueError(f"the window {start:%H:%M}-{end:%H:%M} must start before it ends")
    return start_s, end_s


def format_seconds(seconds: int) -> str:
    """"08:00" for 28800; "24:00" for the end of the day; seconds only when not zero."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


@dataclass(frozen=True, slots=True)
class WindowRule:
    """One legal constraint on the time of a text, in the recipient's local time."""

    name: str  # unique in a table; a configured rule with the same name replaces this one
    countries: frozenset[str]  # ISO 3166 alpha-2 codes of the recipient's country
    states: frozenset[str] = frozenset()  # subdivisions (USPS codes in the US); empty: all
    hours: Hours | None = (time(8), time(21))  # allowed local hours; None: no hour limit
    # Weekday (0 = Monday) -> hours that replace `hours` on that day.
    hours_by_weekday: tuple[tuple[int, Hours], ...] = ()
    forbidden_weekdays: frozenset[int] = frozenset()  # 0 = Monday ... 6 = Sunday
    no_public_holidays: bool = False  # the country's public holidays (`holidays` package)
    max_per_24h: int | None = None  # texts per recipient in any rolling 24 hours
    note: str = ""  # where the rule comes from, for the people who read the table
    _seconds: tuple[tuple[int, int] | None, ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        # Allowed hours per weekday as seconds of the local day, computed once.
        by_day = dict(self.hours_by_weekday)
        try:
            seconds = tuple(
                hours_seconds(hours) if (hours := by_day.get(day, self.hours)) else None
                for day in range(7)
            )
        except ValueError as exc:
            raise RuleError(repr(self.name), "hours", str(exc)) from None
        object.__setattr__(self, "_seconds", seconds)

    def applies_to(self, country: str, state: str | None) -> bool:
        return country in self.countries and (not self.states or state in self.states)

    def seconds_on(self, weekday: int) -> tuple[int, int] | None:
        """Allowed [start, end) seconds of the local day on `weekday`, or None for no limit."""
        return self._seconds[weekday]


# The readable table. Keep one rule per law, named so a reason like "after 20:00 (Florida)"
# makes sense to an administrator.
DEFAULT_RULE_TABLE: tuple[WindowRule, ...] = (
    WindowRule(
        name="US federal",
        countries=US_AND_TERRITORIES,
        hours=(time(8), time(21)),
        note="TCPA: no solicitation before 8 am or after 9 pm at the called party's location",
    ),
    WindowRule(
        name="Florida",
        countries=frozenset({"US"}),
        states=frozenset({"FL"}),
        hours=(time(8), time(20)),
        max_per_24h=3,
        note="Florida Telephone Solicitation Act: 8 am-8 pm, 3 per 24 h on the same subject",
    ),
    WindowRule(
        name="Oklahoma",
        countries=frozenset({"US"}),
        states=frozenset({"OK"}),
        hours=(time(8), time(20)),
        max_per_24h=3,
        note="Oklahoma Telephone Solicitation Act: 8 am-8 pm, 3 per 24 h on the same subject",
    ),
    WindowRule(
        name="Maryland",
        countries=frozenset({"US"}),
        states=frozenset({"MD"}),
        hours=(time(8), time(20)),
        max_per_24h=3,
        note="Maryland Stop the Spam Calls Act: 8 am-8 pm, 3 per 24 h on the same subject",
    ),
    WindowRule(
        name="Connecticut",
        countries=frozenset({"US"}),
        states=frozenset({"CT"}),
        hours=(time(9), time(21)),
        # As the shared REFERENCE states it; Connecticut's 2023 amendment (Public Act 23-98) is
        # commonly read as 9 am-8 pm: have counsel confirm, and override here by configuration.
        note="Connecticut telemarketing law, as the shared REFERENCE states it: 9 am-9 pm",
    ),
    WindowRule(
        name="France",
        countries=frozenset({"FR"}),
        hours=(time(8), time(22)),
        forbidden_weekdays=frozenset({6}),
        no_public_holidays=True,
        note="No marketing texts 22:00-08:00, on Sundays or on public holidays",
    ),
)


class Rules:
    """A validated rules table. Immutable, hashed by identity: build it once and reuse it,
    since decisions are cached per table."""

    __slots__ = ("_policies", "rules")

    def __init__(self, rules: Iterable[WindowRule]) -> None:
        self.rules: tuple[WindowRule, ...] = tuple(rules)
        names = [rule.name for rule in self.rules]
        for name in names:
            if names.count(name) > 1:
                raise RuleError(repr(name), "name", "two rules have this name")
        self._policies: dict[tuple[str, str | None], Policy] = {}

    def __iter__(self) -> Iterator[WindowRule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __repr__(self) -> str:
        return f"Rules({[rule.name for rule in self.rules]!r})"

    def policy_for(self, country: str, state: str | None) -> Policy:
        """The rules that apply to a recipient in `country` (and `state`, a USPS code)."""
        key = (country, state)
        policy = self._policies.get(key)
        if policy is None:
            country_code = (country or "").strip().upper()
            state_code = state.strip().upper() if state else None
            applicable = tuple(r for r in self.rules if r.applies_to(country_code, state_code))
            policy = self._policies[key] = Policy(country_code, applicable)
        return policy


class Policy:
    """The rules that apply to one (country, state): hashed by identity, for caches."""

    __slots__ = ("country", "rules")

    def __init__(self, country: str, rules: tuple[WindowRule, ...]) -> None:
        self.country = country
        self.rules = rules


DEFAULT_RULES = Rules(DEFAULT_RULE_TABLE)


# --- configuration --------------------------------------------------------------------------

_RULE_FIELDS = frozenset({
    "name", "country", "countries", "states", "hours", "hours_by_weekday",
    "forbidden_weekdays", "no_public_holidays", "max_per_24h", "note", "enabled",
})


def load_rules(extra: list[dict] | None = None, base: Iterable[WindowRule] = DEFAULT_RULE_TABLE
               ) -> Rules:
    """The default table with the configured rules merged in (see the module docstring).

    Raises RuleError naming the rule (its position in `extra` and its name) and the field.
    """
    merged = {rule.name: rule for rule in base}
    for position, raw in enumerate(extra or [], start=1):
        label = f"#{position}"
        if not isinstance(raw, Mapping):
            raise RuleError(label, "*", f"must be a mapping of fields, not {type(raw).__name__}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RuleError(label, "name", "every rule needs a name")
        name = name.strip()
        label = f"#{position} ({name!r})"
        unknown = sorted(set(raw) - _RULE_FIELDS)
        if unknown:
            raise RuleError(label, unknown[0], f"unknown field; known: {sorted(_RULE_FIELDS)}")
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise RuleError(label, "enabled", "must be true or false")
        if not enabled:
            if name not in merged:
                raise RuleError(label, "enabled", "disables a rule that is not in the table")
            del merged[name]
            continue
        merged[name] = _rule_from_config(name, raw, label)
    return Rules(merged.values())


def _rule_from_config(name: str, raw: Mapping, label: str) -> WindowRule:
    if ("country" in raw) == ("countries" in raw):
        raise RuleError(label, "country", "give exactly one of 'country' or 'countries'")
    countries_raw = [raw["country"]] if "country" in raw else raw["countries"]
    countries = frozenset(_codes(countries_raw, label, "countries" if "countries" in raw
                                 else "country", "an ISO 3166 alpha-2 code such as 'US'"))
    if not countries:
        raise RuleError(label, "countries", "name at least one country")
    states = frozenset(_codes(raw.get("states") or [], label, "states",
                              "a subdivision code such as 'TX'"))
    hours = None if raw.get("hours", "08:00-21:00") is None else _hours_field(
        raw.get("hours", "08:00-21:00"), label, "hours")
    by_day_raw = raw.get("hours_by_weekday") or {}
    if not isinstance(by_day_raw, Mapping):
        raise RuleError(label, "hours_by_weekday", "must map weekday names to hours")
    by_day = tuple(sorted(
        (weekday_number(day, label, "hours_by_weekday"),
         _hours_field(value, label, f"hours_by_weekday.{day}"))
        for day, value in by_day_raw.items()
    ))
    forbidden_raw = raw.get("forbidden_weekdays") or []
    if isinstance(forbidden_raw, str) or not isinstance(forbidden_raw, Iterable):
        raise RuleError(label, "forbidden_weekdays", "must be a list of weekday names")
    forbidden = frozenset(weekday_number(d, label, "forbidden_weekdays") for d in forbidden_raw)
    holidays_flag = raw.get("no_public_holidays", False)
    if not isinstance(holidays_flag, bool):
        raise RuleError(label, "no_public_holidays", "must be true or false")
    if holidays_flag:
        for country in sorted(countries):
            try:
                _holidays_of(country, 2000)  # any year: an unknown country fails for all
            except ValueError as exc:
                raise RuleError(label, "no_public_holidays", str(exc)) from None
    cap = raw.get("max_per_24h")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        raise RuleError(label, "max_per_24h", f"must be a whole number of 1 or more, not {cap!r}")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise RuleError(label, "note", "must be text")
    return WindowRule(name, countries, states, hours, by_day, forbidden, holidays_flag, cap, note)


_CODE = re.compile(r"[A-Z0-9]{1,3}")


def _codes(values: object, label: str, field_name: str, what: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise RuleError(label, field_name, f"must be a list of codes, each {what}")
    codes = []
    for value in values:
        code = value.strip().upper() if isinstance(value, str) else ""
        if not _CODE.fullmatch(code):
            raise RuleError(label, field_name, f"{value!r} is not {what}")
        codes.append(code)
    return codes


def _hours_field(value: object, label: str, field_name: str) -> Hours:
    try:
        return parse_hours(value)
    except ValueError as exc:
        raise RuleError(label, field_name, str(exc)) from None


def weekday_number(name: object, label: str = "", field_name: str = "") -> int:
    """0 for "monday" (or "Mon") ... 6 for "sunday"; RuleError if not a weekday name."""
    text = name.strip().casefold() if isinstance(name, str) else ""
    for number, full in enumerate(WEEKDAY_NAMES):
        if len(text) >= 3 and full.startswith(text):
            return number
    raise RuleError(label, field_name, f"{name!r} is not a weekday name such as 'sunday'")


# --- public holidays ---------------------------------------------------------------------------


def public_holiday(country: str, day: date) -> str | None:
    """The name of the public holiday on `day` in `country`, or None.

    Uses the `holidays` package (offline), imported on first use so that tables without a
    holiday rule never load it. A country it does not know is an error, not "no holidays".
    """
    return _holidays_of(country, day.year).get(day)


@functools.lru_cache(maxsize=256)
def _holidays_of(country: str, year: int) -> dict[date, str]:
    try:
        import holidays
    except ImportError as exc:  # pragma: no cover - holidays is a declared dependency
        raise RuntimeError(
            "a calling-window rule forbids public holidays but the 'holidays' package "
            "is not installed"
        ) from exc
    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError as exc:
        raise ValueError(f"no public-holiday calendar for country {country!r}") from exc
    return dict(calendar.items())
