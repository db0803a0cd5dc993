"""Moments and recurrences in local zones: weekdays, cron, the two DST nights, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proactive_sms.domain import schedules
from proactive_sms.domain.schedules import Due, ScheduleError, recurrence, zone

CHICAGO = "America/Chicago"
ZONES = ["America/Chicago", "Europe/London", "Australia/Sydney", "Asia/Kolkata",
         "America/Sao_Paulo", "Pacific/Auckland", "UTC"]
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                       timezones=st.just(UTC))


def local(moment: datetime, zone_name: str = CHICAGO) -> datetime:
    return moment.astimezone(zone(zone_name))


def test_every_weekday_at_nine_skips_the_weekend():
    rule = recurrence(time_zone=CHICAGO, every="weekday", at="09:00")
    assert rule.describe() == "every weekday at 09:00 (America/Chicago)"
    moment = datetime(2027, 1, 1, 16, 0, tzinfo=UTC)  # Friday 10:00 in Chicago
    seen = []
    for _ in range(3):
        moment = rule.next_after(moment)
        seen.append(local(moment).strftime("%a %Y-%m-%d %H:%M"))
    assert seen == ["Mon 2027-01-04 09:00", "Tue 2027-01-05 09:00", "Wed 2027-01-06 09:00"]


@settings(max_examples=200, deadline=None)
@given(after=moments, zone_name=st.sampled_from(ZONES), hour=st.integers(6, 20),
       minute=st.integers(0, 59))
def test_a_weekday_rule_lands_on_a_weekday_at_its_local_time(after, zone_name, hour, minute):
    rule = recurrence(time_zone=zone_name, every="weekdays", at=f"{hour:02d}:{minute:02d}")
    found = rule.next_after(after)
    assert found > after
    shown = local(found, zone_name)
    assert shown.weekday() < 5 and (shown.hour, shown.minute) == (hour, minute)
    # Nothing was skipped: any moment between `after` and the occurrence finds that occurrence.
    middle = after + (found - after) / 2
    assert rule.next_after(middle) == found
    assert rule.next_after(found - timedelta(microseconds=1)) == found
    assert found - after <= timedelta(days=3, hours=2)


@settings(max_examples=100, deadline=None)
@given(after=moments, zone_name=st.sampled_from(ZONES))
def test_an_hourly_cron_fires_once_per_distinct_moment_in_order(after, zone_name):
    rule = recurrence(time_zone=zone_name, cron="15 * * * *")
    moment, previous = after, after
    for _ in range(30):
        moment = rule.next_after(moment)
        assert moment > previous
        assert moment - previous <= timedelta(hours=2, minutes=1)
        assert local(moment, zone_name).minute == 15
        previous = moment


def test_spring_forward_fires_a_time_in_the_gap_right_after_the_jump():
    rule = recurrence(time_zone=CHICAGO, cron="30 2 * * *")
    moment = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)
    moment = rule.next_after(moment)  # 2027-03-14 02:30 does not exist in Chicago
    assert local(moment).strftime("%Y-%m-%d %H:%M %Z") == "2027-03-14 03:30 CDT"
    moment = rule.next_after(moment)
    assert local(moment).strftime("%Y-%m-%d %H:%M %Z") == "2027-03-15 02:30 CDT"


def test_fall_back_fires_once_at_the_first_of_the_repeated_hour():
    rule = recurrence(time_zone=CHICAGO, cron="30 1 * * *")
    moment = rule.next_after(datetime(2027, 11, 6, 12, 0, tzinfo=UTC))
    assert moment == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)  # 01:30 CDT, the first one
    following = rule.next_after(moment)
    assert local(following).strftime("%Y-%m-%d %H:%M %Z") == "2027-11-08 01:30 CST"


def test_every_twenty_minutes_across_spring_forward_never_repeats_a_moment():
    rule = recurrence(time_zone=CHICAGO, cron="*/20 * * * *")
    moment = datetime(2027, 3, 14, 7, 0, tzinfo=UTC)
    seen = []
    for _ in range(9):
        moment = rule.next_after(moment)
        seen.append(moment)
    assert seen == sorted(set(seen))
    assert all(b - a == timedelta(minutes=20) for a, b in zip(seen, seen[1:], strict=False))


def test_a_one_off_start_in_the_gap_is_refused_and_in_the_repeat_is_the_first():
    with pytest.raises(ScheduleError, match="does not exist in America/Chicago"):
        schedules.local_moment(datetime(2027, 3, 14, 2, 30), CHICAGO)
    assert schedules.local_moment(datetime(2027, 11, 7, 1, 30), CHICAGO) == datetime(
        2027, 11, 7, 6, 30, tzinfo=UTC)
    assert schedules.parse_start("2027-01-04T09:00", CHICAGO) == datetime(
        2027, 1, 4, 15, 0, tzinfo=UTC)
    assert schedules.parse_start("2027-01-04T09:00-05:00", None) == datetime(
        2027, 1, 4, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(("kwargs", "field", "words"), [
    ({"cron": "0 25 * * *"}, "cron", "not valid"),
    ({"cron": "0 9 * * * *"}, "cron", "5 fields"),
    ({"cron": "0 0 30 2 *"}, "cron", "never occurs"),
    ({"every": "weekday", "at": "9am"}, "at", "not a time of day"),
    ({"every": "fortnight", "at": "09:00"}, "every", "day, weekday, weekend"),
    ({"every": "weekday"}, "at", "give a cron expression"),
    ({"cron": "0 9 * * *", "every": "day", "at": "09:00"}, "cron", "not both"),
])
def test_a_bad_recurrence_is_refused_naming_its_field(kwargs, field, words):
    with pytest.raises(ScheduleError, match=words) as caught:
        recurrence(time_zone=CHICAGO, **kwargs)
    assert caught.value.field == field


def test_unknown_zones_and_missing_offsets_are_refused():
    with pytest.raises(ScheduleError, match="unknown time zone 'Mars/Olympus'"):
        recurrence(time_zone="Mars/Olympus", every="day", at="09:00")
    with pytest.raises(ScheduleError, match="no UTC offset") as caught:
        schedules.parse_start("2027-01-04T09:00", None)
    assert caught.value.field == "time_zone"
    with pytest.raises(ScheduleError, match="not a date and time"):
        schedules.parse_start("next monday", CHICAGO)


def test_a_past_moment_is_refused_with_how_long_ago():
    now = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
    with pytest.raises(ScheduleError, match=r"in the past \(3 h ago\)"):
        schedules.check_future(now - timedelta(hours=3), now)
    with pytest.raises(ScheduleError, match="in the past"):
        schedules.check_future(now, now)
    assert schedules.check_future(now + timedelta(seconds=1), now) > now


def test_due_is_not_yet_then_fire_within_the_grace_then_missed():
    moment = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)
    grace = timedelta(minutes=15)
    assert schedules.due(moment, moment - timedelta(seconds=1), grace) is Due.NOT_YET
    assert schedules.due(moment, moment, grace) is Due.FIRE
    assert schedules.due(moment, moment + grace, grace) is Due.FIRE
    assert schedules.due(moment, moment + grace + timedelta(seconds=1), grace) is Due.MISSED


def test_day_lists_and_run_names():
    rule = recurrence(time_zone="UTC", every="mon, wed,fri", at="7:05")
    assert rule.cron == "5 7 * * 1,3,5"
    assert rule.describe() == "every monday, wednesday, friday at 07:05 (UTC)"
    assert schedules.run_name("tips", datetime(2027, 1, 4, 15, 0, tzinfo=UTC),
                              CHICAGO) == "tips-20270104-0900"
