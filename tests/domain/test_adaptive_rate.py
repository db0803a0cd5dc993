"""The adaptive rate follows what a throttling carrier accepts (AIMD), with a fake clock."""

from __future__ import annotations

import math

import pytest

from proactive_sms.domain.adaptive_rate import AdaptiveRate
from proactive_sms.domain.spacing import EvenSpacer


class QuotaCarrier:
    """A carrier that accepts `quota` texts per whole second and throttles the rest (0x58)."""

    def __init__(self, quota: int) -> None:
        self.quota = quota
        self.seconds: dict[int, int] = {}

    def submit(self, at: float) -> bool:
        second = math.floor(at)
        if self.seconds.get(second, 0) >= self.quota:
            return False
        self.seconds[second] = self.seconds.get(second, 0) + 1
        return True


def drive(limit: float, quota: int, seconds: float, rtt_s: float = 0.005):
    """A lane with always more to send: the spacer at the adaptive rate; the carrier answers
    after `rtt_s`. Returns (accepted per second, the AdaptiveRate, rates sampled each second)."""
    adaptive, carrier = AdaptiveRate(limit), QuotaCarrier(quota)
    spacer = EvenSpacer(limit)
    now, accepted, samples, next_sample = 0.0, 0, [], 1.0
    while now < seconds:
        now = max(spacer.ready_at(1, now), adaptive.paused_until)
        spacer.consume(1, now)
        answered = now + rtt_s
        if carrier.submit(now):
            accepted += 1
            adaptive.accepted(1, answered)
        else:
            adaptive.throttled(now, answered)
        spacer.set_rate(adaptive.rate_at(answered))
        if now >= next_sample:
            samples.append(adaptive.rate_at(now))
            next_sample += 1.0
    return accepted / seconds, adaptive, samples


def test_a_code_whose_carrier_takes_40_of_its_100_per_second_settles_near_40():
    rate, adaptive, samples = drive(limit=100, quota=40, seconds=120)
    # Before: every throttled answer doubled the pause, up to 30 s: ~1.3 texts/s.
    assert rate >= 0.9 * 40
    assert all(36 <= r <= 42 for r in samples[10:]), samples
    assert adaptive.events < 60  # a tooth every few seconds, not one per throttled text


@pytest.mark.parametrize(("limit", "quota"), [(5, 3), (20, 19), (100, 70), (300, 100)])
def test_the_settled_rate_uses_most_of_what_the_carrier_accepts(limit, quota):
    rate, _, samples = drive(limit, quota, seconds=180)
    assert rate >= 0.88 * quota
    assert max(samples[30:]) <= quota * 1.1


def test_a_carrier_that_throttles_nothing_leaves_the_limit_alone():
    rate, adaptive, samples = drive(limit=50, quota=1000, seconds=20)
    assert adaptive.events == 0
    assert set(samples) == {50}
    assert rate == pytest.approx(50, rel=0.01)


def test_a_burst_of_throttled_answers_is_one_event():
    adaptive = AdaptiveRate(100)
    for i in range(40):
        adaptive.accepted(1, i * 0.01)
    first = adaptive.throttled(sent_at=0.40, now=0.405)
    assert first is not None and first.events == 1
    # The rest of that second's texts, sent before or just after the cut, are the same event.
    assert all(adaptive.throttled(sent_at=0.40 + i * 0.01, now=0.41 + i * 0.01) is None
               for i in range(60))
    assert adaptive.events == 1
    assert first.rate_before_per_s == 100
    assert first.rate_after_per_s == 50  # at most halved at once...
    assert first.pause_s == 0  # ...and no pause while the carrier accepts some


def test_the_cut_follows_what_the_carrier_accepted_in_the_last_second():
    adaptive = AdaptiveRate(100)
    adaptive.throttled(0.0, 0.0)  # 100 -> 50
    for i in range(40):
        adaptive.accepted(1, 2.0 + i * 0.02)
    event = adaptive.throttled(sent_at=2.8, now=2.81)
    assert event.rate_after_per_s == 40


def test_the_rate_climbs_back_slowly_to_the_limit_without_throttling():
    adaptive = AdaptiveRate(100)
    adaptive.throttled(0.0, 0.0)
    assert adaptive.rate_at(0.0) == 50
    assert adaptive.rate_at(10.0) == pytest.approx(55)  # +0.5% of the limit per second
    assert adaptive.rate_at(1000.0) == 100


def test_a_carrier_refusing_everything_pauses_the_code_longer_each_time():
    adaptive = AdaptiveRate(10, pause_s=1.0, max_pause_s=8.0)
    pauses, now = [], 0.0
    for _ in range(6):
        event = adaptive.throttled(now, now)
        pauses.append(event.pause_s)
        now = adaptive.paused_until + adaptive.hold_s
    assert pauses == [0, 1, 2, 4, 8, 8]
    assert adaptive.rate_at(now) >= adaptive.floor_per_s
    adaptive.accepted(1, now)
    assert adaptive.throttled(now, now).pause_s == 0  # one acceptance resets the pause


def test_a_lower_limit_lowers_the_rate_at_once():
    adaptive = AdaptiveRate(100)
    adaptive.set_limit(20)
    assert adaptive.rate_at(0.0) == 20


def test_a_stated_wait_pauses_the_code_that_long_and_cuts_deeper():
    waited, plain = AdaptiveRate(60), AdaptiveRate(60)
    for rate in (waited, plain):
        for i in range(40):  # the carrier took 40 in the last second
            rate.accepted(1, 0.5 + i * 0.01)
    event = waited.throttled(1.0, 1.0, wait_s=2.0)
    assert event is not None and event.pause_s == 2.0
    assert waited.paused_until == 3.0
    assert event.rate_after_per_s == pytest.approx(36.0)  # 90% of the 40 it took
    assert plain.throttled(1.0, 1.0).rate_after_per_s == 40  # no wait stated: what it took
    # The climb starts after the wait, and answers of texts sent during it are the same event.
    assert waited.rate_at(3.0) == pytest.approx(36.0)
    assert waited.throttled(2.5, 3.2, wait_s=2.0) is None
