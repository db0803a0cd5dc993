"""When a webhook delivery that failed is tried again, and when we give up.

Exponential-ish backoff: 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h after attempts 1..7. The 8th
failed attempt is the last, about 22 hours after the first.
"""

from __future__ import annotations

from datetime import timedelta

RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def delay_after(attempts_made: int) -> timedelta | None:
    """How long to wait after `attempts_made` failed attempts; None: give up."""
    if attempts_made < 1:
        raise ValueError(f"attempts_made must be at least 1, got {attempts_made}")
    if attempts_made > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts_made - 1]
