"""Each fault knob of the provider simulator, one at a time, through the real dispatcher: every
text ends in a clear state, none reaches the provider twice, and the code's limit holds in every
one-second window (as the provider saw the texts arrive)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.services.test_throttling import most_in_any

RATE = 20  # texts/s: 50 texts take 2.5 s, over several one-second windows
TEXTS = 50

# knob settings -> the states every text may end in
FAULTS = {
    "slow_answers": ({"slow_answer_s": 0.3}, {"delivered"}),
    # The provider took the text but its answer never came (held past our timeout): uncertain,
    # unless its callback settles it (a receipt matched on number and time).
    "lost_answers": ({"lost_answer_every": 7, "lost_hold_s": 3.0}, {"delivered", "uncertain"}),
    # 500 after taking the text: never sent again.
    "5xx": ({"error_5xx_every": 6}, {"delivered", "uncertain"}),
    "delayed_callbacks": ({"callback_delay_s": 1.5}, {"delivered"}),
    "duplicate_callbacks": ({"duplicate_callbacks": True}, {"delivered"}),
    # The final status first, before the submit is even answered: held until its id is stored.
    "out_of_order_callbacks": ({"out_of_order_callbacks": True}, {"delivered"}),
    "bad_signatures": ({"bad_signatures": True}, {"sent"}),
    # 429 with Retry-After above 12/s: slowed down, sent later, never twice.
    "throttling": ({"throttle_above_per_s": 12, "retry_after_s": 0.5}, {"delivered"}),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_each_fault_ends_every_text_clearly_and_none_twice(http_world, fault):
    knobs, allowed = FAULTS[fault]
    w = http_world
    w.provider.configure(**knobs)
    w.http_connection()
    w.code("55501", rate=RATE)
    w.people("people", TEXTS)
    skill = w.skill("notice", "55501", "people", "Hello {FirstName}")

    await w.run_until_idle(grace_s=4.0, timeout_s=90)

    states = w.states(skill)
    assert sum(states.values()) == TEXTS
    assert set(states) <= allowed, (fault, states, w.details(skill))
    assert not w.sent_twice(), w.sent_twice()
    taken = w.provider.accepted()
    # Every text that the provider took is a text we have (none lost in between).
    assert len(taken) == TEXTS - states.get("failed", 0)
    assert most_in_any([a.monotonic_s for a in taken], 1.0) <= RATE
    stats = w.provider.stats()
    if fault == "5xx":
        assert states["uncertain"] + states["delivered"] == TEXTS
        assert stats["refused"]["500"] >= 1
        uncertain = [r for r in w.rows(skill) if r.state == "uncertain"]
        assert all("provider error HTTP 500" in r.detail for r in uncertain)
    if fault == "lost_answers":
        assert any(a.answered == "lost" for a in taken)
    if fault == "duplicate_callbacks":
        assert stats["callbacks"]["posted"] == 4 * TEXTS
        assert len(w.callbacks()) == 2 * TEXTS  # each stored once
    if fault == "throttling":
        assert stats["refused"]["20429"] >= 1


async def test_refusals_are_classified_and_an_unsubscribed_number_goes_on_the_dnc_list(
        http_world):
    from proactive_sms.store import dnc

    w = http_world
    w.http_connection()
    w.code("55501", rate=100)
    w.people("people", 6)
    skill = w.skill("notice", "55501", "people", "Hello")
    numbers = sorted(r.destination for r in w.rows(skill))
    w.provider.configure(refuse={numbers[0]: 21211, numbers[1]: 21610, numbers[2]: 21614},
                         undeliverable={numbers[3]: 30003, numbers[4]: 30006})

    await w.run_until_idle(grace_s=2.0)

    by_number = {r.destination: r for r in w.rows(skill)}
    assert (by_number[numbers[0]].state, by_number[numbers[0]].error_code) == ("failed", 21211)
    assert "invalid 'To' number" in by_number[numbers[0]].detail
    assert (by_number[numbers[1]].state, by_number[numbers[1]].error_code) == ("failed", 21610)
    assert (by_number[numbers[2]].state, by_number[numbers[2]].error_code) == ("failed", 21614)
    assert "not a mobile number" in by_number[numbers[2]].detail
    assert (by_number[numbers[3]].state, by_number[numbers[3]].error_code) == (
        "undeliverable", 30003)
    assert (by_number[numbers[4]].state, by_number[numbers[4]].error_code) == (
        "undeliverable", 30006)
    assert by_number[numbers[5]].state == "delivered"
    # A refused text was tried once: permanent refusals are not retried.
    assert Counter(w.provider.refused) == Counter({"21211": 1, "21610": 1, "21614": 1})
    with w.engine.connect() as conn:
        list_id = dnc.find_list(conn, w.bu.tenant_id).id
        assert dnc.is_on_list(conn, list_id, numbers[1])
        assert not dnc.is_on_list(conn, list_id, numbers[0])
