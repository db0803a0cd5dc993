"""Decisions reused by place and minute (domain.send_decisions) are decide_send's, text by text:
compared across a day and a half, at steps and at every moment a decision changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from proactive_sms.domain.calling_windows import SkillWindow
from proactive_sms.domain.send_decisions import SendDecisions
from proactive_sms.domain.send_timing import Recipient, TimingPolicy, Verdict, decide_send

START = datetime(2026, 3, 7, 0, 0, 5, tzinfo=UTC)  # a Saturday; US clocks change on the 8th
RECIPIENTS = [
    Recipient("+12125550123"),  # New York
    Recipient("+12125559876"),  # the same place, another number
    Recipient("+13055550123"),  # Florida: 08:00-20:00
    Recipient("+12125550123", time_zone="Pacific/Honolulu"),
    Recipient("+12125550123", expiration_date=date(2026, 3, 7)),
    Recipient("+80012345678"),  # no zone
]
POLICIES = [
    TimingPolicy(),
    TimingPolicy(expires_at=START + timedelta(hours=20, minutes=30, seconds=17),
                 window=SkillWindow.from_config({"weekday": "10:15-18:45", "weekend": "11:30-17:10",
                                                  "forbidden_days": ["sunday"]}),
                 skip_without_zone=False, default_zone="America/Chicago"),
]


def _moments() -> list[datetime]:
    steps = [START + timedelta(seconds=37 * n) for n in range(36 * 3600 // 37)]
    edges = set()
    for recipient in RECIPIENTS:
        for policy in POLICIES:
            for moment in steps[::20]:
                decision = decide_send(moment, recipient, policy)
                for edge in (decision.validity_until, decision.until):
                    if edge is not None:
                        edges |= {edge + timedelta(microseconds=d) for d in (-1, 0, 1)}
    return sorted(set(steps) | edges)


def test_reused_decisions_are_the_decisions_of_each_text() -> None:
    moments = _moments()
    for policy in POLICIES:
        decisions = SendDecisions()
        changes = 0
        for moment in moments:
            for recipient in RECIPIENTS:
                expected = decide_send(moment, recipient, policy)
                assert decisions.decide(moment, recipient, policy) == expected, (
                    moment, recipient, policy)
                changes += expected.verdict is Verdict.SEND
        assert 0 < changes < len(moments) * len(RECIPIENTS)  # both sides of windows were seen


def test_a_recipient_with_recent_texts_is_decided_alone() -> None:
    decisions = SendDecisions()
    florida, policy = Recipient("+13055550123"), TimingPolicy()
    noon = datetime(2026, 3, 10, 17, tzinfo=UTC)
    assert decisions.decide(noon, florida, policy).verdict is Verdict.SEND
    sent = [noon - timedelta(hours=h) for h in (1, 2, 3)]  # Florida's cap: 3 in 24 h
    assert decisions.decide(noon, florida, policy, sent).verdict is Verdict.WAIT
    assert decisions.decide(noon, florida, policy).verdict is Verdict.SEND
