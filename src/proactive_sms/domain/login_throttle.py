"""Sign-in throttling: when the failures of an account (or of an address) lock it, and until
when.

The promise: after `threshold` failed sign-ins in a row (for an account: no success between
them; for an address: any, since a guesser may own an account; all within `window`), the account
(or address) is locked for `base_lock`; each further failure once the lock ends doubles
the lock, up to `max_lock`. While locked, every attempt is refused without the password being
checked, so the right password does not help and an attacker learns nothing; such refused
attempts are not counted (otherwise a stranger could keep a person locked out for ever by trying
once a minute). Unknown usernames are throttled exactly like known ones, so the answers never
tell which usernames exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottleRule:
    threshold: int  # failures in a row that lock
    window: timedelta  # failures older than this are forgotten
    base_lock: timedelta
    max_lock: timedelta

    def locked_until(self, failures: Sequence[datetime], now: datetime) -> datetime | None:
        """The end of the lock the failures (oldest first, since the last success) impose, or
        None when they do not lock at `now`."""
        recent = [moment for moment in failures if moment > now - self.window]
        if len(recent) < self.threshold:
            return None
        doublings = len(recent) - self.threshold
        lock = min(self.base_lock * (2 ** min(doublings, 30)), self.max_lock)
        until = recent[-1] + lock
        return until if until > now else None


# Per account: five failures lock it for a minute, then 2, 4, 8... up to an hour.
ACCOUNT_RULE = ThrottleRule(5, timedelta(minutes=15), timedelta(minutes=1), timedelta(hours=1))
# Per address: looser, since a whole office may sign in from one address; it stops a guesser
# trying many usernames from one machine.
ADDRESS_RULE = ThrottleRule(20, timedelta(minutes=15), timedelta(minutes=1), timedelta(hours=1))


def wait_text(until: datetime, now: datetime) -> str:
    """'1 minute', '5 minutes': how long until the lock ends, rounded up."""
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return f"{minutes} minute" + ("" if minutes == 1 else "s")
