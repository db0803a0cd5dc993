"""Pacing: never more than a transport code's limit in any one-second window.

A token bucket is not enough for that promise: a full bucket spent at once, followed by a second's
refill, puts nearly twice the limit into one second. We keep the recent sends instead (a sliding
window log) and release a send only when the sends of the last window, plus this one, fit the
limit. The window may be a little longer than a second (`margin_s`) so that the small jitter
between our decision and the moment the carrier receives the PDU cannot push two windows' worth
into one second as the carrier sees it. A caller that counts a send from before it leaves until
after its answer (the dispatcher's lanes do) covers that jitter itself and needs no margin.
"""

from __future__ import annotations

import math
from collections import deque


class SlidingWindowPacer:
    """Releases weighted sends (segments or messages) at most `limit` per window.

    A rate of 5/s is 5 per 1 s; a rate below 1/s (0.5/s) is 1 per 2 s. Time is whatever monotonic
    seconds the caller passes in, so tests drive it with a fake clock.
    """

    def __init__(self, rate_per_s: float, margin_s: float = 0.025) -> None:
        self.margin_s = margin_s
        self._sends: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self.set_rate(rate_per_s)

    def set_rate(self, rate_per_s: float) -> None:
        """Change the limit; the recent sends stay counted (a lower limit must count the last
        second's sends)."""
        if rate_per_s <= 0:
            raise ValueError(f"rate must be above 0 per second, got {rate_per_s}")
        self.rate_per_s = rate_per_s
        if rate_per_s >= 1:
            self.limit = math.floor(rate_per_s)
            self.window_s = 1.0 + self.margin_s
        else:
            self.limit = 1
            self.window_s = 1.0 / rate_per_s + self.margin_s

    def _expire(self, now: float) -> None:
        while self._sends and self._sends[0][0] <= now - self.window_s:
            self._in_window -= self._sends.popleft()[1]

    def available(self, now: float) -> int:
        """How much weight may be sent at `now`."""
        self._expire(now)
        return max(self.limit - self._in_window, 0)

    def ready_at(self, weight: int, now: float) -> float:
        """The earliest time at or after `now` when `weight` may be sent.

        A weight above the limit (a 3-part text on a 2/s code) may go only into an empty window;
        it then holds the following windows until its weight has been paid off.
        """
        self._expire(now)
        need = min(weight, self.limit)
        if self._in_window + need <= self.limit:
            return now
        freed = 0
        for sent_at, sent_weight in self._sends:
            freed += sent_weight
            if self._in_window - freed + need <= self.limit:
                return sent_at + self.window_s
        return now  # unreachable: freeing everything always fits `need`

    def consume(self, weight: int, now: float) -> None:
        """Record a send. The caller must have waited for ready_at(weight)."""
        self._expire(now)
        # Split an over-limit weight across consecutive windows so the limit holds on average.
        remaining = weight
        moment = now
        while remaining > 0:
            chunk = min(remaining, self.limit)
            self._sends.append((moment, chunk))
            self._in_window += chunk
            remaining -= chunk
            moment += self.window_s

    def recent(self, now: float) -> list[tuple[float, int]]:
        """The sends still in the window at `now` (moment, weight), oldest first: what a code's
        next holder must count when this pacer's worker hands the code over."""
        self._expire(now)
        return list(self._sends)

    def seed(self, sends: list[tuple[float, int]], now: float) -> None:
        """Count sends made elsewhere (another worker's, before a handover), at their moments on
        this pacer's clock; those already out of the window at `now` are dropped."""
        for moment, weight in sorted(sends):
            if moment > now - self.window_s:
                self._sends.append((moment, weight))
                self._in_window += weight
        # Keep the log in time order: seeded sends may be older than ones recorded here.
        self._sends = deque(sorted(self._sends))
