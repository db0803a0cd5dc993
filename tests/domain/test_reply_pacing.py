"""Reply-aware pacing decided with a fake clock: texts go while the replies they may bring fit
the agents' free places, at the pace that fills them in one reply window, and wait otherwise."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain.reply_pacing import (
    MIN_REPLY_RATE,
    PRIOR_WEIGHT_TEXTS,
    AgentSeat,
    ReplyBound,
    ReplyFigures,
    ReplyGate,
    free_places,
    learnt_reply_rate,
)

WINDOW_S = 100.0


def figures(agents: int = 5, free: int = 20, replies: int = 0, recent: int = 0,
            texts: int = 0) -> ReplyFigures:
    return ReplyFigures(agents, free, replies, recent, texts)


def test_free_places_count_available_agents_less_what_they_hold_and_what_waits():
    seats = [AgentSeat(True, 1, 4), AgentSeat(True, 4, 4), AgentSeat(True, 6, 4),
             AgentSeat(False, 0, 4), AgentSeat(True, 2, None)]
    # 3 + 0 + 0 (over their limit: not below zero) + away (nothing) + 5 - 2 default places
    assert free_places(seats, waiting_conversations=0, places_per_agent=5) == (4, 6)
    assert free_places(seats, waiting_conversations=2, places_per_agent=5) == (4, 4)
    assert free_places([], waiting_conversations=1) == (0, -1)


def test_learnt_rate_starts_at_the_prior_and_moves_to_what_the_skill_shows():
    assert learnt_reply_rate(0.05, 0, 0) == pytest.approx(0.05)
    assert learnt_reply_rate(0.05, 100, 1000) == pytest.approx(
        (0.05 * PRIOR_WEIGHT_TEXTS + 100) / (PRIOR_WEIGHT_TEXTS + 1000))
    assert learnt_reply_rate(0.05, 2000, 20_000) == pytest.approx(0.1, abs=0.001)
    # Replies counted before their texts matured: the rate errs high, never above 1.
    assert 0.9 < learnt_reply_rate(0.5, 500, 0) <= 1.0
    assert learnt_reply_rate(1.0, 500, 0) == 1.0
    assert learnt_reply_rate(0.01, 0, 1_000_000) == MIN_REPLY_RATE


@given(prior=st.floats(0.001, 1.0), replies=st.integers(0, 10**6),
       texts=st.integers(0, 10**6))
def test_learnt_rate_stays_a_rate(prior, replies, texts):
    assert MIN_REPLY_RATE <= learnt_reply_rate(prior, replies, texts) <= 1.0


def test_the_issue_example_reads_as_it_says():
    gate = ReplyGate(prior_reply_rate=0.04, reply_window_s=1800)
    gate.refresh(figures(agents=3, free=11), 0.0)
    bound = gate.bound(0.0)
    assert bound.texts_per_min == pytest.approx(11 / 0.04 / 30, abs=0.01)
    assert bound.explain() == "3 agents, 11 free places, reply rate 4% -> 9 texts/min"
    assert not bound.waiting


def test_no_agent_available_means_texts_wait_until_one_comes_back():
    gate = ReplyGate(0.1, WINDOW_S)
    gate.refresh(figures(agents=0, free=0), 0.0)
    assert not gate.try_send(0.0)
    assert gate.ready_at(0.0) == math.inf
    bound = gate.bound(0.0)
    assert bound.waiting and bound.explain() == "no agent available (reply rate 10%): texts wait"
    gate.refresh(figures(agents=1, free=4), 5.0)  # an agent comes back
    assert gate.try_send(5.0)


def test_at_the_pace_one_window_of_texts_is_what_the_places_can_take():
    gate = ReplyGate(0.1, WINDOW_S)
    gate.refresh(figures(agents=5, free=20), 0.0)
    now, sent = 0.0, 0
    while now < WINDOW_S - 0.005:
        sent += gate.try_send(now)
        now = round(now + 0.01, 2)
    # 20 places at 10% replies: 200 texts in one window, 2 per second, asked far more often.
    assert 199 <= sent <= 200  # the pace's float interval may put the 200th just past it
    assert gate.replies_in_flight() == pytest.approx(sent * 0.1)


def test_fewer_places_than_replies_in_flight_hold_texts_until_those_texts_age_out():
    gate = ReplyGate(0.1, WINDOW_S)
    gate.refresh(figures(agents=5, free=20), 0.0)
    sent, now = sends_until(gate, 0.0, 50.0)
    assert sent == 100  # 10 replies in flight
    gate.refresh(figures(agents=5, free=5), now)  # agents took other work: 5 places left
    assert not gate.try_send(now)
    assert gate.bound(now).waiting
    first = gate.ready_at(now)
    assert now < first < math.inf  # when the oldest text's window has passed
    assert gate.try_send(60.0 + WINDOW_S)


def test_texts_stop_when_replies_fill_the_places_and_resume_when_an_agent_closes_some():
    gate = ReplyGate(0.1, WINDOW_S)
    gate.refresh(figures(agents=5, free=20), 0.0)
    sent, now = sends_until(gate, 0.0, 50.0)
    assert sent == 100
    # Their replies came, and other conversations filled the rest: no place is free.
    gate.refresh(figures(agents=5, free=0, replies=10, recent=10, texts=100), now)
    assert gate.replies_in_flight() == 0
    assert not gate.try_send(now) and gate.ready_at(now) == math.inf
    assert gate.bound(now).explain().endswith("texts wait")
    # An agent closes 3 conversations: 3 places, at 3 / 0.1 / 100 s = 0.3 texts/s.
    gate.refresh(figures(agents=5, free=3, replies=10, recent=10, texts=100), now)
    assert gate.try_send(now)
    assert gate.ready_at(now) == pytest.approx(now + 1 / 0.3)


def sends_until(gate: ReplyGate, start: float, end: float, step_s: float = 0.01
                ) -> tuple[int, float]:
    now, sent = start, 0
    while now < end - step_s / 2:
        sent += gate.try_send(now)
        now = round(now + step_s, 4)
    return sent, now


def test_a_learnt_rate_above_the_prior_slows_the_skill():
    gate = ReplyGate(0.05, WINDOW_S)
    gate.refresh(figures(agents=2, free=10, replies=330, recent=30, texts=1000), 0.0)
    # Replies of the last window are not counted yet: their texts have not matured either.
    assert gate.reply_rate == pytest.approx((5 + 300) / 1100)
    assert gate.bound(0.0).texts_per_min == pytest.approx(
        60 * 10 / gate.reply_rate / WINDOW_S, abs=0.01)


def test_refused_texts_leave_the_gate_unchanged():
    gate = ReplyGate(0.1, WINDOW_S)
    gate.refresh(figures(agents=5, free=20), 0.0)
    assert gate.try_send(0.0)
    before = gate.bound(0.1)
    for _ in range(50):
        assert not gate.try_send(0.1)  # too early for the pace
    assert gate.bound(0.1) == before


@given(free=st.integers(0, 60), rate=st.floats(0.01, 1.0),
       step=st.floats(0.001, 5.0))
def test_what_is_in_flight_never_exceeds_the_free_places(free, rate, step):
    gate = ReplyGate(rate, WINDOW_S)
    gate.refresh(figures(agents=3, free=free), 0.0)
    now = 0.0
    for _ in range(400):
        gate.try_send(now)
        assert gate.replies_in_flight() <= free + 1e-9
        now += step


def test_bound_explains_waiting_with_agents_but_no_room():
    bound = ReplyBound(2, 0, 0.1, 0.0, 3.0, True)
    assert bound.explain() == ("2 agents, 0 free places, reply rate 10%, 3.0 replies in "
                               "flight: texts wait")


def test_bad_settings_are_refused_naming_what():
    with pytest.raises(ValueError, match="prior reply rate"):
        ReplyGate(0.0)
    with pytest.raises(ValueError, match="reply window"):
        ReplyGate(0.1, 0)
