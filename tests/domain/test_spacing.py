"""The spacer spreads a code's sends evenly inside the second (fake clock)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proactive_sms.domain.pacing import SlidingWindowPacer
from proactive_sms.domain.spacing import EvenSpacer


def run(spacer: EvenSpacer, count: int, start: float = 0.0) -> list[float]:
    """Send `count` single texts as soon as the spacer allows."""
    times, now = [], start
    for _ in range(count):
        now = spacer.ready_at(1, now)
        spacer.consume(1, now)
        times.append(now)
    return times


def most_in_any(times: list[float], width_s: float) -> int:
    return max(sum(1 for t in times if start <= t < start + width_s - 1e-9) for start in times)


def test_a_hundred_per_second_leave_ten_milliseconds_apart_not_in_one_burst():
    times = run(EvenSpacer(100, burst_s=0.0), 100)
    assert times[-1] == pytest.approx(0.99)
    assert most_in_any(times, 0.1) == 10
    # As before the spacer, the window pacer alone lets the whole second out at once:
    pacer, burst = SlidingWindowPacer(100), 0
    while pacer.ready_at(1, 0.0) == 0.0:
        pacer.consume(1, 0.0)
        burst += 1
    assert burst == 100


def test_a_small_burst_tolerance_lets_fast_codes_claim_a_few_at_once():
    spacer = EvenSpacer(100, burst_s=0.02)
    assert spacer.available(0.0) == 3
    spacer.consume(3, 0.0)
    assert spacer.available(0.0) == 0
    assert spacer.ready_at(1, 0.0) == pytest.approx(0.01)
    assert spacer.available(0.01) == 1


@pytest.mark.parametrize("rate", [0.5, 1, 5, 40, 100, 1000])
def test_long_run_rate_is_the_rate(rate):
    times = run(EvenSpacer(rate), int(rate * 20) + 1)
    assert (len(times) - 1) / (times[-1] - times[0]) == pytest.approx(rate, rel=0.01)


def test_idle_time_is_not_paid_back_in_a_burst():
    spacer = EvenSpacer(10, burst_s=0.0)
    run(spacer, 5)
    later = run(spacer, 5, start=100.0)
    assert later == pytest.approx([100.0, 100.1, 100.2, 100.3, 100.4])


def test_a_weight_above_the_burst_leaves_alone_and_pushes_the_schedule():
    spacer = EvenSpacer(5, burst_s=0.0)
    spacer.consume(3, 0.0)  # a 3-part text at 5 segments/s
    assert spacer.ready_at(1, 0.0) == pytest.approx(0.6)


def test_a_lower_rate_applies_from_the_next_send():
    spacer = EvenSpacer(100, burst_s=0.0)
    spacer.consume(1, 0.0)
    spacer.set_rate(10)
    spacer.consume(1, 0.01)
    assert spacer.ready_at(1, 0.01) == pytest.approx(0.11)


@settings(max_examples=100, deadline=None)
@given(rate=st.floats(0.2, 500), burst_s=st.floats(0, 0.1), count=st.integers(2, 200))
def test_never_faster_than_the_rate_beyond_the_burst(rate, burst_s, count):
    spacer = EvenSpacer(rate, burst_s)
    times = run(spacer, count)
    span = times[-1] - times[0]
    assert count - 1 <= (span + burst_s) * rate + 1 + 1e-6


@pytest.mark.parametrize(("rate", "burst_s"), [(0, 0.02), (-1, 0.02), (5, -0.1)])
def test_bad_settings_are_refused(rate, burst_s):
    with pytest.raises(ValueError):
        EvenSpacer(rate, burst_s)


def test_a_lane_woken_late_keeps_its_schedule_instead_of_slipping():
    spacer = EvenSpacer(5, burst_s=0.0, catch_up_s=0.2)
    times, now = [], 0.0
    for _ in range(10):
        now = spacer.ready_at(1, now) + 0.05  # every wake-up 50 ms late
        spacer.consume(1, now)
        times.append(now)
    # Ten sends in ~2 s as scheduled, not 2.5 s (each lateness added to the next interval).
    assert times[-1] < 2.0
    assert most_in_any(times, 0.2) <= 2
