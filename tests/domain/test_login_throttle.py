"""When failed sign-ins lock an account, and for how long (a table of cases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proactive_sms.domain.login_throttle import ACCOUNT_RULE, ADDRESS_RULE, wait_text

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _failures(*seconds: float) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


@pytest.mark.parametrize(("failures_s", "now_s", "locked_until_s"), [
    ((), 0, None),
    ((0, 1, 2, 3), 4, None),                      # four: not yet
    ((0, 1, 2, 3, 4), 5, 4 + 60),                 # the fifth locks for a minute
    ((0, 1, 2, 3, 4), 64, None),                  # ... which ends
    ((0, 1, 2, 3, 4, 70), 71, 70 + 120),          # a sixth after the lock: two minutes
    ((0, 1, 2, 3, 4, 70, 200), 201, 200 + 240),   # a seventh: four
    ((0, 1, 2, 3, 900), 901, None),               # the first fell out of the 15-minute window
    (tuple(range(0, 14 * 60, 30)), 14 * 60, 13 * 60 + 30 + 3600),  # capped at an hour
])
def test_the_account_rule_locks_after_five_failures_for_a_growing_time(
        failures_s, now_s, locked_until_s):
    until = ACCOUNT_RULE.locked_until(_failures(*failures_s), T0 + timedelta(seconds=now_s))
    assert until == (None if locked_until_s is None else T0 + timedelta(seconds=locked_until_s))


def test_an_address_is_locked_only_after_twenty_failures():
    assert ADDRESS_RULE.locked_until(_failures(*range(19)), T0 + timedelta(seconds=20)) is None
    assert ADDRESS_RULE.locked_until(_failures(*range(20)), T0 + timedelta(seconds=20)) \
        == T0 + timedelta(seconds=19 + 60)


@pytest.mark.parametrize(("left_s", "text"), [(1, "1 minute"), (60, "1 minute"),
                                              (61, "2 minutes"), (3600, "60 minutes")])
def test_the_wait_is_said_in_whole_minutes_rounded_up(left_s, text):
    assert wait_text(T0 + timedelta(seconds=left_s), T0) == text
