"""One text's send-time decision, at chosen instants: window, expiry, validity, frequency cap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from proactive_sms.domain.send_timing import Recipient, TimingPolicy, Verdict, decide_send

NEW_YORK = "+12125550123"
MIAMI = "+13055550123"  # Florida: 08:00-20:00 and 3 texts per 24 h


def utc(hour: int, minute: int = 0, day: int = 14) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)  # January: New York is UTC-5


def test_inside_the_window_it_sends_and_the_carrier_may_not_deliver_after_close():
    decision = decide_send(utc(15), Recipient(NEW_YORK), TimingPolicy())
    assert decision.verdict is Verdict.SEND
    assert decision.validity_until == utc(21 + 5 - 24, day=15)  # 21:00 New York = 02:00 UTC


def test_before_the_window_it_waits_until_it_opens():
    decision = decide_send(utc(11), Recipient(NEW_YORK), TimingPolicy())  # 06:00 in New York
    assert decision.verdict is Verdict.WAIT
    assert decision.until == utc(13)  # 08:00 in New York
    assert decision.waits_for == "window"  # what a number's history says it waited for


def test_florida_closes_at_eight_and_caps_three_a_day():
    assert decide_send(utc(1, day=15), Recipient(MIAMI), TimingPolicy()).verdict is Verdict.WAIT
    sent = [utc(14), utc(15), utc(16)]
    capped = decide_send(utc(17), Recipient(MIAMI), TimingPolicy(), sent)
    assert capped.verdict is Verdict.WAIT and "frequency cap" in capped.reason
    assert capped.until == utc(14, day=15)
    assert capped.waits_for == "frequency_cap"
    # New York has no state cap: the BU's own cap applies when set
    assert decide_send(utc(17), Recipient(NEW_YORK), TimingPolicy(), sent).verdict is Verdict.SEND
    limited = TimingPolicy(cap_per_24h=2)
    assert decide_send(utc(17), Recipient(NEW_YORK), limited, sent).verdict is Verdict.WAIT


def test_a_time_zone_field_wins_over_the_area_code():
    honolulu = Recipient(NEW_YORK, time_zone="Pacific/Honolulu")  # UTC-10
    assert decide_send(utc(15), honolulu, TimingPolicy()).verdict is Verdict.WAIT  # 05:00 there
    assert decide_send(utc(19), honolulu, TimingPolicy()).verdict is Verdict.SEND  # 09:00


def test_no_zone_is_skipped_or_uses_the_default_zone():
    nowhere = Recipient("+80012345678")
    assert decide_send(utc(15), nowhere, TimingPolicy()).verdict is Verdict.SKIP
    fallback = TimingPolicy(skip_without_zone=False, default_zone="America/Chicago")
    assert decide_send(utc(15), nowhere, fallback).verdict is Verdict.SEND


def test_expiration_date_and_skill_validity_end_waiting_texts():
    expired = Recipient(NEW_YORK, expiration_date=date(2026, 1, 13))
    assert decide_send(utc(15), expired, TimingPolicy()).verdict is Verdict.EXPIRE
    last_day = Recipient(NEW_YORK, expiration_date=date(2026, 1, 14))
    sent = decide_send(utc(15), last_day, TimingPolicy())
    assert sent.verdict is Verdict.SEND
    policy = TimingPolicy(expires_at=utc(12))
    assert decide_send(utc(12), Recipient(NEW_YORK), policy).verdict is Verdict.EXPIRE
    # waiting for a window that opens only after the validity ends: expired, not waiting
    policy = TimingPolicy(expires_at=utc(12, 30))
    assert decide_send(utc(11), Recipient(NEW_YORK), policy).verdict is Verdict.EXPIRE


def test_validity_is_the_earliest_of_window_close_and_expiry():
    policy = TimingPolicy(expires_at=utc(16))
    decision = decide_send(utc(15), Recipient(NEW_YORK), policy)
    assert decision.validity_until == utc(16)
    assert decision.validity_until - utc(15) == timedelta(hours=1)
