"""The assignment rule and the waiting-time arithmetic, as tables of cases and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain.agent_assignment import (
    Availability,
    Candidate,
    choose_agent,
    first_answer_seconds,
    format_wait,
    waiting_seconds,
)

T0 = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
A, W, OFF = Availability.AVAILABLE, Availability.AWAY, Availability.OFFLINE


def c(agent_id, availability=A, open_=0, limit=None, idle_since=None):
    return Candidate(agent_id, availability, open_, limit, idle_since)


@pytest.mark.parametrize(("candidates", "previous", "expected"), [
    ([], None, None),  # a skill without agents: it waits
    ([c(1, W), c(2, OFF)], None, None),  # nobody available: it waits
    ([c(1, open_=2), c(2, open_=1), c(3, open_=3)], None, 2),  # the least busy
    ([c(1, open_=1, idle_since=T0), c(2, open_=1, idle_since=T0 - timedelta(minutes=5))],
     None, 2),  # equally busy: the longest idle
    ([c(1, open_=1, idle_since=T0), c(2, open_=1)], None, 2),  # never assigned is idlest
    ([c(2, open_=1), c(1, open_=1)], None, 1),  # then by id, whatever the order given
    ([c(1, open_=0), c(2, open_=5)], 2, 2),  # sticky: the agent who last had the number
    ([c(1, open_=0), c(2, W, open_=0)], 2, 1),  # ... unless away
    ([c(1, open_=0), c(2, open_=3, limit=3)], 2, 1),  # ... or full
    ([c(1, open_=0)], 9, 1),  # ... or not in the skill any more
    ([c(1, open_=2, limit=2), c(2, open_=7)], None, 2),  # a full agent is skipped
    ([c(1, open_=2, limit=2)], None, None),  # everyone full: it waits
])
def test_choose_agent(candidates, previous, expected):
    assert choose_agent(candidates, previous) == expected


candidates_st = st.lists(
    st.builds(Candidate, agent_id=st.integers(1, 50),
              availability=st.sampled_from(list(Availability)),
              open_conversations=st.integers(0, 10),
              max_open_conversations=st.none() | st.integers(1, 10),
              last_assigned_at=st.none() | st.integers(0, 1000).map(
                  lambda s: T0 + timedelta(seconds=s))),
    max_size=8, unique_by=lambda cand: cand.agent_id)


@given(candidates_st)
def test_the_chosen_agent_is_eligible_and_none_eligible_is_less_busy(candidates):
    chosen = choose_agent(candidates)
    eligible = [cand for cand in candidates if cand.eligible]
    if not eligible:
        assert chosen is None
        return
    (winner,) = [cand for cand in candidates if cand.agent_id == chosen]
    assert winner.eligible
    assert all(winner.open_conversations <= cand.open_conversations for cand in eligible)


@given(candidates_st, st.integers(1, 50))
def test_a_sticky_agent_is_kept_exactly_when_eligible(candidates, previous):
    chosen = choose_agent(candidates, previous)
    sticky = [cand for cand in candidates if cand.agent_id == previous and cand.eligible]
    if sticky:
        assert chosen == previous
    else:
        assert chosen == choose_agent(candidates)


def test_waiting_and_first_answer_times_mix_naive_and_aware_utc():
    naive = (T0 - timedelta(seconds=90)).replace(tzinfo=None)  # as SQLite gives it back
    assert waiting_seconds(naive, T0) == 90.0
    assert waiting_seconds(None, T0) is None
    assert first_answer_seconds(naive, T0) == 90.0
    assert first_answer_seconds(T0, None) is None


@pytest.mark.parametrize(("seconds", "shown"), [
    (None, "-"), (0, "0 s"), (59.9, "59 s"), (60, "1 min 0 s"), (3599, "59 min 59 s"),
    (3600, "1 h 00 min"), (3 * 3600 + 125, "3 h 02 min")])
def test_format_wait(seconds, shown):
    assert format_wait(seconds) == shown
