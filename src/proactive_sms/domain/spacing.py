"""Spacing: a code's sends spread evenly inside the second, at the rate it may use now.

The sliding-window pacer (`pacing.py`) keeps the promise "never over the limit in any one-second
window", but it lets a whole second's worth leave at once: 100/s left as 100 PDUs in the first
~300 ms and then silence. Many carriers meter finer than a second (per 100 ms, per 10 ms) and
throttle such bursts. The spacer releases a send only on its schedule, one interval (1 / rate)
after the last, with a small burst tolerance so that fast codes can still claim a few texts per
transaction.

It is the generic cell rate algorithm (a virtual scheduling meter): `_due` is the moment the next
send is due; a send may leave up to `burst_s` early. A lane woken late (a busy event loop, a
descheduled process) keeps its schedule for up to `catch_up_s`: the sends it missed leave at
once rather than pushing every later send back (at 5/s, 50 ms late at each send cost 20% of the
rate). After longer idle time the missed sends are forgotten: the schedule restarts from now.

It does not guard the limit (the window pacer does, whatever the spacer says): its rate is the
adaptive one (`adaptive_rate.py`), below the code's limit when the carrier throttles.
"""

from __future__ import annotations

import math

DEFAULT_BURST_S = 0.02  # 100/s may leave 3 at once, 5/s one at a time
DEFAULT_CATCH_UP_S = 0.05


class EvenSpacer:
    """Releases weighted sends (segments or messages) one interval apart.

    Time is whatever monotonic seconds the caller passes in, so tests drive it with a fake clock.
    """

    def __init__(self, rate_per_s: float, burst_s: float = DEFAULT_BURST_S,
                 catch_up_s: float = DEFAULT_CATCH_UP_S) -> None:
        if burst_s < 0 or catch_up_s < 0:
            raise ValueError(f"burst and catch-up must be 0 s or more, got {burst_s}, "
                             f"{catch_up_s}")
        self.burst_s = burst_s
        self.catch_up_s = catch_up_s
        self._due = -math.inf
        self.set_rate(rate_per_s)

    def set_rate(self, rate_per_s: float) -> None:
        """Change the rate from the next send on (the schedule already set stays)."""
        if rate_per_s <= 0:
            raise ValueError(f"rate must be above 0 per second, got {rate_per_s}")
        self.rate_per_s = rate_per_s
        self.interval_s = 1.0 / rate_per_s
        # Lateness of up to two sends is caught up (a slow code woken late loses no send; a fast
        # one catches up at most `catch_up_s` worth).
        self._keep_s = max(self.catch_up_s, 2 * self.interval_s)
        # A burst is at least one send; the 1e-9 keeps 0.02 / 0.01 from flooring to 1.
        self.max_burst = math.floor(self.burst_s / self.interval_s + 1e-9) + 1

    def available(self, now: float) -> int:
        """How much weight may leave at `now` (0 before the next send is due)."""
        lead = now + self.burst_s - self._scheduled(now)
        if lead < 0:
            return 0
        return math.floor(lead / self.interval_s + 1e-9) + 1

    def ready_at(self, weight: int, now: float) -> float:
        """The earliest time at or after `now` when `weight` may leave.

        A weight above the burst (a 3-part text at 5/s) leaves alone when the next send is due,
        and pushes the schedule back by its whole weight.
        """
        need = min(weight, self.max_burst)
        return max(now, self._scheduled(now) - self.burst_s + (need - 1) * self.interval_s)

    def consume(self, weight: int, now: float) -> None:
        """Record a send of `weight` at `now`."""
        self._due = self._scheduled(now) + weight * self.interval_s

    def _scheduled(self, now: float) -> float:
        """When the next send is due: kept while we are at most `catch_up_s` (or two sends)
        late, else (idle) now."""
        return self._due if self._due >= now - self._keep_s else max(self._due, now)
