"""Whether one text may leave now: calling window, expiry, validity and frequency cap together.

The dispatcher asks this for each text it is about to claim. The answer is SEND (with the moment
after which the carrier must not deliver it), WAIT (with when to look again: the text keeps its
place and others move past it), EXPIRE (with the reason) or SKIP (no time zone could be found and
the skill says to skip such records).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from proactive_sms.domain import calling_windows
from proactive_sms.domain.calling_windows import DEFAULT_RULES, Rules, SkillWindow
from proactive_sms.domain.phone import region_of
from proactive_sms.domain.time_zones import resolve_zones, us_state_for, zone_info

DAY = timedelta(hours=24)


class Verdict(enum.StrEnum):
    SEND = "send"
    WAIT = "wait"
    EXPIRE = "expire"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class SendDecision:
    verdict: Verdict
    reason: str
    until: datetime | None = None  # WAIT: when to look again
    validity_until: datetime | None = None  # SEND: the carrier must not deliver after it
    waits_for: str | None = None  # WAIT: "window" or "frequency_cap" (a text's history says)


@dataclass(frozen=True)
class TimingPolicy:
    """A skill's timing settings, with the law's rules and the BU's frequency cap."""

    window: SkillWindow = SkillWindow()
    rules: Rules = DEFAULT_RULES
    skip_without_zone: bool = True  # else use default_zone
    default_zone: str | None = None
    expires_at: datetime | None = None  # the skill's message validity (launch + hours)
    cap_per_24h: int | None = None  # the BU's own cap; stricter state rules apply on top


@dataclass(frozen=True, slots=True)
class Recipient:
    destination: str  # E.164
    time_zone: str | None = None
    postal_code: str | None = None
    expiration_date: date | None = None


class Place(NamedTuple):  # a tuple: made and hashed for every text (send_decisions)
    """Where a recipient is, as far as the timing of a text goes: the number, its record's time
    zone and postal code say no more than this."""

    zones: tuple[str, ...]  # none found: empty
    zones_detail: str  # how they were found, or why none was
    state: str | None  # US state (or territory), when known
    country: str


def place_of(recipient: Recipient) -> Place:
    resolution = resolve_zones(recipient.time_zone, recipient.postal_code, recipient.destination)
    return Place(resolution.zones, resolution.detail,
                 us_state_for(recipient.postal_code, recipient.destination),
                 region_of(recipient.destination) or "US")


def decide_send(now: datetime, recipient: Recipient, policy: TimingPolicy,
                sent_last_24h: Sequence[datetime] = ()) -> SendDecision:
    """The decision at `now` (timezone-aware UTC) for one text to `recipient`.

    `sent_last_24h`: when this recipient was texted by the BU's skills in the last 24 hours.
    """
    return decide_at_place(now, place_of(recipient), recipient.expiration_date, policy,
                           sent_last_24h)


def decide_at_place(now: datetime, place: Place, expiration_date: date | None,
                    policy: TimingPolicy, sent_last_24h: Sequence[datetime] = ()) -> SendDecision:
    """decide_send for a recipient at `place` whose record expires after `expiration_date`:
    the same decision for every recipient with the same place and date."""
    zones = place.zones
    if not zones:
        if policy.skip_without_zone or not policy.default_zone:
            return SendDecision(Verdict.SKIP, f"no time zone found ({place.zones_detail})")
        zones = (policy.default_zone,)

    deadlines = [(policy.expires_at, "the skill's message validity ran out")]
    if expiration_date is not None:
        # The record expires at the end of its ExpirationDate, in the recipient's own zone.
        local_end = datetime.combine(expiration_date + timedelta(days=1), time(0),
                                     tzinfo=zone_info(zones[0]))
        deadlines.append((local_end.astimezone(UTC), "the record's ExpirationDate passed"))
    deadlines = sorted((d for d in deadlines if d[0] is not None), key=lambda d: d[0])
    for deadline, why in deadlines:
        if now >= deadline:
            return SendDecision(Verdict.EXPIRE, why)
    hard_deadline = deadlines[0][0] if deadlines else None

    state, country = place.state, place.country
    cap = calling_windows.frequency_cap_for(state, policy.rules, policy.cap_per_24h, country)
    recent = sorted(t for t in sent_last_24h if t > now - DAY)
    if cap is not None and len(recent) >= cap:
        free_at = recent[-cap] + DAY  # when the oldest of the last `cap` texts leaves the 24 h
        return _wait_or_expire(free_at, hard_deadline,
                               f"frequency cap: {cap} texts in 24 hours"
                               + (f" ({state})" if state else ""), "frequency_cap")

    window = calling_windows.decide(now, zones, state, policy.window, policy.rules, country)
    if not window.allowed_now:
        if window.next_open is None:
            return SendDecision(Verdict.EXPIRE, f"no calling window ahead: {window.reason}")
        return _wait_or_expire(window.next_open, hard_deadline, window.reason, "window")
    candidates = [t for t in (window.closes_at, hard_deadline) if t is not None]
    return SendDecision(Verdict.SEND, window.reason,
                        validity_until=min(candidates) if candidates else None)


def _wait_or_expire(until: datetime, deadline: datetime | None, reason: str,
                    waits_for: str) -> SendDecision:
    if deadline is not None and until >= deadline:
        return SendDecision(Verdict.EXPIRE, f"{reason}; it would open only after the text expires")
    return SendDecision(Verdict.WAIT, reason, until=until, waits_for=waits_for)
