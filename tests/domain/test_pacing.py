"""The pacer's promise, checked with a fake clock: never over the limit in any one-second window,
and close to the limit when there is always work."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proactive_sms.domain.pacing import SlidingWindowPacer


def run(pacer: SlidingWindowPacer, demands: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Send each (arrival time, weight) as soon as the pacer allows, in order."""
    sends, now = [], 0.0
    for arrival, weight in demands:
        now = max(now, arrival)
        now = pacer.ready_at(weight, now)
        pacer.consume(weight, now)
        sends.append((now, weight))
    return sends


def worst_window(sends: list[tuple[float, int]], width_s: float = 1.0) -> int:
    return max(sum(w for t, w in sends if start <= t < start + width_s) for start, _ in sends)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.sampled_from([1, 2, 3, 5, 20, 50, 100]),
    demands=st.lists(st.tuples(st.floats(0, 0.5), st.integers(1, 3)), min_size=1, max_size=300),
)
def test_never_more_than_the_limit_in_any_one_second_window(rate, demands):
    arrivals, t = [], 0.0
    for gap, weight in demands:
        t += gap
        arrivals.append((t, min(weight, rate)))
    sends = run(SlidingWindowPacer(rate), arrivals)
    assert worst_window(sends) <= rate


@pytest.mark.parametrize("rate", [1, 5, 20, 50, 100, 1000])
def test_uses_at_least_95_percent_of_the_limit_under_constant_demand(rate):
    sends = run(SlidingWindowPacer(rate), [(0.0, 1)] * (rate * 12))
    in_ten_seconds = sum(w for t, w in sends if t < 10.0)
    assert in_ten_seconds >= 0.95 * rate * 10


def test_a_burst_is_at_most_one_seconds_worth():
    pacer = SlidingWindowPacer(5)
    sends = run(pacer, [(0.0, 1)] * 20)
    assert sum(1 for t, _ in sends if t == 0.0) == 5


def test_segments_are_weighed():
    pacer = SlidingWindowPacer(5)
    assert pacer.ready_at(3, 0.0) == 0.0
    pacer.consume(3, 0.0)
    assert pacer.available(0.0) == 2
    assert pacer.ready_at(3, 0.0) == pytest.approx(1.025)


def test_a_rate_below_one_per_second_spaces_single_sends():
    sends = run(SlidingWindowPacer(0.5), [(0.0, 1)] * 3)
    assert [t for t, _ in sends] == pytest.approx([0.0, 2.025, 4.05])


def test_a_weight_above_the_limit_goes_alone_and_holds_the_next_window():
    pacer = SlidingWindowPacer(2)
    pacer.consume(3, 0.0)  # a 3-part text on a 2/s code
    assert pacer.ready_at(1, 0.5) > 1.0  # the third segment's debt holds the next window


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="above 0"):
        SlidingWindowPacer(0)


def test_sends_seeded_from_a_handover_count_against_the_limit():
    """A code's new holder counts its old holder's last window: 5 sent at 0.0-0.4 s on a 5/s
    code leave nothing before 1.0 s, then one more each time one of them leaves the window."""
    pacer = SlidingWindowPacer(5, margin_s=0.0)
    pacer.seed([(0.1 * i, 1) for i in range(5)], now=0.5)
    assert pacer.available(0.5) == 0
    assert pacer.ready_at(1, 0.5) == 1.0
    assert pacer.available(1.25) == 3
    assert [round(moment, 3) for moment, _ in pacer.recent(1.25)] == [0.3, 0.4]


def test_seeded_sends_already_out_of_the_window_are_dropped():
    pacer = SlidingWindowPacer(5, margin_s=0.0)
    pacer.seed([(0.0, 2), (5.0, 1)], now=5.5)
    assert pacer.available(5.5) == 4
