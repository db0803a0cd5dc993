"""Send-time decisions shared by the recipients of one place, within a minute.

A claim asks for the decision of every text it takes (services.dispatch). Most recipients of a
batch share a place (zones, state, country: domain.send_timing.Place) and a skill's policy, and
the decision depends on nothing else but the moment, the record's ExpirationDate and the
recipient's texts of the last 24 hours. So a decision is reused for the same policy, place and
date, with no recent texts (a recipient who has some is decided alone), within the same UTC
minute and before the moment it would change: a SEND until its validity ends (the window's
close or a deadline), a WAIT until it is due again (an EXPIRE is not kept). The answers are
those of decide_send, text by text (tests/domain/test_send_decisions.py compares them across a
day and a half, at every moment a decision changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from proactive_sms.domain.send_timing import (
    Recipient,
    SendDecision,
    TimingPolicy,
    Verdict,
    decide_at_place,
    place_of,
)

_NEVER = datetime.max.replace(tzinfo=UTC)


class SendDecisions:
    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit  # entries kept at most (then forgotten all at once)
        # (policy id, place, ExpirationDate) -> (policy, minute, changes at, decision)
        self._known: dict[tuple, tuple[TimingPolicy, datetime, datetime, SendDecision]] = {}

    def decide(self, now: datetime, recipient: Recipient, policy: TimingPolicy,
               sent_last_24h: Sequence[datetime] = ()) -> SendDecision:
        """decide_send(now, recipient, policy, sent_last_24h), reused where it is the same."""
        place = place_of(recipient)
        if sent_last_24h:
            return decide_at_place(now, place, recipient.expiration_date, policy, sent_last_24h)
        key = (id(policy), place, recipient.expiration_date)
        minute = now.replace(second=0, microsecond=0)
        known = self._known.get(key)
        if (known is not None and known[0] is policy and known[1] == minute
                and now < known[2]):
            return known[3]
        decision = decide_at_place(now, place, recipient.expiration_date, policy)
        changes_at = _changes_at(decision)
        if changes_at is not None:
            if len(self._known) >= self._limit:
                self._known.clear()
            self._known[key] = (policy, minute, changes_at, decision)
        return decision


def _changes_at(decision: SendDecision) -> datetime | None:
    """From when the same decision may no longer hold (at the latest: the next minute); None:
    not kept (an EXPIRE is rare, and its reason changes at the deadline it does not name)."""
    if decision.verdict is Verdict.SEND:
        return decision.validity_until or _NEVER
    if decision.verdict is Verdict.WAIT:
        return decision.until or _NEVER
    if decision.verdict is Verdict.SKIP:  # no zone: the moment does not matter
        return _NEVER
    return None
