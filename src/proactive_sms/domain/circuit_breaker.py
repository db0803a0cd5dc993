"""A circuit breaker per carrier connection: when to stop sending through it, and when to try again.

The promise: a connection that is down (its bind refused, its session lost) or that stops
answering (`failure_threshold` timeouts or uncertain answers in a row) carries no more texts,
so a registration's next connection takes them (services.carrier_route). After `cool_down_s`
one text is let through as a probe (half-open); if the carrier answers it the breaker closes and
traffic comes back, otherwise it opens again for twice as long (up to `max_cool_down_s`), so a
connection that keeps failing is not probed every few seconds.

Why a probe and not "bound again means healthy": an SMSC can accept a bind and then answer no
submit (overloaded, a half-dead proxy); only an answered submit proves the path works. A probe
risks one text at most, and that text stays with its connection whatever happens to it (an
uncertain answer is never re-sent elsewhere: the dispatcher's rule, not the breaker's).

Pure: the caller passes nothing but events; time comes from the injected clock's monotonic().
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from proactive_sms.domain.clock import Clock


class BreakerState(enum.StrEnum):
    CLOSED = "closed"  # texts flow
    OPEN = "open"  # no texts until the cool-down has passed
    HALF_OPEN = "half_open"  # one probe text at a time decides: closed again or open again


class OpenReason(enum.StrEnum):
    """Why a breaker opened, as the status pages and logs say it."""

    BIND_REFUSED = "bind refused"
    CONNECTION_LOST = "connection lost"
    NO_ANSWER = "no answer"  # failure_threshold timeouts/uncertain answers in a row
    PROBE_FAILED = "probe failed"


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 3  # timeouts/uncertain answers in a row that open it
    cool_down_s: float = 5.0  # open this long before the first probe
    max_cool_down_s: float = 60.0  # a probe that fails doubles the cool-down up to this

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if not 0 < self.cool_down_s <= self.max_cool_down_s:
            raise ValueError("cool_down_s must be positive and at most max_cool_down_s")


@dataclass(frozen=True)
class Transition:
    """A change of state, for the log line and the status row."""

    before: BreakerState
    after: BreakerState
    reason: str
    at_s: float  # the clock's monotonic seconds


class Permit(enum.StrEnum):
    NORMAL = "normal"  # closed: as many texts as the window and the pacer allow
    PROBE = "probe"  # half-open: exactly one text, whose answer decides


class CircuitBreaker:
    def __init__(self, clock: Clock, policy: BreakerPolicy | None = None) -> None:
        self.clock = clock
        self.policy = policy or BreakerPolicy()
        self.state = BreakerState.CLOSED
        self.reason = ""  # why it is in this state (empty while closed from the start)
        self.since_s = clock.monotonic()
        self.failures_in_row = 0
        self.cool_down_s = self.policy.cool_down_s
        self.probe_out = False  # half-open: a probe text is on its way
        self.opened = 0  # times it opened, for the status

    # --- asking ------------------------------------------------------------------------------

    def permit(self, link_up: bool = True, skip_cool_down: bool = False) -> Permit | None:
        """May a text go through now, and how (None: no). `link_up`: the connection is bound;
        a breaker whose cool-down has passed probes only a bound connection, and a closed one
        with its link down opens (the carrier lost it between two events).

        `skip_cool_down`: probe now if the link is up, for a caller with nowhere else to send
        (the last connection of a route): waiting would protect nothing, and a probe still
        risks one text at a time until the carrier answers."""
        if self.state is BreakerState.CLOSED:
            if not link_up:
                self.link_down(OpenReason.CONNECTION_LOST)
                return None
            return Permit.NORMAL
        if not link_up:
            return None
        if self.state is BreakerState.OPEN:
            if (not skip_cool_down
                    and self.clock.monotonic() - self.since_s < self.cool_down_s):
                return None
            self._move(BreakerState.HALF_OPEN, "cool-down over: probing")
        if self.probe_out:
            return None
        self.probe_out = True
        return Permit.PROBE

    def observe(self, link_up: bool, reason: OpenReason = OpenReason.CONNECTION_LOST
                ) -> Transition | None:
        """What the carrier says of its link between texts: a link that is down opens it."""
        return None if link_up else self.link_down(reason)

    def retry_in_s(self) -> float:
        """Seconds until a probe may be tried (0 when it may now or the breaker is closed)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.since_s + self.cool_down_s - self.clock.monotonic())

    # --- telling what happened ----------------------------------------------------------------

    def answered(self) -> Transition | None:
        """The carrier answered a submit (accepted or refused it: either way the path works)."""
        self.failures_in_row = 0
        if self.state is BreakerState.HALF_OPEN:
            self.probe_out = False
            self.cool_down_s = self.policy.cool_down_s
            return self._move(BreakerState.CLOSED, "probe answered")
        return None

    def no_answer(self) -> Transition | None:
        """A submit timed out or its answer was lost (uncertain)."""
        if self.state is BreakerState.HALF_OPEN:
            return self._reopen(OpenReason.PROBE_FAILED)
        if self.state is BreakerState.OPEN:
            return None
        self.failures_in_row += 1
        if self.failures_in_row >= self.policy.failure_threshold:
            return self._open(OpenReason.NO_ANSWER)
        return None

    def link_down(self, reason: OpenReason = OpenReason.CONNECTION_LOST) -> Transition | None:
        """The bind was refused or the session was lost: open at once (a probe that was out
        counts as failed)."""
        if self.state is BreakerState.HALF_OPEN:
            return self._reopen(OpenReason.PROBE_FAILED if reason is OpenReason.NO_ANSWER
                                else reason)
        if self.state is BreakerState.OPEN:
            return None
        return self._open(reason)

    def probe_unused(self) -> None:
        """The probe text was not sent after all (its claim dropped it: DNC, a stopped skill):
        another text may probe."""
        if self.state is BreakerState.HALF_OPEN:
            self.probe_out = False

    # --- inside -------------------------------------------------------------------------------

    def _open(self, reason: OpenReason) -> Transition:
        self.cool_down_s = self.policy.cool_down_s
        return self._opened(reason)

    def _reopen(self, reason: OpenReason) -> Transition:
        self.cool_down_s = min(self.cool_down_s * 2, self.policy.max_cool_down_s)
        return self._opened(reason)

    def _opened(self, reason: OpenReason) -> Transition:
        self.probe_out = False
        self.failures_in_row = 0
        self.opened += 1
        return self._move(BreakerState.OPEN, reason.value)

    def _move(self, state: BreakerState, reason: str) -> Transition:
        change = Transition(self.state, state, reason, self.clock.monotonic())
        self.state, self.reason, self.since_s = state, reason, change.at_s
        return change
