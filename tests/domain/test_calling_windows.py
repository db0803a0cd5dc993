"""Calling windows: exactly the allowed instants are allowed, in every zone, across DST.

Every check compares `decide` with an oracle written here from scratch: convert the UTC instant
to each recipient's local time and test the hours directly. Times are injected; nothing sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proactive_sms.domain import calling_windows
from proactive_sms.domain.calling_windows import (
    DEFAULT_RULES,
    HORIZON_DAYS,
    SkillWindow,
    WindowDecision,
    decide,
    frequency_cap_for,
    load_rules,
)
from proactive_sms.domain.time_zones import resolve_zones, us_state_for
from proactive_sms.domain.window_rules import RuleError, parse_hours

DEFAULT = SkillWindow()
SECOND = timedelta(seconds=1)
QUARTER = timedelta(minutes=15)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# The law as this test reads REFERENCE.md, independently of the code's table: local hours
# [start, end) by US state; France: 08-22, never on Sundays or public holidays.
US_HOURS = {"FL": (time(8), time(20)), "OK": (time(8), time(20)), "MD": (time(8), time(20)),
            "CT": (time(9), time(21))}
US_FEDERAL = (time(8), time(21))
FRANCE = (time(8), time(22))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def inside(moment: time, hours: tuple[time, time]) -> bool:
    start, end = hours
    return start <= moment and (end == time(0) or moment < end)


def oracle(
    t: datetime, zones: tuple[str, ...], state: str | None, skill: SkillWindow = DEFAULT,
    country: str = "US",
) -> bool:
    """Allowed at `t`? Each zone's local wall clock against the skill and the law."""
    if not zones:
        return False
    for zone in zones:
        local = t.astimezone(ZoneInfo(zone))
        day, wall = local.date(), local.time().replace(tzinfo=None)
        if WEEKDAYS[day.weekday()] in skill.forbidden_days or day in skill.forbidden_days:
            return False
        if not inside(wall, skill.weekend if day.weekday() >= 5 else skill.weekday):
            return False
        if country == "US":
            if not inside(wall, US_FEDERAL) or not inside(wall, US_HOURS.get(state, US_FEDERAL)):
                return False
        elif country == "FR":
            if day.weekday() == 6 or day in holidays.country_holidays("FR", years=day.year):
                return False
            if not inside(wall, FRANCE):
                return False
    return True


def quarter_hours(start: datetime, end: datetime) -> list[datetime]:
    """UTC instants on the quarter hour in (start, end)."""
    first = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
    moments, moment = [], first + QUARTER
    while moment < end:
        moments.append(moment)
        moment += QUARTER
    return moments


def assert_decision_is_exact(
    now: datetime, decision: WindowDecision, zones: tuple[str, ...], state: str | None,
    skill: SkillWindow = DEFAULT, country: str = "US",
) -> None:
    """allowed_now, next_open and closes_at against the oracle. Windows here start and end on
    quarter hours in zones whose offsets are whole quarter hours, so the answer can change only
    on UTC quarter hours: checking those is checking every instant."""
    allowed = lambda t: oracle(t, zones, state, skill, country)  # noqa: E731
    assert decision.allowed_now == allowed(now), decision
    horizon = now + timedelta(days=HORIZON_DAYS)
    if decision.allowed_now:
        assert decision.next_open is None
        end = decision.closes_at or horizon
        assert all(allowed(t) for t in quarter_hours(now, end)), decision
        if decision.closes_at is not None:
            assert decision.closes_at.tzinfo is UTC
            assert allowed(decision.closes_at - SECOND)
            assert not allowed(decision.closes_at), decision
    else:
        assert decision.closes_at is None
        end = decision.next_open or horizon
        assert not any(allowed(t) for t in quarter_hours(now, end)), decision
        if decision.next_open is not None:
            assert decision.next_open.tzinfo is UTC
            assert now < decision.next_open <= horizon
            assert allowed(decision.next_open), decision
            assert not allowed(decision.next_open - SECOND), decision


# --- the "must show" list: every US zone, Florida, a disagreeing field, no zone -------------------


@dataclass(frozen=True)
class Recipient:
    name: str
    time_zone: str | None
    postal_code: str | None
    e164: str | None
    zones: tuple[str, ...]  # what resolution must find, so that the oracle is not vacuous
    state: str | None


RECIPIENTS = [
    Recipient("eastern", None, None, "+12125550123", ("America/New_York",), "NY"),
    Recipient("central", None, None, "+13125550123", ("America/Chicago",), "IL"),
    Recipient("mountain", None, None, "+13035550123", ("America/Denver",), "CO"),
    Recipient("arizona", None, None, "+16025550123", ("America/Phoenix",), "AZ"),
    Recipient("pacific", None, None, "+12135550123", ("America/Los_Angeles",), "CA"),
    Recipient("alaska", None, None, "+19075550123", ("America/Adak", "America/Anchorage"), "AK"),
    Recipient("alaska by zip", None, "99501", "+19075550123", ("America/Anchorage",), "AK"),
    Recipient("hawaii", None, None, "+18085550123", ("Pacific/Honolulu",), "HI"),
    Recipient("florida", None, None, "+13055550123", ("America/New_York",), "FL"),
    Recipient("florida panhandle", None, "32501", "+13055550123", ("America/Chicago",), "FL"),
    Recipient("connecticut", None, None, "+12035550123", ("America/New_York",), "CT"),
    Recipient("field disagrees", "Pacific", None, "+12125550123", ("America/Los_Angeles",), "NY"),
    Recipient("no zone", None, None, "+12685550123", (), None),
]

SIMULATED_DAYS = [
    date(2026, 1, 5),  # a winter Monday
    date(2026, 3, 8),  # US clocks spring forward (a Sunday)
    date(2026, 7, 1),  # a summer Wednesday
    date(2026, 11, 1),  # US clocks fall back (a Sunday)
]


@pytest.mark.parametrize("recipient", RECIPIENTS, ids=lambda r: r.name)
def test_recipient_resolves_to_the_expected_zones_and_state(recipient: Recipient) -> None:
    found = resolve_zones(recipient.time_zone, recipient.postal_code, recipient.e164)
    assert found.zones == recipient.zones
    assert us_state_for(recipient.postal_code, recipient.e164) == recipient.state


@pytest.mark.parametrize("day", SIMULATED_DAYS, ids=str)
def test_every_quarter_hour_of_a_simulated_day_allows_exactly_the_allowed(day: date) -> None:
    start = datetime.combine(day, time(0), UTC)
    for step in range(0, 28 * 4):  # 28 hours: every zone's whole local day
        now = start + step * QUARTER
        for recipient in RECIPIENTS:
            zones = resolve_zones(recipient.time_zone, recipient.postal_code, recipient.e164).zones
            state = us_state_for(recipient.postal_code, recipient.e164)
            decision = decide(now, zones, state, DEFAULT)
            assert decision.allowed_now == oracle(now, zones, state), (recipient.name, now)


def allowed_names(now: datetime) -> set[str]:
    names = set()
    for r in RECIPIENTS:
        zones = resolve_zones(r.time_zone, r.postal_code, r.e164).zones
        if decide(now, zones, us_state_for(r.postal_code, r.e164), DEFAULT).allowed_now:
            names.add(r.name)
    return names


def test_who_may_be_texted_at_chosen_instants_of_a_summer_day() -> None:
    everyone_but_the_far_west = {
        "eastern", "central", "mountain", "arizona", "pacific", "florida", "florida panhandle",
        "connecticut", "field disagrees",
    }
    # 15:00 UTC: 11:00 EDT, 10:00 CDT, 09:00 MDT, 08:00 Arizona and PDT, 07:00 AKDT, 05:00 HST.
    assert allowed_names(utc(2026, 7, 1, 15, 0)) == everyone_but_the_far_west
    # 12:30 UTC: 08:30 EDT; Connecticut waits for 09:00.
    assert allowed_names(utc(2026, 7, 1, 12, 30)) == {"eastern", "florida"}
    # 00:30 UTC: 20:30 EDT (Florida stops at 20:00; the panhandle is at 19:30 CDT), 17:30 PDT,
    # 16:30 AKDT, 15:30 HDT on Adak, 14:30 HST.
    assert allowed_names(utc(2026, 7, 2, 0, 30)) == {
        "eastern", "central", "mountain", "arizona", "pacific", "alaska", "alaska by zip",
        "hawaii", "florida panhandle", "connecticut", "field disagrees",
    }
    # 08:30 UTC: 04:30 EDT ... 22:30 HST the evening before: nobody.
    assert allowed_names(utc(2026, 7, 1, 8, 30)) == set()


def test_a_recipient_without_a_zone_is_never_allowed() -> None:
    decision = decide(utc(2026, 7, 1, 16, 0), (), "NY", DEFAULT)
    assert decision == WindowDecision(False, None, None, "no time zone is known for the recipient")


# --- daylight saving time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "opens", "closes"),
    [
        # New York: 08:00 EDT = 12:00 UTC on the spring-forward day, 08:00 EST = 13:00 UTC
        # on the fall-back day; 21:00 local closes at 01:00 / 02:00 UTC the next day.
        ("America/New_York", date(2026, 3, 7), utc(2026, 3, 7, 13), utc(2026, 3, 8, 2)),
        ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 12), utc(2026, 3, 9, 1)),
        ("America/New_York", date(2026, 10, 31), utc(2026, 10, 31, 12), utc(2026, 11, 1, 1)),
        ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 13), utc(2026, 11, 2, 2)),
        ("America/Chicago", date(2026, 3, 8), utc(2026, 3, 8, 13), utc(2026, 3, 9, 2)),
        ("America/Denver", date(2026, 11, 1), utc(2026, 11, 1, 15), utc(2026, 11, 2, 4)),
        ("America/Los_Angeles", date(2026, 3, 8), utc(2026, 3, 8, 15), utc(2026, 3, 9, 4)),
        # Arizona keeps MST (UTC-7) all year: the same UTC hours on both days.
        ("America/Phoenix", date(2026, 3, 8), utc(2026, 3, 8, 15), utc(2026, 3, 9, 4)),
        ("America/Phoenix", date(2026, 11, 1), utc(2026, 11, 1, 15), utc(2026, 11, 2, 4)),
        # Hawaii keeps HST (UTC-10) all year.
        ("Pacific/Honolulu", date(2026, 3, 8), utc(2026, 3, 8, 18), utc(2026, 3, 9, 7)),
        ("Pacific/Honolulu", date(2026, 11, 1), utc(2026, 11, 1, 18), utc(2026, 11, 2, 7)),
        # Alaska changes with the rest of the US: AKDT UTC-8, AKST UTC-9.
        ("America/Anchorage", date(2026, 3, 8), utc(2026, 3, 8, 16), utc(2026, 3, 9, 5)),
        ("America/Anchorage", date(2026, 11, 1), utc(2026, 11, 1, 17), utc(2026, 11, 2, 6)),
        ("America/Adak", date(2026, 3, 8), utc(2026, 3, 8, 17), utc(2026, 3, 9, 6)),
    ],
)
def test_window_follows_local_wall_clock_on_transition_days(
    zone: str, day: date, opens: datetime, closes: datetime
) -> None:
    midnight = datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)
    before = decide(midnight, (zone,), None, DEFAULT)
    assert (before.allowed_now, before.next_open) == (False, opens)
    assert decide(opens - SECOND, (zone,), None, DEFAULT).allowed_now is False
    at_open = decide(opens, (zone,), None, DEFAULT)
    assert (at_open.allowed_now, at_open.closes_at) == (True, closes)
    assert decide(closes - SECOND, (zone,), None, DEFAULT).closes_at == closes
    assert decide(closes, (zone,), None, DEFAULT).allowed_now is False


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1)], ids=str)
@pytest.mark.parametrize("state", [None, "FL", "CT"])
def test_transition_days_every_minute_in_new_york(day: date, state: str | None) -> None:
    zones = ("America/New_York",)
    start = datetime.combine(day, time(0), UTC)
    for minute in range(0, 30 * 60, 1):
        now = start + timedelta(minutes=minute)
        assert decide(now, zones, state, DEFAULT).allowed_now == oracle(now, zones, state), now


def test_the_repeated_hour_of_fall_back_is_outside_the_window() -> None:
    # 05:00-07:00 UTC on 2026-11-01 is 01:00-02:00 in New York twice (EDT, then EST).
    for minute in range(0, 120, 5):
        now = utc(2026, 11, 1, 5) + timedelta(minutes=minute)
        decision = decide(now, ("America/New_York",), None, DEFAULT)
        assert (decision.allowed_now, decision.next_open) == (False, utc(2026, 11, 1, 13))


SUNDAY_ONLY = dict(weekday=(time(0), time(0)))  # weekdays all day; test windows on Sundays


@pytest.mark.parametrize(
    ("day", "weekend", "opens", "closes"),
    [
        # Spring forward at 02:00 EST -> 03:00 EDT (07:00 UTC). 02:30 never happens: the window
        # opens at the change; 03:30 EDT is 07:30 UTC.
        (date(2026, 3, 8), (time(2, 30), time(3, 30)), utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 30)),
        # A window that ends in the gap closes at the change.
        (date(2026, 3, 8), (time(1), time(2, 30)), utc(2026, 3, 8, 6), utc(2026, 3, 8, 7)),
        # Fall back at 02:00 EDT -> 01:00 EST (06:00 UTC). 01:30 happens twice: a window opens
        # at the second (01:30 EST = 06:30 UTC), so no instant of it is before 01:30 local ...
        (date(2026, 11, 1), (time(1, 30), time(3)), utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 8)),
        # ... and closes at the first (01:30 EDT = 05:30 UTC), so none is after 01:30 local.
        (date(2026, 11, 1), (time(0), time(1, 30)), utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30)),
    ],
)
def test_window_bounds_inside_a_clock_change_are_read_strictly(
    day: date, weekend: tuple[time, time], opens: datetime, closes: datetime
) -> None:
    skill = SkillWindow(weekday=(time(0), time(0)), weekend=weekend)
    zones = ("America/New_York",)
    early = datetime.combine(day, time(0), UTC)
    assert decide(early, zones, None, skill, country="XX").next_open == opens
    assert decide(opens, zones, None, skill, country="XX").closes_at == closes
    # Every allowed minute of the day has a local wall time inside the window.
    for minute in range(24 * 60):
        now = early + timedelta(minutes=minute)
        if decide(now, zones, None, skill, country="XX").allowed_now:
            assert inside(now.astimezone(ZoneInfo(zones[0])).time(), weekend), now


# --- several candidate zones ------------------------------------------------------------------


def test_several_zones_open_only_when_all_are_open() -> None:
    zones = ("America/Adak", "America/Anchorage")  # area code 907
    # 16:30 UTC: 08:30 AKDT in Anchorage, 07:30 HDT on Adak.
    decision = decide(utc(2026, 7, 1, 16, 30), zones, "AK", DEFAULT)
    assert (decision.allowed_now, decision.next_open) == (False, utc(2026, 7, 1, 17))
    assert "America/Adak" in decision.reason
    # 04:30 UTC: 20:30 AKDT, 19:30 HDT; Anchorage closes first, at 05:00 UTC.
    decision = decide(utc(2026, 7, 2, 4, 30), zones, "AK", DEFAULT)
    assert (decision.allowed_now, decision.closes_at) == (True, utc(2026, 7, 2, 5))
    assert "America/Anchorage" in decision.reason


def test_zones_whose_windows_never_overlap_never_open() -> None:
    short = SkillWindow(weekday=(time(9), time(12)), weekend=(time(9), time(12)))
    zones = ("Europe/London", "Pacific/Auckland")  # 12-13 hours apart
    decision = decide(utc(2026, 1, 5, 10), zones, None, short, country="GB")
    assert decision.allowed_now is False
    assert decision.next_open is None
    assert decision.reason == (
        "the windows of Europe/London, Pacific/Auckland do not overlap in the next 14 days"
    )


def test_a_toll_free_number_waits_for_every_nanp_zone() -> None:
    zones = resolve_zones(None, None, "+18005550199").zones
    # In July the zones run from Pago Pago (UTC-11) round to Guam (UTC+10, i.e. UTC-14 the
    # day before) and St. John's (UTC-2:30): 11.5 hours apart, so the 13-hour windows share
    # 1.5 hours, from 08:00 in Guam to 21:00 in St. John's.
    decision = decide(utc(2026, 7, 1, 12), zones, None, DEFAULT)
    assert (decision.allowed_now, decision.next_open) == (False, utc(2026, 7, 1, 22))
    assert "Pacific/Guam" in decision.reason
    assert_decision_is_exact(utc(2026, 7, 1, 12), decision, zones, None)
    decision = decide(utc(2026, 7, 1, 22), zones, None, DEFAULT)
    assert (decision.allowed_now, decision.closes_at) == (True, utc(2026, 7, 1, 23, 30))
    assert "America/St_Johns" in decision.reason


def test_duplicate_zones_count_once() -> None:
    now = utc(2026, 7, 1, 15)
    assert decide(now, ("America/Chicago", "America/Chicago"), None, DEFAULT).allowed_now


# --- state and country rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "local", "allowed"),
    [
        (None, time(7, 59), False), (None, time(8), True), (None, time(20, 59), True),
        (None, time(21), False),
        ("NY", time(20, 30), True),
        ("FL", time(8), True), ("FL", time(19, 59), True), ("FL", time(20), False),
        ("OK", time(20, 15), False), ("MD", time(20, 15), False),
        ("CT", time(8, 30), False), ("CT", time(9), True), ("CT", time(20, 59), True),
        ("CT", time(21), False),
        ("fl", time(20, 15), False),  # state codes in any case
    ],
)
def test_stricter_states(state: str | None, local: time, allowed: bool) -> None:
    zone = ZoneInfo("America/New_York")
    now = datetime.combine(date(2026, 7, 1), local, zone).astimezone(UTC)
    assert decide(now, ("America/New_York",), state, DEFAULT).allowed_now is allowed


def test_reasons_name_the_zone_and_the_rule() -> None:
    zones = ("America/New_York",)
    closed = decide(utc(2026, 7, 1, 0, 30), zones, "FL", DEFAULT)  # 20:30 EDT
    assert closed.reason == (
        "closed until Wed 2026-07-01 08:00 EDT in America/New_York,"
        " window 08:00-20:00 (US federal, Florida)"
    )
    open_ = decide(utc(2026, 7, 1, 14), zones, "FL", DEFAULT)
    assert open_.reason == "inside 08:00-20:00 (US federal, Florida) in America/New_York"
    connecticut = decide(utc(2026, 7, 1, 14), zones, "CT", DEFAULT)
    assert connecticut.reason == "inside 09:00-21:00 (Connecticut, US federal) in America/New_York"
    skill = SkillWindow(weekday=(time(10), time(16)))
    assert decide(utc(2026, 7, 1, 14), zones, None, skill).reason == (
        "inside 10:00-16:00 (the skill) in America/New_York"
    )


@pytest.mark.parametrize(
    ("local", "allowed"),
    [
        (datetime(2026, 7, 15, 7, 59), False),
        (datetime(2026, 7, 15, 8, 0), True),  # a Wednesday
        (datetime(2026, 7, 15, 21, 59), True),
        (datetime(2026, 7, 15, 22, 0), False),
        (datetime(2026, 7, 19, 12, 0), False),  # a Sunday
        (datetime(2026, 7, 14, 12, 0), False),  # National Day, a Tuesday
        (datetime(2026, 4, 6, 12, 0), False),  # Easter Monday
        (datetime(2026, 4, 7, 12, 0), True),
    ],
)
def test_france_no_marketing_at_night_on_sundays_or_public_holidays(
    local: datetime, allowed: bool
) -> None:
    late = SkillWindow(weekday=(time(7), time(23)), weekend=(time(7), time(23)))
    now = local.replace(tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)
    assert decide(now, ("Europe/Paris",), None, late, country="FR").allowed_now is allowed


def test_france_saturday_night_waits_past_sunday_and_easter_monday() -> None:
    # Saturday 2026-04-04 22:30 CEST: Sunday is off, Monday is Easter Monday.
    decision = decide(utc(2026, 4, 4, 20, 30), ("Europe/Paris",), None, DEFAULT, country="FR")
    assert decision.next_open == utc(2026, 4, 7, 6)  # Tuesday 08:00 CEST
    assert decision.reason.startswith("closed until Tue 2026-04-07 08:00 CEST in Europe/Paris")


def test_us_rules_do_not_apply_elsewhere_and_territories_follow_federal_law() -> None:
    night_owl = SkillWindow(weekday=(time(0), time(0)), weekend=(time(0), time(0)))
    at_2230 = utc(2026, 7, 2, 2, 30)  # 22:30 EDT
    assert decide(at_2230, ("America/New_York",), None, night_owl, country="CA").allowed_now
    assert not decide(at_2230, ("America/New_York",), None, night_owl).allowed_now
    at_2230_pr = utc(2026, 7, 2, 2, 30)  # 22:30 AST in Puerto Rico
    puerto_rico = ("America/Puerto_Rico",)
    assert not decide(at_2230_pr, puerto_rico, "PR", night_owl, country="PR").allowed_now


def test_a_window_open_all_week_never_closes_within_the_horizon() -> None:
    always = SkillWindow(weekday=(time(0), time(0)), weekend=(time(0), time(0)))
    decision = decide(utc(2026, 7, 1), ("Asia/Tokyo",), None, always, country="JP")
    assert decision == WindowDecision(True, None, None, decision.reason)


def test_closing_at_midnight_runs_into_a_next_day_that_opens_at_midnight() -> None:
    skill = SkillWindow(weekday=(time(0), time(0)), weekend=(time(10), time(0)))
    # Friday 2026-07-03 12:00 in Tokyo: open all Friday, Saturday from 10:00.
    decision = decide(utc(2026, 7, 3, 3), ("Asia/Tokyo",), None, skill, country="JP")
    assert decision.closes_at == utc(2026, 7, 3, 15)  # Friday 24:00 JST
    # Sunday evening: Sunday runs to 24:00 and Monday opens at 00:00: open until Friday 24:00.
    decision = decide(utc(2026, 7, 5, 12), ("Asia/Tokyo",), None, skill, country="JP")
    assert decision.closes_at == utc(2026, 7, 10, 15)


# --- the skill's window --------------------------------------------------------------------------


def test_skill_hours_differ_on_weekends() -> None:
    skill = SkillWindow(weekday=(time(9), time(17)), weekend=(time(10), time(14)))
    zone = ("America/Chicago",)
    saturday_0930 = utc(2026, 7, 4, 14, 30)
    monday_0930 = utc(2026, 7, 6, 14, 30)
    assert not decide(saturday_0930, zone, None, skill).allowed_now
    assert decide(saturday_0930, zone, None, skill).next_open == utc(2026, 7, 4, 15)
    assert decide(monday_0930, zone, None, skill).allowed_now
    assert decide(monday_0930, zone, None, skill).closes_at == utc(2026, 7, 6, 22)


def test_the_law_wins_over_looser_skill_hours() -> None:
    loose = SkillWindow(weekday=(time(6), time(23)), weekend=(time(6), time(23)))
    zone = ("America/New_York",)
    assert not decide(utc(2026, 7, 1, 11), zone, None, loose).allowed_now  # 07:00 EDT
    assert decide(utc(2026, 7, 1, 12), zone, "FL", loose).closes_at == utc(2026, 7, 2, 0)


def test_forbidden_weekdays_and_dates_are_local_days() -> None:
    skill = SkillWindow(forbidden_days=frozenset({"Sunday", "sat", date(2026, 12, 25)}))
    assert skill.forbidden_days == frozenset({"sunday", "saturday", date(2026, 12, 25)})
    zone = ("Pacific/Honolulu",)
    # Friday 2026-07-03 20:00 HST is already Saturday in UTC: still Friday where it counts.
    assert decide(utc(2026, 7, 4, 6), zone, None, skill).allowed_now
    decision = decide(utc(2026, 7, 4, 19), zone, None, skill)  # Saturday 09:00 HST
    assert decision.next_open == utc(2026, 7, 6, 18)  # Monday 08:00 HST
    christmas = decide(utc(2026, 12, 25, 20), zone, None, skill)  # Friday 10:00 HST
    assert christmas.next_open == utc(2026, 12, 28, 18)  # Monday


def test_a_skill_that_forbids_every_day_never_opens() -> None:
    skill = SkillWindow(forbidden_days=frozenset(WEEKDAYS))
    decision = decide(utc(2026, 7, 1), ("America/New_York",), None, skill)
    assert (decision.allowed_now, decision.next_open) == (False, None)
    assert decision.reason.startswith(
        "America/New_York has no window in the next 14 days: the skill forbids Tuesdays; "
        "the skill forbids Wednesdays; "
    )


def test_skill_window_from_config() -> None:
    skill = SkillWindow.from_config(
        {"weekday": "09:00-17:30", "weekend": ["10:00", "24:00"],
         "forbidden_days": ["sunday", "2026-12-25"]}
    )
    assert skill == SkillWindow(
        weekday=(time(9), time(17, 30)), weekend=(time(10), time(0)),
        forbidden_days=frozenset({"sunday", date(2026, 12, 25)}),
    )
    assert SkillWindow.from_config(None) == DEFAULT
    assert hash(SkillWindow.from_config({})) == hash(DEFAULT)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"weekday": "21:00-08:00"}, "'weekday': the window 21:00-08:00 must start before it ends"),
        ({"weekend": "8-21"}, "'weekend': '8' is not a time such as '08:00'"),
        ({"weekday": "25:00-26:00"}, "'weekday': '25:00' is not a time of day"),
        ({"forbidden_days": ["someday"]}, "forbidden day 'someday' is neither"),
        ({"forbidden_days": "sunday"}, "'forbidden_days' must be a list"),
        ({"hours": "08:00-21:00"}, "unknown setting 'hours'"),
    ],
)
def test_skill_window_errors_name_the_setting(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match="skill window") as error:
        SkillWindow.from_config(config)
    assert message in str(error.value)


# --- decide's inputs ---------------------------------------------------------------------------


def test_now_must_be_timezone_aware_and_any_aware_zone_is_read_as_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(datetime(2026, 7, 1, 15), ("America/New_York",), None, DEFAULT)
    in_paris = datetime(2026, 7, 1, 17, tzinfo=ZoneInfo("Europe/Paris"))  # 15:00 UTC
    decision = decide(in_paris, ("America/New_York",), None, DEFAULT)
    assert decision.closes_at == utc(2026, 7, 2, 1)
    assert decision.closes_at.tzinfo is UTC


def test_unknown_zone_is_an_error_not_a_silent_allow() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Etc/Unknown'"):
        decide(utc(2026, 7, 1, 15), ("America/New_York", "Etc/Unknown"), None, DEFAULT)


def test_cached_decisions_match_fresh_ones_in_any_order_of_time() -> None:
    zones, policy = ("America/Adak", "America/Anchorage"), DEFAULT_RULES.policy_for("US", "AK")
    moments = [utc(2026, 3, 7) + k * timedelta(minutes=7) for k in range(3 * 24 * 60 // 7)]
    for now in moments + moments[::-1] + moments[::3]:
        fresh = calling_windows._decide(now, zones, DEFAULT, policy)[0]
        assert decide(now, zones, "AK", DEFAULT) == fresh, now


# --- rules table: frequency caps and configuration ---------------------------------------------


def test_default_table_reads_as_the_reference() -> None:
    table = {rule.name: rule for rule in DEFAULT_RULES}
    assert list(table) == ["US federal", "Florida", "Oklahoma", "Maryland", "Connecticut",
                           "France"]
    assert table["US federal"].hours == (time(8), time(21))
    assert {s: table[s].hours for s in ("Florida", "Oklahoma", "Maryland", "Connecticut")} == {
        "Florida": (time(8), time(20)), "Oklahoma": (time(8), time(20)),
        "Maryland": (time(8), time(20)), "Connecticut": (time(9), time(21)),
    }
    assert table["France"].forbidden_weekdays == frozenset({6})
    assert table["France"].no_public_holidays


@pytest.mark.parametrize(
    ("state", "default", "cap"),
    [("FL", None, 3), ("OK", None, 3), ("MD", None, 3), ("md", None, 3), ("NY", None, None),
     (None, None, None), ("NY", 5, 5), ("FL", 5, 3), ("FL", 2, 2), ("CT", None, None)],
)
def test_frequency_cap_is_the_strictest_that_applies(
    state: str | None, default: int | None, cap: int | None
) -> None:
    assert frequency_cap_for(state, DEFAULT_RULES, default) == cap


def test_frequency_cap_of_a_configured_rule_and_of_other_countries() -> None:
    rules = load_rules([{"name": "Texas", "country": "US", "states": ["TX"], "max_per_24h": 2}])
    assert frequency_cap_for("TX", rules) == 2
    assert frequency_cap_for("FL", rules, country="FR") is None


def test_load_rules_adds_replaces_and_disables_by_name() -> None:
    rules = load_rules([
        {"name": "Texas", "country": "US", "states": ["tx"], "hours": "09:00-21:00",
         "hours_by_weekday": {"sunday": "12:00-21:00"}, "note": "Texas Bus. & Com. Code 304"},
        {"name": "Connecticut", "country": "US", "states": ["CT"], "hours": "09:00-20:00"},
        {"name": "France", "enabled": False},
    ])
    assert [rule.name for rule in rules] == [
        "US federal", "Florida", "Oklahoma", "Maryland", "Connecticut", "Texas",
    ]
    texas = ("America/Chicago",)
    sunday_1130 = utc(2026, 7, 5, 16, 30)
    assert not decide(sunday_1130, texas, "TX", DEFAULT, rules).allowed_now
    assert decide(sunday_1130, texas, "TX", DEFAULT, rules).next_open == utc(2026, 7, 5, 17)
    assert decide(utc(2026, 7, 6, 14, 30), texas, "TX", DEFAULT, rules).allowed_now  # Mon 9:30
    ct_2030 = utc(2026, 7, 2, 0, 30)
    assert not decide(ct_2030, ("America/New_York",), "CT", DEFAULT, rules).allowed_now
    assert decide(ct_2030, ("America/New_York",), "CT", DEFAULT).allowed_now  # the default
    sunday_paris = utc(2026, 7, 19, 10)
    assert decide(sunday_paris, ("Europe/Paris",), None, DEFAULT, rules, "FR").allowed_now
    assert load_rules(None).rules == DEFAULT_RULES.rules


def test_a_country_rule_without_hours_forbids_only_days() -> None:
    rules = load_rules([{"name": "Quiet Sundays", "countries": ["DE", "AT"], "hours": None,
                         "forbidden_weekdays": ["sunday"]}])
    always = SkillWindow(weekday=(time(0), time(0)), weekend=(time(0), time(0)))
    berlin = ("Europe/Berlin",)
    assert decide(utc(2026, 7, 4, 22, 30), berlin, None, always, rules, "DE").allowed_now is False
    assert decide(utc(2026, 7, 6, 1), berlin, None, always, rules, "DE").allowed_now


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([{"country": "US"}], "rule #1: field 'name': every rule needs a name"),
        (["Texas"], "rule #1: field '*': must be a mapping"),
        ([{"name": "Texas", "country": "US", "hourz": "09:00-21:00"}],
         "rule #1 ('Texas'): field 'hourz': unknown field"),
        ([{"name": "Texas", "states": ["TX"]}],
         "rule #1 ('Texas'): field 'country': give exactly one of"),
        ([{"name": "Texas", "country": "United States"}],
         "rule #1 ('Texas'): field 'country': 'United States' is not an ISO 3166"),
        ([{"name": "Texas", "countries": "US"}],
         "rule #1 ('Texas'): field 'countries': must be a list"),
        ([{"name": "A", "country": "US"}, {"name": "Texas", "country": "US", "hours": "9-21"}],
         "rule #2 ('Texas'): field 'hours': '9' is not a time"),
        ([{"name": "Texas", "country": "US", "hours": "21:00-09:00"}],
         "rule #1 ('Texas'): field 'hours': the window 21:00-09:00 must start before it ends"),
        ([{"name": "Texas", "country": "US", "hours_by_weekday": {"sundae": "12:00-21:00"}}],
         "field 'hours_by_weekday': 'sundae' is not a weekday name"),
        ([{"name": "Texas", "country": "US", "forbidden_weekdays": ["funday"]}],
         "field 'forbidden_weekdays': 'funday' is not a weekday name"),
        ([{"name": "Texas", "country": "US", "max_per_24h": 0}],
         "field 'max_per_24h': must be a whole number of 1 or more"),
        ([{"name": "Texas", "country": "US", "max_per_24h": "3"}], "field 'max_per_24h'"),
        ([{"name": "Texas", "country": "US", "no_public_holidays": "yes"}],
         "field 'no_public_holidays': must be true or false"),
        ([{"name": "Atlantis", "country": "QQ", "no_public_holidays": True}],
         "rule #1 ('Atlantis'): field 'no_public_holidays': no public-holiday calendar"),
        ([{"name": "Nowhere", "enabled": False}],
         "rule #1 ('Nowhere'): field 'enabled': disables a rule that is not in the table"),
    ],
)
def test_rule_errors_name_the_rule_and_the_field(extra: list, message: str) -> None:
    with pytest.raises(RuleError) as error:
        load_rules(extra)
    assert message in str(error.value)


def test_parse_hours_accepts_the_usual_spellings() -> None:
    expected = (time(8), time(21))
    for text in ("08:00-21:00", "8:00 - 21:00", "08:00\u201321:00", "08:00 to 21:00"):
        assert parse_hours(text) == expected
    assert parse_hours(["08:00", "24:00"]) == (time(8), time(0))
    assert parse_hours((time(8), time(21))) == expected


# --- properties -----------------------------------------------------------------------------------

# Zones whose clock changes all happen between 00:30 and 04:00 local time (so that windows
# bounded at 04:00 or later never have a bound inside a change, where the strict reading
# of the module docstring applies), including half- and quarter-hour offsets and a
# 30-minute change (Lord Howe).
PROPERTY_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "America/Adak", "Pacific/Honolulu",
    "Europe/Paris", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham",
)


@st.composite
def hours(draw: st.DrawFn) -> tuple[time, time]:
    start = draw(st.integers(16, 94))  # quarter hours from 04:00
    end = draw(st.integers(start + 1, 96))
    as_time = lambda q: time(q // 4, q % 4 * 15) if q < 96 else time(0)  # noqa: E731
    return as_time(start), as_time(end)


@st.composite
def skill_windows(draw: st.DrawFn) -> SkillWindow:
    days = draw(st.frozensets(st.sampled_from(WEEKDAYS), max_size=2))
    dates = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=2))
    return SkillWindow(weekday=draw(hours()), weekend=draw(hours()), forbidden_days=days | dates)


@settings(max_examples=150, deadline=None)
@given(
    seconds=st.integers(0, 2 * 365 * 86_400),
    zones=st.lists(st.sampled_from(PROPERTY_ZONES), min_size=1, max_size=3, unique=True),
    place=st.sampled_from([("US", None), ("US", "FL"), ("US", "CT"), ("US", "NY"), ("FR", None),
                           ("XX", None)]),
    skill=skill_windows(),
)
def test_decisions_are_exact_everywhere(
    seconds: int, zones: list[str], place: tuple[str, str | None], skill: SkillWindow
) -> None:
    now = utc(2026, 1, 1) + timedelta(seconds=seconds)
    country, state = place
    decision = decide(now, tuple(zones), state, skill, country=country)
    assert_decision_is_exact(now, decision, tuple(zones), state, skill, country)


@settings(max_examples=100, deadline=None)
@given(
    seconds=st.sampled_from([0, 1, 59, 3599]),
    day=st.sampled_from([date(2026, 3, 8), date(2026, 11, 1), date(2026, 3, 29),
                         date(2026, 10, 25), date(2026, 4, 5), date(2026, 10, 4)]),
    hour=st.integers(0, 47),
    zones=st.lists(st.sampled_from(PROPERTY_ZONES), min_size=1, max_size=2, unique=True),
)
def test_decisions_are_exact_around_clock_changes(
    seconds: int, day: date, hour: int, zones: list[str]
) -> None:
    # US, EU and southern-hemisphere (Lord Howe, Chatham) change days, default windows.
    now = datetime.combine(day, time(0), UTC) + timedelta(hours=hour - 12, seconds=seconds)
    decision = decide(now, tuple(zones), None, DEFAULT)
    assert_decision_is_exact(now, decision, tuple(zones), None)
