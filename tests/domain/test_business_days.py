from datetime import UTC, datetime

import pytest

from proactive_sms.domain.business_days import add_business_days, is_business_day


@pytest.mark.parametrize(("start", "days", "expected"), [
    (datetime(2026, 12, 4, 12, 0, tzinfo=UTC), 2, datetime(2026, 12, 8, 12, 0, tzinfo=UTC)),  # Fri
    (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), 2, datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),  # Tue
    (datetime(2026, 12, 5, 9, 0, tzinfo=UTC), 1, datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),  # Sat
    (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), 0, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
])
def test_weekends_are_not_business_days(start, days, expected):
    assert add_business_days(start, days) == expected


def test_a_public_holiday_of_the_country_is_skipped():
    # From Wednesday 23 December 2026: Thursday, then Christmas (Friday) and the weekend skipped.
    start = datetime(2026, 12, 23, 10, 0, tzinfo=UTC)
    assert add_business_days(start, 2, "US") == datetime(2026, 12, 28, 10, 0, tzinfo=UTC)
    assert not is_business_day(datetime(2026, 12, 25).date(), "US")
    assert is_business_day(datetime(2026, 12, 25).date())


def test_negative_days_are_refused():
    with pytest.raises(ValueError, match="0 or more"):
        add_business_days(datetime(2026, 1, 1, tzinfo=UTC), -1)
