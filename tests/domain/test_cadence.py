"""The cadence's pure decisions: parsing with named problems, and where each outcome leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proactive_sms.domain import cadence
from proactive_sms.domain.cadence import CadenceError, Position, after_outcome, is_due
from proactive_sms.domain.clock import ManualClock

FIELDS = ("ExternalId", "FirstName", "PhoneNumber", "SMSPhoneNumber", "WorkPhone")

SALES = {
    "steps": [
        {"channel": "voice", "destination": "PhoneNumber", "max_attempts": 3,
         "rest_minutes": 60},
        {"channel": "sms", "destination": "SMSPhoneNumber", "after": ["answering_machine"],
         "template": "follow-up"},
        {"channel": "voice", "destination": "WorkPhone", "after": ["texted", "skipped"],
         "max_attempts": 2, "rest_minutes": 240},
    ],
    "dispositions": ["sale", "refused", "callback"],
    "ends_on": ["sale", "refused"],
}


def sales() -> cadence.Cadence:
    return cadence.parse(SALES, FIELDS)


def test_a_valid_cadence_parses_and_round_trips():
    parsed = sales()
    assert [s.channel.value for s in parsed.steps] == ["voice", "sms", "voice"]
    assert parsed.step(2).after == {"answering_machine"}
    assert cadence.parse(parsed.to_dict(), FIELDS) == parsed


@pytest.mark.parametrize("change, field, words", [
    (lambda d: d["steps"].clear(), "steps", "at least one step"),
    (lambda d: d["steps"][0].update(channel="fax"), "steps[1].channel", "voice or sms"),
    (lambda d: d["steps"][0].update(after=["busy"]), "steps[1].after", "starts"),
    (lambda d: d["steps"][1].update(after=[]), "steps[2].after", "earlier step"),
    (lambda d: d["steps"][1].update(after=["texted"]), "steps[2].after", "'texted'"),
    (lambda d: d["steps"][1].pop("template"), "steps[2].template", "needs a template"),
    (lambda d: d["steps"][0].update(template="x"), "steps[1].template", "sends no text"),
    (lambda d: d["steps"][1].update(max_attempts=2), "steps[2].max_attempts", "texts once"),
    (lambda d: d["steps"][0].update(max_attempts=0), "steps[1].max_attempts", "1..50"),
    (lambda d: d["steps"][0].update(rest_minutes=-5), "steps[1].rest_minutes", "0.."),
    (lambda d: d["steps"][0].update(rest_minutes=True), "steps[1].rest_minutes", "0.."),
    (lambda d: d["steps"][2].update(destination="Fax"), "steps[3].destination", "'Fax'"),
    (lambda d: d["steps"][0].update(colour="red"), "steps[1].colour", "unknown"),
    (lambda d: d.update(ends_on=["won"]), "ends_on", "'won'"),
    (lambda d: d.update(dispositions=["busy"]), "dispositions", "outcome of its own"),
    (lambda d: d.update(dispositions=["Big Sale"]), "dispositions", "not a name"),
])
def test_a_bad_cadence_names_the_field_and_the_reason(change, field, words):
    import copy

    data = copy.deepcopy(SALES)
    change(data)
    with pytest.raises(CadenceError) as caught:
        cadence.parse(data, FIELDS)
    assert any(p.field == field and words in p.reason for p in caught.value.problems), \
        caught.value.problems


def test_every_problem_is_named_at_once():
    with pytest.raises(CadenceError) as caught:
        cadence.parse({"steps": [{"channel": "sms"}, {"channel": "fax"}]}, FIELDS)
    fields = {p.field for p in caught.value.problems}
    assert {"steps[1].template", "steps[2].channel"} <= fields


def test_not_an_object_is_refused():
    with pytest.raises(CadenceError, match="cadence"):
        cadence.parse(["steps"], FIELDS)


NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("outcome, how, step, reason", [
    ("answering_machine", "next_step", 2, None),
    ("sale", "done", 1, "sale"),
    ("refused", "done", 1, "refused"),
    ("dnc", "done", 1, "dnc"),
    ("no_answer", "retry", 1, None),
    ("busy", "retry", 1, None),
    ("callback", "retry", 1, None),
    ("skipped", "next_step", 3, None),  # no number to call: the cadence moves on
])
def test_where_a_first_call_outcome_leads(outcome, how, step, reason):
    move = after_outcome(sales(), cadence.start(NOON), outcome, NOON)
    assert (move.how, move.position.step, move.position.done_reason) == (how, step, reason)


def test_an_sms_step_moves_on_whether_it_texted_or_skipped():
    on_sms = Position(2, 0, NOON)
    for outcome in ("texted", "skipped"):
        move = after_outcome(sales(), on_sms, outcome, NOON)
        assert (move.how, move.position) == ("next_step", Position(3, 0, NOON))


def test_rest_minutes_and_attempt_limits_hold_with_a_manual_clock():
    clock = ManualClock(NOON)
    steps = sales()
    position = cadence.start(clock.now())
    calls = []
    while not position.done:
        if not is_due(position, clock.now()):
            clock.advance(60)  # a dialer asking every minute
            continue
        calls.append(clock.now())
        position = after_outcome(steps, position, "no_answer", clock.now()).position
    assert len(calls) == 3  # max_attempts of step 1
    assert [b - a for a, b in zip(calls, calls[1:], strict=False)] == [timedelta(minutes=60)] * 2
    assert position.done_reason == "attempts_exhausted"


def test_not_due_before_the_rest_is_over():
    retry = after_outcome(sales(), cadence.start(NOON), "busy", NOON).position
    assert not is_due(retry, NOON + timedelta(minutes=59, seconds=59))
    assert is_due(retry, NOON + timedelta(minutes=60))


def test_the_last_voice_step_runs_out_of_attempts():
    position = Position(3, 0, NOON)
    first = after_outcome(sales(), position, "no_answer", NOON).position
    assert (first.attempts, first.due_at) == (1, NOON + timedelta(minutes=240))
    assert after_outcome(sales(), first, "no_answer", NOON).position.done_reason == \
        "attempts_exhausted"


def test_an_sms_step_with_nothing_after_completes_the_cadence():
    steps = cadence.parse({"steps": [
        {"channel": "voice"},
        {"channel": "sms", "after": ["answering_machine"], "template": "t"},
    ]}, FIELDS)
    move = after_outcome(steps, Position(2, 0, NOON), "texted", NOON)
    assert move.position.done_reason == "cadence_complete"


def test_a_done_record_stays_done():
    done = Position(1, 1, None, "sale")
    assert after_outcome(sales(), done, "answering_machine", NOON).position == done
    assert not is_due(done, NOON)
