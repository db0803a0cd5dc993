"""The rate a transport code may use now: its limit, until the carrier says we are too fast.

A carrier that answers ESME_RTHROTTLED (0x58) accepts less than the code's configured limit. We
settle near what it accepts, additive-increase / multiplicative-decrease as TCP does:

- A throttle **event** cuts the rate to what the carrier accepted in the last second (it told us
  that much by accepting it), but never below half the rate nor above 95% of it.
- A burst of throttled answers is **one** event: answers for texts sent before the event, or in
  the `hold_s` after it (while the carrier's own window still counts what we sent at the old
  rate), say nothing new; those texts simply go again. (Counting each of them, as before,
  doubled the pause for every text of the burst: a 100/s code whose carrier took 40/s fell to
  ~1 text/s.)
- No pause on a first event: in the steady state the rate saw-tooths just under what the carrier
  accepts, and a pause at each tooth would cost more than the tooth. Only an event that follows
  another with nothing accepted between them (a carrier that refuses everything) pauses the
  code, `pause_s` doubling up to `max_pause_s`; one accepted text resets it.
- A carrier may state how long to wait (an HTTP provider's 429 with Retry-After): the event
  pauses at least that long, and, since every event then costs that wait, cuts to 90% of what
  it accepted (not 95%), so that the climb back meets its limit less often.
- Without throttling the rate climbs back slowly, `increase_per_s` each second, up to the limit:
  the carrier's capacity may come back, and we probe for it without bursting.

Never above the limit: the limit itself is kept by the window pacer, whatever this says.
Time is monotonic seconds passed in by the caller (a fake clock in tests).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

SMALLEST_CUT = 0.5  # an event never cuts below half the rate...
LARGEST_KEPT = 0.95  # ...and always cuts at least 5%
CLIMB_SHARE_PER_S = 0.005  # without throttling: +0.5% of the limit per second (100/s: +1 in 2 s)
FLOOR_SHARE = 0.01  # the rate never falls below 1% of the limit (or 0.1/s)
WAITED_KEPT = 0.9  # an event with a stated wait (Retry-After) keeps 90% of what was accepted


@dataclass(frozen=True)
class ThrottleEvent:
    """What one throttle event changed, for the log, the status and the metrics."""

    rate_before_per_s: float
    rate_after_per_s: float
    pause_s: float
    events: int  # events so far on this code


class AdaptiveRate:
    def __init__(self, limit_per_s: float, *, pause_s: float = 1.0, max_pause_s: float = 30.0,
                 hold_s: float = 1.0, increase_per_s: float | None = None) -> None:
        self.pause_s = pause_s
        self.hold_s = hold_s
        self.max_pause_s = max_pause_s
        self._increase_per_s = increase_per_s
        self.events = 0
        self._cut_to = limit_per_s  # the rate set by the last event
        self._climb_from = 0.0  # when the climb from `_cut_to` started (the event's pause end)
        self._hold_until = float("-inf")  # texts sent before this belong to the last event
        self.paused_until = 0.0  # the end of the last event's pause (if it had one)
        self._accepted_since_event = True
        self._next_pause_s = pause_s
        self._accepted: deque[tuple[float, int]] = deque()  # (time, weight) of the last second
        self._accepted_weight = 0
        self.set_limit(limit_per_s)

    def set_limit(self, limit_per_s: float) -> None:
        """The configured limit changed (or was first set): the rate stays under it."""
        self.limit_per_s = limit_per_s
        self.increase_per_s = (self._increase_per_s if self._increase_per_s is not None
                               else max(limit_per_s * CLIMB_SHARE_PER_S, 0.01))
        self.floor_per_s = min(limit_per_s, max(limit_per_s * FLOOR_SHARE, 0.1))
        self._cut_to = min(self._cut_to, limit_per_s)

    def rate_at(self, now: float) -> float:
        """The rate the code may use at `now`."""
        if self._cut_to >= self.limit_per_s:
            return self.limit_per_s
        climbed = self.increase_per_s * max(0.0, now - self._climb_from)
        return min(self.limit_per_s, self._cut_to + climbed)

    def accepted(self, weight: int, now: float) -> None:
        """The carrier accepted `weight` at `now`."""
        self._accepted.append((now, weight))
        self._accepted_weight += weight
        self._forget_before(now - 1.0)
        self._accepted_since_event = True

    def throttled(self, sent_at: float, now: float,
                  wait_s: float | None = None) -> ThrottleEvent | None:
        """The carrier throttled a text sent at `sent_at`: a new event (returned), or None when
        the text belongs to the event already being paid for. `wait_s`: how long the carrier
        told us to wait (an HTTP provider's Retry-After): the event pauses at least that long,
        and the rate climbs only after it."""
        if sent_at < self._hold_until:
            return None
        before = self.rate_at(now)
        self._forget_before(now - 1.0)
        taken = float(self._accepted_weight)  # what the carrier accepted in the last second
        kept = min(taken, before * LARGEST_KEPT)
        if wait_s:
            # Each event of a carrier that states a wait costs that wait in full: settle further
            # below what it accepts, so that the climb back meets its limit less often.
            kept = min(taken, before) * WAITED_KEPT
        after = max(self.floor_per_s, before * SMALLEST_CUT, kept)
        if self._accepted_since_event:
            pause, self._next_pause_s = 0.0, self.pause_s
        else:
            pause = self._next_pause_s
            self._next_pause_s = min(pause * 2, self.max_pause_s)
        pause = max(pause, wait_s or 0.0)
        self._accepted_since_event = False
        self._cut_to = after
        self.paused_until = self._climb_from = now + pause
        self._hold_until = now + pause + self.hold_s
        self.events += 1
        return ThrottleEvent(before, after, pause, self.events)

    def _forget_before(self, moment: float) -> None:
        while self._accepted and self._accepted[0][0] < moment:
            self._accepted_weight -= self._accepted.popleft()[1]
