"""The cadence service on the real store (SQLite, and PostgreSQL where set): the dialer's
next attempts, its outcomes, SMS steps through launch's rules, STOP, limits with a ManualClock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from proactive_sms.carriers.base import InboundText
from proactive_sms.domain.cadence import CadenceError
from proactive_sms.services import administration, cadences, launching
from proactive_sms.services.cadences import OutcomeIn, OutcomeRefused
from proactive_sms.services.inbound import InboundService
from proactive_sms.store import messages
from proactive_sms.store.schema import message
from proactive_sms.store.skills import SkillStatus
from tests.factories import person, write_csv

CADENCE = {
    "steps": [
        {"channel": "voice", "destination": "PhoneNumber", "max_attempts": 2,
         "rest_minutes": 30},
        {"channel": "sms", "destination": "SMSPhoneNumber", "after": ["answering_machine"],
         "template": "sorry-we-missed-you"},
    ],
    "dispositions": ["sale", "refused"],
    "ends_on": ["sale", "refused"],
}


def agent_skill(engine, bu, clock, tmp_path, rows, cadence=CADENCE, start=True):
    from proactive_sms.services import importing

    path = write_csv(tmp_path / "customers.csv", rows)
    importing.import_calling_list(engine, bu, "customers", path, clock)
    administration.add_registration(engine, bu, clock, code="55502", kind="short",
                                    throughput_per_s=50, connection=None, dnc_group=None,
                                    solution="sms_messaging")
    administration.save_template(engine, bu, clock, "sorry-we-missed-you",
                                 "Hi {FirstName}, sorry we missed you. Reply to chat.")
    skill = administration.create_skill(engine, bu, clock, name="sales", registration="55502",
                                        calling_list="customers", kind="agent")
    cadences.define(engine, bu, clock, "sales", cadence)
    if start:
        launching.start_skill(engine, skill.id, clock)
    return skill


def report(engine, bu, clock, *items):
    return cadences.report_outcomes(engine, bu, clock, "sales",
                                    [OutcomeIn(*item) for item in items])


def skill_texts(engine, skill_id):
    with engine.connect() as conn:
        return conn.execute(select(message.c.record_id, message.c.state, message.c.skip_reason,
                                   message.c.cadence_step, message.c.step_attempt)
                            .where(message.c.skill_id == skill_id)).all()


def test_an_answering_machine_texts_only_records_with_an_sms_number(engine, bu, clock,
                                                                     tmp_path):
    rows = [person(0), person(1, IsCellPhone="false"), person(2)]
    skill = agent_skill(engine, bu, clock, tmp_path, rows)
    attempts = cadences.next_attempts(engine, bu, clock, "sales", 10)
    assert [(a.external_id, a.step, a.attempt) for a in attempts] == [
        ("C000000", 1, 1), ("C000001", 1, 1), ("C000002", 1, 1)]
    results = report(engine, bu, clock, ("C000000", 1, 1, "answering_machine"),
                     ("C000001", 1, 1, "answering_machine"), ("C000002", 1, 1, "sale"))
    assert [(r.how, r.texted, r.skip_reason, r.position.done_reason) for r in results] == [
        ("next_step", True, None, "cadence_complete"),
        ("next_step", False, "no_mobile_number", "cadence_complete"),
        ("done", False, None, "sale")]
    texts = skill_texts(engine, skill.id)
    assert sorted((t.state, t.skip_reason, t.cadence_step, t.step_attempt) for t in texts) == [
        ("pending", None, 2, 1), ("skipped", "no_mobile_number", 2, 1)]
    # every record's cadence has ended, but a text is still to be sent: not finished yet
    assert administration.find_skill(engine, bu, "sales").status is SkillStatus.RUNNING
    assert cadences.next_attempts(engine, bu, clock, "sales", 10) == []


def test_a_repeated_outcome_is_recognized_and_a_stale_one_refused(engine, bu, clock, tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0)])
    cadences.next_attempts(engine, bu, clock, "sales", 10)
    (first,) = report(engine, bu, clock, ("C000000", 1, 1, "no_answer"))
    assert first.how == "retry"
    (again,) = report(engine, bu, clock, ("C000000", 1, 1, "no_answer"))
    assert again.how == "already_reported"
    (other,) = report(engine, bu, clock, ("C000000", 1, 1, "sale"))
    assert isinstance(other, OutcomeRefused) and other.status == 409
    (ahead,) = report(engine, bu, clock, ("C000000", 1, 3, "sale"))
    assert isinstance(ahead, OutcomeRefused) and "step 1 attempt 2" in ahead.reason


def test_bad_items_are_refused_one_by_one(engine, bu, clock, tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0), person(1)])
    results = report(engine, bu, clock, ("C999999", 1, 1, "busy"),
                     ("C000000", 1, 1, "exploded"), ("C000001", 1, 1, "busy"))
    assert [getattr(r, "status", None) for r in results] == [404, 422, None]
    assert results[2].how == "retry"


def test_attempt_limits_and_rest_minutes_hold_with_the_manual_clock(engine, bu, clock,
                                                                    tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0)])
    assert len(cadences.next_attempts(engine, bu, clock, "sales", 10)) == 1
    # handed out: not again while the call is on
    assert cadences.next_attempts(engine, bu, clock, "sales", 10) == []
    report(engine, bu, clock, ("C000000", 1, 1, "busy"))
    clock.advance(29 * 60 + 59)
    assert cadences.next_attempts(engine, bu, clock, "sales", 10) == []
    clock.advance(1)
    (second,) = cadences.next_attempts(engine, bu, clock, "sales", 10)
    assert (second.step, second.attempt) == (1, 2)
    (last,) = report(engine, bu, clock, ("C000000", 1, 2, "busy"))
    assert last.position.done_reason == "attempts_exhausted"
    clock.advance(24 * 3600)
    assert cadences.next_attempts(engine, bu, clock, "sales", 10) == []
    assert administration.find_skill(engine, bu, "sales").status is SkillStatus.FINISHED


def test_an_unreported_attempt_is_handed_out_again_after_the_call_lease(engine, bu, clock,
                                                                       tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0)])
    (first,) = cadences.next_attempts(engine, bu, clock, "sales", 10)
    clock.advance(cadences.CALL_LEASE.total_seconds())
    (again,) = cadences.next_attempts(engine, bu, clock, "sales", 10)
    assert (again.step, again.attempt) == (first.step, first.attempt)


def test_a_record_on_the_dnc_list_is_done_and_never_handed_out(engine, bu, clock, tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0), person(1)])
    administration.dnc_add(engine, bu, clock, ["+12122000001"])
    attempts = cadences.next_attempts(engine, bu, clock, "sales", 10)
    assert [a.external_id for a in attempts] == ["C000000"]
    status = cadences.record_status(engine, bu, clock, "sales", "C000001")
    assert status.position.done_reason == "dnc"


def test_stop_ends_the_cadence_and_the_dialer_is_told(engine, bu, clock, tmp_path):
    cadence = {**CADENCE, "steps": [
        *CADENCE["steps"],
        {"channel": "voice", "after": ["texted", "skipped"], "max_attempts": 1},
    ]}
    skill = agent_skill(engine, bu, clock, tmp_path, [person(0)], cadence=cadence)
    cadences.next_attempts(engine, bu, clock, "sales", 10)
    (moved,) = report(engine, bu, clock, ("C000000", 1, 1, "answering_machine"))
    assert moved.texted and moved.position.step == 3
    # the text went out; the customer answers STOP
    with engine.begin() as conn:
        (text_id,) = conn.scalars(select(message.c.id).where(message.c.skill_id == skill.id))
        from proactive_sms.domain.message_states import MessageState
        messages.transition(conn, [text_id], MessageState.SUBMITTING, clock.now(),
                            submitted_at=clock.now())
        messages.transition(conn, [text_id], MessageState.SENT, clock.now(),
                            sent_at=clock.now())
    InboundService(engine, clock).handle_batch(
        [InboundText("+12122000000", "55502", "STOP", "in-1")])
    assert cadences.next_attempts(engine, bu, clock, "sales", 10) == []
    status = cadences.record_status(engine, bu, clock, "sales", "C000000")
    assert status.position.done_reason == "dnc"
    (told,) = report(engine, bu, clock, ("C000000", 3, 1, "no_answer"))
    assert told.how == "done" and told.position.done_reason == "dnc"


def test_one_message_per_sms_step_attempt_is_enforced_by_the_database(engine, bu, clock,
                                                                       tmp_path):
    from proactive_sms.domain.message_states import MessageState
    from proactive_sms.store import cadences as store
    from proactive_sms.store.messages import Decision

    skill = agent_skill(engine, bu, clock, tmp_path, [person(0)])
    with engine.connect() as conn:
        record_id = conn.scalar(select(message.c.record_id).limit(1)) or conn.scalar(
            select(store.cadence_record.c.record_id))
    decision = Decision(record_id, MessageState.PENDING, "+12122000000", "Hi", "gsm7", 1)
    with engine.begin() as conn:
        assert store.insert_step_message(conn, skill.id, decision, 2, 1, clock.now())
        assert store.insert_step_message(conn, skill.id, decision, 2, 1, clock.now()) is None
        assert store.insert_step_message(conn, skill.id, decision, 2, 2, clock.now())
    # not a rule of our code: the database refuses a second row for the same step attempt
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(message.insert().values(
            skill_id=skill.id, record_id=record_id, cadence_step=2, step_attempt=1,
            segments=1, state="pending", attempts=0, created_at=clock.now()))


def test_stopping_an_agent_skill_ends_its_cadences(engine, bu, clock, tmp_path):
    from proactive_sms.services import lifecycle

    skill = agent_skill(engine, bu, clock, tmp_path, [person(0), person(1)])
    lifecycle.stop(engine, skill.id, clock)
    assert cadences.next_attempts(engine, bu, clock, "sales", 10) == []
    status = cadences.record_status(engine, bu, clock, "sales", "C000000")
    assert status.position.done_reason == "skill_stopped"


def test_a_cadence_is_checked_against_the_list_and_its_templates(engine, bu, clock, tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0)], start=False)
    administration.save_template(engine, bu, clock, "needs-plan", "Hi {Plan}")
    bad = {"steps": [{"channel": "voice", "destination": "Fax"},
                     {"channel": "sms", "after": ["busy"], "template": "needs-plan"},
                     {"channel": "sms", "after": ["texted"], "template": "nowhere"}]}
    with pytest.raises(CadenceError) as caught:
        cadences.define(engine, bu, clock, "sales", bad)
    assert {p.field for p in caught.value.problems} == {
        "steps[1].destination", "steps[2].template", "steps[3].template"}
    assert any("Plan" in p.reason for p in caught.value.problems)


def test_an_agentless_skill_has_no_cadence(engine, bu, clock, tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0)], start=False)
    administration.create_skill(engine, bu, clock, name="notice", registration="55502",
                                calling_list="customers", message_text="Hi")
    with pytest.raises(CadenceError, match="agentless"):
        cadences.define(engine, bu, clock, "notice", CADENCE)


def test_an_agent_skill_without_a_cadence_cannot_start(engine, bu, clock, tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0)], start=False)
    other = administration.create_skill(engine, bu, clock, name="bare", registration="55502",
                                        calling_list="customers", kind="agent")
    with pytest.raises(launching.LaunchError, match="no cadence"):
        launching.start_skill(engine, other.id, clock)


def test_a_first_sms_step_texts_at_start(engine, bu, clock, tmp_path):
    cadence = {"steps": [{"channel": "sms", "template": "sorry-we-missed-you"},
                         {"channel": "voice", "after": ["texted", "skipped"]}]}
    skill = agent_skill(engine, bu, clock, tmp_path,
                        [person(0), person(1, IsCellPhone="false")], cadence=cadence)
    assert sorted(t.state for t in skill_texts(engine, skill.id)) == ["pending", "skipped"]
    attempts = cadences.next_attempts(engine, bu, clock, "sales", 10)
    assert [(a.step, a.attempt) for a in attempts] == [(2, 1), (2, 1)]



def test_records_added_to_the_list_of_a_running_agent_skill_join_its_cadence(engine, bu, clock,
                                                                             tmp_path):
    from proactive_sms.services import importing

    cadence = {"steps": [{"channel": "sms", "template": "sorry-we-missed-you"},
                         {"channel": "voice", "after": ["texted", "skipped"]}]}
    skill = agent_skill(engine, bu, clock, tmp_path, [person(0), person(1)], cadence=cadence)
    first = cadences.next_attempts(engine, bu, clock, "sales", 10)
    assert sorted(a.external_id for a in first) == ["C000000", "C000001"]
    clock.advance(60)
    # the same file again with two more people (one without a mobile): updated records stay
    # where they are in the cadence; the new ones start at step 1, texted now
    path = write_csv(tmp_path / "more.csv", [person(i) for i in range(3)]
                     + [person(3, IsCellPhone="false")])
    summary = importing.import_calling_list(engine, bu, "customers", path, clock)
    assert summary.joined_cadences == {"sales": 2}
    texts = sorted((t.record_id, t.state, t.skip_reason) for t in skill_texts(engine, skill.id))
    assert [state for _, state, _ in texts] == ["pending", "pending", "pending", "skipped"]
    assert texts[-1][2] == "no_mobile_number"
    joined = cadences.next_attempts(engine, bu, clock, "sales", 10)
    assert sorted((a.external_id, a.step) for a in joined) == [("C000002", 2), ("C000003", 2)]
    # nothing new: nobody joins twice; a stopped skill takes no one
    assert importing.import_calling_list(engine, bu, "customers", path,
                                         clock).joined_cadences == {}
    from proactive_sms.services import lifecycle

    lifecycle.stop(engine, skill.id, clock)
    path = write_csv(tmp_path / "late.csv", [person(4)])
    assert importing.import_calling_list(engine, bu, "customers", path,
                                         clock).joined_cadences == {}


def test_the_cadence_waits_while_the_skill_is_paused(engine, bu, clock, tmp_path):
    from proactive_sms.services import lifecycle

    skill = agent_skill(engine, bu, clock, tmp_path, [person(0)])
    lifecycle.pause(engine, skill.id, clock)
    assert cadences.next_attempts(engine, bu, clock, "sales", 10) == []
    lifecycle.resume(engine, skill.id, clock)
    assert len(cadences.next_attempts(engine, bu, clock, "sales", 10)) == 1
    clock.advance(timedelta(minutes=1).total_seconds())


def test_an_sms_step_can_text_phone_number_or_a_custom_field(engine, bu, clock, tmp_path):
    from proactive_sms.services import importing
    from tests.factories import HEADER

    header = [*HEADER, "WorkCell"]
    rows = [person(0) + ["(646) 555-0100"], person(1, IsCellPhone="false") + [""],
            person(2) + ["not a number"]]
    importing.import_calling_list(engine, bu, "customers",
                                  write_csv(tmp_path / "c.csv", rows, header=header), clock)
    administration.add_registration(engine, bu, clock, code="55502", kind="short",
                                    throughput_per_s=50, connection=None, dnc_group=None)
    administration.save_template(engine, bu, clock, "t", "Hi {FirstName}")
    skill = administration.create_skill(engine, bu, clock, name="sales", registration="55502",
                                        calling_list="customers", kind="agent")
    cadences.define(engine, bu, clock, "sales", {"steps": [
        {"channel": "sms", "destination": "WorkCell", "template": "t"},
        {"channel": "sms", "destination": "PhoneNumber", "after": ["texted", "skipped"],
         "template": "t"}]})
    launching.start_skill(engine, skill.id, clock)
    with engine.connect() as conn:
        texts = conn.execute(select(message.c.cadence_step, message.c.destination,
                                    message.c.skip_reason)
                             .where(message.c.skill_id == skill.id)
                             .order_by(message.c.record_id, message.c.cadence_step)).all()
    assert [tuple(t) for t in texts] == [
        (1, "+16465550100", None), (2, "+12122000000", None),  # custom field; a cell phone
        (1, None, "no_mobile_number"), (2, None, "no_mobile_number"),  # empty; a landline
        (1, None, "invalid_number"), (2, "+12122000002", None),
    ]


def test_a_dnc_disposition_ends_the_record_and_puts_the_number_on_the_dnc_list(engine, bu,
                                                                               clock, tmp_path):
    agent_skill(engine, bu, clock, tmp_path, [person(0), person(1)])
    cadences.next_attempts(engine, bu, clock, "sales", 10)
    (result,) = report(engine, bu, clock, ("C000000", 1, 1, "dnc", "asked not to be called"))
    assert result.position.done_reason == "dnc"
    assert administration.dnc_check(engine, bu, "+12122000000") == ["default"]
    assert administration.dnc_check(engine, bu, "+12122000001") == []


def test_the_dispatcher_finishes_an_agent_skill_only_when_its_cadence_has_ended(engine, bu,
                                                                                clock, tmp_path):
    from proactive_sms.services.dispatch import Dispatcher
    from proactive_sms.store import skills as skill_store

    skill = agent_skill(engine, bu, clock, tmp_path, [person(0)])
    dispatcher = Dispatcher(engine, clock)
    dispatcher.lanes = {skill.registration_id: None}  # as if it dispatched the skill's code

    def finish() -> SkillStatus:
        with engine.begin() as conn:
            running = skill_store.list_skills(conn, statuses=[SkillStatus.RUNNING])
            dispatcher._finish_done(conn, running, clock.now())
            return skill_store.skill_by_id(conn, skill.id).status

    assert finish() is SkillStatus.RUNNING  # no text to send, but a record in its cadence
    cadences.next_attempts(engine, bu, clock, "sales", 10)
    report(engine, bu, clock, ("C000000", 1, 1, "answering_machine"))
    assert finish() is SkillStatus.RUNNING  # cadence ended, its text still to send
    with engine.begin() as conn:
        conn.execute(message.update().where(message.c.skill_id == skill.id)
                     .values(state="delivered"))
    assert finish() is SkillStatus.FINISHED


def test_an_agent_skills_start_is_one_skill_started_event(engine, bu, clock, tmp_path):
    import json

    from proactive_sms.services import webhooks
    from proactive_sms.store.schema import webhook_event

    webhooks.set_endpoint(engine, bu, clock, "http://127.0.0.1:9/hook",
                          event_types=["skill.started"])
    skill = agent_skill(engine, bu, clock, tmp_path, [person(0), person(1)])
    assert launching.start_skill(engine, skill.id, clock).already_started  # no second event
    with engine.connect() as conn:
        bodies = [json.loads(b) for b in conn.scalars(
            select(webhook_event.c.body).where(webhook_event.c.type == "skill.started"))]
    assert [b["data"] for b in bodies] == [{
        "skill_id": skill.id, "skill": "sales", "kind": "agent", "status": "running",
        "started_at": "2026-03-04T16:00:00Z", "trigger": "request", "scheduled_for": None,
        "time_zone": None, "schedule": None}]
