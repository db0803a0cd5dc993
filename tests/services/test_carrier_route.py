"""A code's route over its connections: which one a group goes through, when it switches and when
it comes back (carrier stand-ins that are only a link state; the breakers are the real ones on a
manual clock)."""

from __future__ import annotations

from dataclasses import dataclass

from proactive_sms.carriers.base import SubmitResult, SubmitStatus
from proactive_sms.domain.circuit_breaker import BreakerPolicy, CircuitBreaker, Permit
from proactive_sms.domain.clock import ManualClock
from proactive_sms.services.carrier_route import CarrierRoute, Leg

POLICY = BreakerPolicy(failure_threshold=2, cool_down_s=5.0, max_cool_down_s=20.0)


@dataclass
class Link:
    bound: bool = True
    last_error: str | None = None

    def drop(self, error: str = "session ended by the SMSC or the network") -> None:
        self.bound, self.last_error = False, error

    def bind(self) -> None:
        self.bound, self.last_error = True, None


def route(*links: Link) -> tuple[CarrierRoute, ManualClock]:
    clock = ManualClock()
    legs = [Leg(i + 1, f"c{i + 1}", link, None, CircuitBreaker(clock, POLICY))
            for i, link in enumerate(links)]
    return CarrierRoute(7, "55501", legs), clock


def answer(status: SubmitStatus) -> SubmitResult:
    return SubmitResult(1, status)


def picked(r: CarrierRoute) -> tuple[str, Permit] | None:
    found = r.pick()
    return None if found is None else (found[0].name, found[1])


def test_texts_go_through_the_first_connection_while_it_is_up():
    r, _ = route(Link(), Link())
    assert picked(r) == ("c1", Permit.NORMAL)
    assert [(s.after, s.failover) for s in r.switches] == [(1, False)]


def test_a_lost_link_moves_texts_to_the_next_and_a_probe_brings_them_back():
    first, second = Link(), Link()
    r, clock = route(first, second)
    picked(r)
    first.drop()
    assert picked(r) == ("c2", Permit.NORMAL)
    assert r.switches[-1].failover and r.switches[-1].before == 1
    first.bind()
    clock.advance(4)
    assert picked(r) == ("c2", Permit.NORMAL)  # cooling down: the second goes on
    clock.advance(1)
    leg, permit = r.pick()
    assert (leg.name, permit) == ("c1", Permit.PROBE)
    assert picked(r) == ("c2", Permit.NORMAL)  # the probe is out: the rest still go second
    r.answered(leg, answer(SubmitStatus.ACCEPTED))
    assert picked(r) == ("c1", Permit.NORMAL)
    assert r.switches[-1].came_back
    assert sum(s.failover for s in r.switches) == sum(s.came_back for s in r.switches) == 1


def test_a_refusal_still_proves_the_link_works_but_silence_opens_the_breaker():
    r, _ = route(Link(), Link())
    leg, _ = r.pick()
    r.answered(leg, answer(SubmitStatus.PERMANENT))
    r.answered(leg, answer(SubmitStatus.UNCERTAIN))
    r.answered(leg, answer(SubmitStatus.THROTTLED))
    r.answered(leg, answer(SubmitStatus.UNCERTAIN))
    assert picked(r) == ("c1", Permit.NORMAL)
    r.answered(leg, answer(SubmitStatus.UNCERTAIN))
    assert picked(r) == ("c2", Permit.NORMAL)
    assert leg.breaker.reason == "no answer"


def test_a_text_not_sent_because_the_link_dropped_opens_it_with_the_reason():
    first = Link()
    r, _ = route(first, Link())
    leg, _ = r.pick()
    first.drop("bind refused: wrong password (ESME_RINVPASWD, 0x0000000E)")
    r.answered(leg, answer(SubmitStatus.NOT_SENT))
    assert leg.breaker.reason == "bind refused"
    assert picked(r) == ("c2", Permit.NORMAL)


def test_a_link_still_binding_for_the_first_time_is_skipped_not_opened():
    first = Link(bound=False)
    r, _ = route(first, Link())
    assert picked(r) == ("c2", Permit.NORMAL)
    assert r.legs[0].breaker.state.value == "closed"
    first.bind()
    assert picked(r) == ("c1", Permit.NORMAL)  # no cool-down: it never failed


def test_with_every_link_down_nothing_is_picked_and_the_last_bound_one_is_probed_at_once():
    first, second = Link(), Link()
    r, _ = route(first, second)
    picked(r)
    first.drop()
    second.drop()
    assert r.pick() is None
    assert r.carrying is None
    second.bind()
    assert picked(r) == ("c2", Permit.PROBE)  # nowhere else to send: no cool-down


def test_a_probe_that_was_not_sent_lets_the_next_text_probe():
    first = Link()
    r, clock = route(first, Link())
    first.drop()
    r.pick()
    first.bind()
    clock.advance(5)
    leg, permit = r.pick()
    assert permit is Permit.PROBE
    r.unused(leg, permit)
    assert picked(r) == ("c1", Permit.PROBE)


def test_the_tick_tells_which_connection_carries_while_nothing_is_sent():
    first = Link()
    r, _ = route(first, Link())
    r.observe_links()
    assert r.carrying.name == "c1"
    first.drop()
    r.observe_links()
    assert r.carrying.name == "c2" and r.switches[-1].failover
