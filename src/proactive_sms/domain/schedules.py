"""When a scheduled start or a recurring notice is due: moments in a local zone, pure.

A person says "2027-01-04 09:00 in America/Chicago" or "every weekday at 09:00"; the store and
the dispatcher work in UTC. This module turns the one into the other, and only here are the
two hard days of the year decided:

- *Clocks go forward* (a local time that does not exist, 02:30 on the spring-forward night):
  a one-off start at such a time is refused (the person meant something else); a recurring
  occurrence in the gap fires at the moment the clock jumps past it (02:30 -> 03:30 daylight
  time), as cron daemons do, so a daily notice is never skipped.
- *Clocks go back* (a local time that happens twice, 01:30 on the fall-back night): both a
  one-off start and a recurring occurrence take the first of the two, and a recurring notice
  fires once that day, not twice.

Recurrences are 5-field cron expressions in the zone's wall-clock time (minute hour
day-of-month month day-of-week), read by `croniter`; the plain forms ("weekdays at 09:00")
become one. Nothing here reads a clock: callers pass `now`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

# A moment missed while no dispatcher ran still fires when one comes back this soon after it;
# later than that it is recorded as missed (a 09:00 notice sent at 15:00 is worse than none).
DEFAULT_GRACE = timedelta(minutes=15)

_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_EVERY = {"day": "*", "daily": "*", "weekday": "1-5", "weekdays": "1-5",
          "weekend": "0,6", "weekends": "0,6"}
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# The longest a clock has ever jumped in one transition is 2 h (double summer time, and a
# few zones changing sides of the date line do more but skip days, not hours in a day).
_LONGEST_GAP = timedelta(hours=3)


class ScheduleError(ValueError):
    """A moment or recurrence that cannot be used, with the field it came from."""

    def __init__(self, message: str, field: str = "start_at") -> None:
        super().__init__(message)
        self.field = field


class Due(enum.StrEnum):
    NOT_YET = "not_yet"  # its moment has not come
    FIRE = "fire"  # its moment came, at most the grace ago: start it now
    MISSED = "missed"  # its moment passed longer than the grace ago (no dispatcher ran)


def zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone called `name`, or ScheduleError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ScheduleError(f"unknown time zone {name!r} (an IANA name such as "
                            f"America/Chicago)", field) from exc


def local_moment(naive: datetime, zone_name: str) -> datetime:
    """The UTC moment of a wall-clock time in a zone, for a one-off start.

    A time the clock skips that night is refused; one it shows twice is the first."""
    tz = zone(zone_name)
    aware = naive.replace(tzinfo=tz, fold=0)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ScheduleError(f"{naive:%Y-%m-%dT%H:%M} does not exist in {zone_name}: the clocks "
                            "go forward over it that night; choose a time outside the gap")
    return aware.astimezone(UTC)


def parse_start(text: str | datetime, zone_name: str | None) -> datetime:
    """The UTC moment of an ISO 8601 start ("2027-01-04T09:00", with or without an offset), or
    of a datetime.

    Without an offset it is a wall-clock time in `zone_name`, which must then be given; with
    one, the offset decides and the zone only names how it is shown."""
    if isinstance(text, datetime):
        moment = text
    else:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError as exc:
            raise ScheduleError(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM)") from exc
    if moment.tzinfo is not None:
        if zone_name:
            zone(zone_name)
        return moment.astimezone(UTC)
    if not zone_name:
        raise ScheduleError(f"{moment:%Y-%m-%dT%H:%M} has no UTC offset: give the time zone "
                            "it is in", "time_zone")
    return local_moment(moment, zone_name)


def check_future(start_at: datetime, now: datetime) -> datetime:
    """`start_at` itself when it is still to come; else ScheduleError saying how long ago."""
    if start_at <= now:
        ago = now - start_at
        raise ScheduleError(f"{start_at:%Y-%m-%d %H:%M} UTC is in the past "
                            f"({_duration(ago)} ago): a start must be later than now")
    return start_at


def due(moment: datetime, now: datetime, grace: timedelta = DEFAULT_GRACE) -> Due:
    """Whether a scheduled moment fires now, is missed, or is still to come."""
    if moment > now:
        return Due.NOT_YET
    return Due.FIRE if now - moment <= grace else Due.MISSED


@dataclass(frozen=True)
class Recurrence:
    """A repeating moment: a 5-field cron expression read in `time_zone`'s wall-clock time."""

    cron: str
    time_zone: str

    def describe(self) -> str:
        """'every weekday at 09:00 (America/Chicago)', or the cron expression."""
        fields = self.cron.split()
        plain = {v: k for k, v in _EVERY.items() if k in ("day", "weekday", "weekend")}
        if (len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit()
                and fields[2] == "*" and fields[3] == "*"):
            at = f"{int(fields[1]):02d}:{int(fields[0]):02d}"
            if fields[4] in plain:
                return f"every {plain[fields[4]]} at {at} ({self.time_zone})"
            days = fields[4].split(",")
            if all(d.isdigit() and int(d) < 7 for d in days):
                names = ", ".join(_DAY_NAMES[int(d)] for d in days)
                return f"every {names} at {at} ({self.time_zone})"
        return f"cron '{self.cron}' ({self.time_zone})"

    def next_after(self, after: datetime) -> datetime:
        """The first occurrence strictly after `after` (aware), in UTC."""
        return next_occurrence(self, after)


def recurrence(*, time_zone: str, cron: str | None = None, every: str | None = None,
               at: str | None = None) -> Recurrence:
    """A checked recurrence from a cron expression, or from `every` (day, weekday, weekend,
    a day name or a comma list of them) and `at` (HH:MM): exactly one of the two forms."""
    zone(time_zone)
    if cron and (every or at):
        raise ScheduleError("give a cron expression or every/at, not both", "cron")
    if cron:
        expression = " ".join(cron.split())
        if len(expression.split()) != 5:
            raise ScheduleError(f"cron {cron!r} must have 5 fields (minute hour day-of-month "
                                "month day-of-week)", "cron")
        try:
            croniter(expression, datetime(2000, 1, 1))
        except (CroniterBadCronError, ValueError, KeyError) as exc:
            raise ScheduleError(f"cron {cron!r} is not valid: {exc}", "cron") from exc
        found = Recurrence(expression, time_zone)
    else:
        if not every or not at:
            raise ScheduleError("give a cron expression, or every (e.g. weekday) and at "
                                "(HH:MM)", "every" if not every else "at")
        matched = _AT.match(at.strip())
        if not matched:
            raise ScheduleError(f"at {at!r} is not a time of day (HH:MM, 00:00-23:59)", "at")
        hour, minute = int(matched.group(1)), int(matched.group(2))
        found = Recurrence(f"{minute} {hour} * * {_days(every)}", time_zone)
    try:
        found.next_after(datetime(2000, 1, 1, tzinfo=UTC))
    except CroniterBadDateError as exc:
        raise ScheduleError(f"cron {found.cron!r} never occurs", "cron") from exc
    return found


def _days(every: str) -> str:
    text = every.strip().lower()
    if text in _EVERY:
        return _EVERY[text]
    days = []
    for part in text.split(","):
        name = part.strip()
        matches = [i for i, day in enumerate(_DAY_NAMES) if len(name) >= 3
                   and day.startswith(name)]
        if len(matches) != 1:
            raise ScheduleError(f"every {every!r}: say day, weekday, weekend, or day names "
                                "(monday, tue, ...)", "every")
        days.append(str(matches[0]))
    return ",".join(sorted(set(days), key=int))


def next_occurrence(rule: Recurrence, after: datetime) -> datetime:
    """The first UTC moment strictly after `after` at which `rule` fires.

    Cron is walked in naive wall-clock time, so each local time is met once (the fall-back
    hour does not fire twice); each is then placed in UTC with the offset in force before any
    transition at it (fold=0), which puts a time in the spring-forward gap right after the
    jump. That placing is not monotonic across the gap, so the candidates a gap's length past
    the first one found are looked at too and the earliest wins."""
    if after.tzinfo is None:
        raise ValueError("next_occurrence needs an aware datetime")
    tz = zone(rule.time_zone)
    local_after = after.astimezone(tz).replace(tzinfo=None)
    walker = croniter(rule.cron, local_after - _LONGEST_GAP)
    best: datetime | None = None
    horizon: datetime | None = None
    for _ in range(10_000):
        candidate = walker.get_next(datetime)
        if horizon is not None and candidate > horizon:
            break
        moment = candidate.replace(tzinfo=tz, fold=0).astimezone(UTC)
        if moment > after and (best is None or moment < best):
            best = moment
            horizon = horizon or candidate + _LONGEST_GAP
    if best is None:
        raise CroniterBadDateError(f"no occurrence of {rule.cron!r} found")
    return best


def run_name(schedule_name: str, moment: datetime, time_zone: str) -> str:
    """The name of the skill a recurring notice starts for one occurrence, in the schedule's
    own zone: 'tips-20270104-0900' (a skill name is letters, digits and - _ . : only)."""
    local = moment.astimezone(zone(time_zone))
    return f"{schedule_name}-{local:%Y%m%d-%H%M}"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
