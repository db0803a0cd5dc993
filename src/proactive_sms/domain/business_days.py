"""Business days: Monday to Friday, less the public holidays of a country.

Used for deadlines people are given ("a possible opt-out left undecided for 2 business days is
settled as an opt-out"). Days are counted on the UTC calendar: a deadline is a matter of days,
and a few hours either way do not change what it protects.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta


@functools.cache
def _holidays(country: str):
    import holidays  # loaded only when a deadline is computed

    try:
        return holidays.country_holidays(country)
    except NotImplementedError:  # a country the package does not know: weekends only
        return {}


def is_business_day(day: date, country: str | None = None) -> bool:
    return day.weekday() < 5 and (country is None or day not in _holidays(country))


def add_business_days(start: datetime, days: int, country: str | None = None) -> datetime:
    """The moment `days` business days after `start` (same time of day): from a Friday noon,
    2 business days is Tuesday noon."""
    if days < 0:
        raise ValueError(f"business days must be 0 or more, got {days}")
    moment, left = start, days
    while left:
        moment += timedelta(days=1)
        if is_business_day(moment.date(), country):
            left -= 1
    return moment
