"""The circuit breaker of one carrier connection, driven by a manual clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain.circuit_breaker import (
    BreakerPolicy,
    BreakerState,
    CircuitBreaker,
    OpenReason,
    Permit,
)
from proactive_sms.domain.clock import ManualClock

POLICY = BreakerPolicy(failure_threshold=3, cool_down_s=5.0, max_cool_down_s=20.0)


def breaker() -> tuple[CircuitBreaker, ManualClock]:
    clock = ManualClock()
    return CircuitBreaker(clock, POLICY), clock


def test_a_new_breaker_lets_texts_through():
    b, _ = breaker()
    assert b.state is BreakerState.CLOSED
    assert b.permit() is Permit.NORMAL


@pytest.mark.parametrize("reason", [OpenReason.BIND_REFUSED, OpenReason.CONNECTION_LOST])
def test_a_refused_bind_or_lost_connection_opens_it_at_once(reason):
    b, _ = breaker()
    change = b.link_down(reason)
    assert change is not None and change.after is BreakerState.OPEN
    assert b.reason == reason.value
    assert b.permit() is None


def test_a_closed_breaker_asked_with_its_link_down_opens():
    b, _ = breaker()
    assert b.permit(link_up=False) is None
    assert b.state is BreakerState.OPEN
    assert b.reason == OpenReason.CONNECTION_LOST.value


def test_it_opens_after_the_threshold_of_unanswered_submits_in_a_row():
    b, _ = breaker()
    assert b.no_answer() is None
    assert b.no_answer() is None
    change = b.no_answer()
    assert change is not None and change.reason == OpenReason.NO_ANSWER.value
    assert b.permit() is None


def test_an_answer_between_timeouts_starts_the_count_again():
    b, _ = breaker()
    b.no_answer()
    b.no_answer()
    b.answered()
    b.no_answer()
    b.no_answer()
    assert b.state is BreakerState.CLOSED


def test_after_the_cool_down_exactly_one_probe_goes_and_its_answer_closes_it():
    b, clock = breaker()
    b.link_down(OpenReason.CONNECTION_LOST)
    clock.advance(4.9)
    assert b.permit() is None
    assert b.retry_in_s() == pytest.approx(0.1)
    clock.advance(0.1)
    assert b.permit() is Permit.PROBE
    assert b.state is BreakerState.HALF_OPEN
    assert b.permit() is None  # the probe is out: nobody else goes
    change = b.answered()
    assert change is not None and change.after is BreakerState.CLOSED
    assert b.permit() is Permit.NORMAL


def test_no_probe_through_a_link_that_is_still_down():
    b, clock = breaker()
    b.link_down(OpenReason.BIND_REFUSED)
    clock.advance(60)
    assert b.permit(link_up=False) is None
    assert b.state is BreakerState.OPEN
    assert b.permit(link_up=True) is Permit.PROBE


def test_a_failed_probe_opens_it_again_for_twice_as_long_up_to_the_maximum():
    b, clock = breaker()
    b.link_down()
    waits = []
    for _ in range(4):
        clock.advance(b.retry_in_s())
        assert b.permit() is Permit.PROBE
        change = b.no_answer()
        assert change is not None and change.reason == OpenReason.PROBE_FAILED.value
        waits.append(b.retry_in_s())
    assert waits == [10.0, 20.0, 20.0, 20.0]
    clock.advance(20)
    assert b.permit() is Permit.PROBE
    b.answered()
    b.link_down()
    assert b.retry_in_s() == 5.0  # a breaker that recovered starts from the short cool-down


def test_the_link_dropping_during_a_probe_opens_it_again():
    b, clock = breaker()
    b.link_down()
    clock.advance(5)
    assert b.permit() is Permit.PROBE
    change = b.link_down(OpenReason.CONNECTION_LOST)
    assert change is not None and change.after is BreakerState.OPEN


def test_a_probe_that_was_not_sent_lets_another_text_probe():
    b, clock = breaker()
    b.link_down()
    clock.advance(5)
    assert b.permit() is Permit.PROBE
    b.probe_unused()
    assert b.permit() is Permit.PROBE


def test_an_open_breaker_ignores_more_failures_and_keeps_its_first_reason():
    b, clock = breaker()
    b.link_down(OpenReason.BIND_REFUSED)
    since = b.since_s
    clock.advance(1)
    assert b.link_down(OpenReason.CONNECTION_LOST) is None
    assert b.no_answer() is None
    assert (b.reason, b.since_s, b.opened) == (OpenReason.BIND_REFUSED.value, since, 1)


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError):
        BreakerPolicy(failure_threshold=0)
    with pytest.raises(ValueError):
        BreakerPolicy(cool_down_s=0)
    with pytest.raises(ValueError):
        BreakerPolicy(cool_down_s=10, max_cool_down_s=5)


EVENTS = st.lists(st.sampled_from(["answered", "no_answer", "link_down", "permit",
                                   "permit_down", "unused", "wait"]), max_size=60)


@given(EVENTS)
def test_whatever_happens_at_most_one_probe_is_out_and_open_means_no_texts(events):
    b, clock = breaker()
    for event in events:
        if event == "wait":
            clock.advance(3)
        elif event == "permit":
            before = b.state
            permit = b.permit()
            if before is BreakerState.CLOSED:
                assert permit is Permit.NORMAL
            if permit is Permit.PROBE:
                assert b.state is BreakerState.HALF_OPEN
                assert b.permit() is None  # never two probes out
        elif event == "permit_down":
            assert b.permit(link_up=False) is None
        elif event == "unused":
            b.probe_unused()
        else:
            getattr(b, event)()
        if b.state is BreakerState.OPEN:
            assert not b.probe_out
            assert b.cool_down_s <= POLICY.max_cool_down_s


def test_with_nowhere_else_to_send_a_bound_link_is_probed_without_waiting():
    b, _ = breaker()
    b.link_down(OpenReason.CONNECTION_LOST)
    assert b.permit() is None
    assert b.permit(skip_cool_down=True) is Permit.PROBE
    assert b.permit(skip_cool_down=True) is None  # still one probe at a time
    b.answered()
    assert b.state is BreakerState.CLOSED


def test_observing_a_link_that_is_down_opens_it_once():
    b, _ = breaker()
    assert b.observe(link_up=True) is None
    change = b.observe(link_up=False, reason=OpenReason.BIND_REFUSED)
    assert change is not None and b.reason == "bind refused"
    assert b.observe(link_up=False) is None
