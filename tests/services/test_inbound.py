"""Inbound texts: every one stored; keywords change DNC lists at once; replies reach agents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from proactive_sms.carriers.base import InboundText
from proactive_sms.domain import keyword_responses
from proactive_sms.domain.keywords import InboundClass
from proactive_sms.services import administration, conversations, launching
from proactive_sms.services.inbound import InboundService
from proactive_sms.store import dnc, inbound
from proactive_sms.store.schema import inbound_message, message
from tests.factories import import_people, us_number

CUSTOMER = "+1" + us_number(3)


@pytest.fixture
def service(engine, clock):
    return InboundService(engine, clock)


def _code(engine, bu, clock, code="55501", kind="short", solution="external", dnc_group=None):
    return administration.add_registration(engine, bu, clock, code=code, kind=kind,
                                           throughput_per_s=5 if kind != "short" else 100,
                                           connection=None, dnc_group=dnc_group,
                                           solution=solution)


def _text(body, sender=CUSTOMER, to="55501"):
    return InboundText(sender=sender.lstrip("+"), recipient=to, text=body, carrier_message_id="m1")


def _on_list(engine, bu, group=None):
    with engine.connect() as conn:
        lst = dnc.find_list(conn, bu.tenant_id, group)
        return {e.phone: e.source for e in dnc.entries(conn, lst.id)}


def _system_texts(engine, kind=None):
    with engine.connect() as conn:
        query = select(message).where(message.c.skill_id.is_(None))
        if kind:
            query = query.where(message.c.kind == kind)
        return conn.execute(query).all()


def test_stop_on_a_long_code_opts_out_and_confirms_exactly_once(engine, bu, clock, service):
    _code(engine, bu, clock, code="2025550143", kind="long")
    (outcome,) = service.handle_batch([_text("Stop.", to="12025550143")])
    assert outcome.kind is InboundClass.OPT_OUT and outcome.dnc_changed
    assert _on_list(engine, bu) == {CUSTOMER: "opt_out"}
    clock.advance(60)
    service.handle_batch([_text("STOP", to="12025550143")])  # again: already on the list
    clock.advance(600)
    service.handle_batch([_text("stop please", to="12025550143")])
    (confirmation,) = _system_texts(engine, "opt_out_confirmation")
    assert confirmation.destination == CUSTOMER and confirmation.priority == 0
    assert "unsubscribed" in confirmation.body
    assert "Reply START" in confirmation.body


def test_toll_free_records_the_opt_out_and_sends_nothing_of_its_own(engine, bu, clock, service):
    _code(engine, bu, clock, code="8885550100", kind="toll_free")
    service.handle_batch([_text("STOP", to="+18885550100"), _text("HELP", to="+18885550100")])
    assert _on_list(engine, bu) == {CUSTOMER: "opt_out"}
    assert _system_texts(engine) == []


def test_toll_free_refuses_confirmation_texts():
    with pytest.raises(keyword_responses.KeywordResponseError, match="toll-free"):
        keyword_responses.validate_update("toll_free", {"opt_out_text": "Bye"})


def test_the_registration_dnc_group_gets_the_opt_out_not_the_tenant_list(engine, bu, clock,
                                                                       service):
    _code(engine, bu, clock, dnc_group="collections")
    service.handle_batch([_text("unsubscribe")])
    assert _on_list(engine, bu, "collections") == {CUSTOMER: "opt_out"}
    assert _on_list(engine, bu) == {}


def test_start_removes_only_what_an_opt_out_added(engine, bu, clock, service):
    _code(engine, bu, clock)
    administration.dnc_add(engine, bu, clock, ["+12125550100"], source="manual")
    service.handle_batch([_text("STOP")])
    clock.advance(10)
    service.handle_batch([_text("START"), _text("START", sender="+12125550100")])
    assert _on_list(engine, bu) == {"+12125550100": "manual"}
    assert len(_system_texts(engine, "opt_in_confirmation")) == 1


def test_help_answers_with_identity_rates_and_how_to_stop(engine, bu, clock, service):
    _code(engine, bu, clock)
    service.handle_batch([_text("help")])
    (answer,) = _system_texts(engine, "help_response")
    assert "Msg&data rates may apply" in answer.body
    assert "STOP" in answer.body and bu.name in answer.body


def test_a_text_to_an_unknown_code_is_stored_and_flagged(engine, bu, clock, service):
    (outcome,) = service.handle_batch([_text("STOP", to="99999")])
    assert outcome.registration_code is None
    with engine.connect() as conn:
        (row,) = conn.execute(select(inbound_message)).all()
    assert row.registration_id is None and row.text == "STOP"
    assert _on_list(engine, bu) == {}


def _texted(engine, bu, clock, tmp_path, code="55501"):
    import_people(engine, bu, clock, tmp_path, 5)
    skill = administration.create_skill(engine, bu, clock, name="follow-up", registration=code,
                                        calling_list="people")
    launching.start_skill(engine, skill.id, clock, message_text="Hi {FirstName}")
    with engine.begin() as conn:  # as if the dispatcher had sent them
        conn.execute(message.update().values(state="sent", submitted_at=clock.now(),
                                             sent_at=clock.now()))
    return skill


def test_a_reply_on_sms_messaging_opens_a_conversation_for_the_skill(engine, bu, clock, tmp_path,
                                                                    service):
    _code(engine, bu, clock, solution="sms_messaging")
    skill = _texted(engine, bu, clock, tmp_path)
    clock.advance(30)
    (first,) = service.handle_batch([_text("Can I pay next week instead?")])
    clock.advance(30)
    (second,) = service.handle_batch([_text("Thanks")])
    (stop,) = service.handle_batch([_text("STOP")])
    assert first.conversation_id == second.conversation_id == stop.conversation_id
    (open_one,) = conversations.inbox(engine, bu)
    assert open_one.skill_id == skill.id and open_one.waiting_since is not None
    found, history = conversations.history(engine, bu, open_one.id)
    # The skill's text they answered, their three texts, and the opt-out confirmation.
    assert [e.direction for e in history] == ["out", "in", "in", "in", "out"]
    assert history[0].text == "Hi Ann3" and history[3].note == "opt_out"


@pytest.mark.parametrize("state, counted", [("submitting", True), ("uncertain", True),
                                             ("pending", False), ("failed", False)])
def test_a_reply_counts_for_the_skill_whose_text_left_even_before_the_carrier_answered(
        engine, bu, clock, tmp_path, service, state, counted):
    # The handset can have the text (and its owner answer it) before the store records `sent`;
    # a text sent back to pending or refused for good never reached anyone.
    _code(engine, bu, clock)
    skill = _texted(engine, bu, clock, tmp_path)
    with engine.begin() as conn:
        conn.execute(message.update().values(state=state, sent_at=None))
    (outcome,) = service.handle_batch([_text("STOP")])
    with engine.connect() as conn:
        stored = inbound.find(conn, outcome.inbound_id)
    assert (stored.skill_id == skill.id) is counted


def test_a_reply_on_external_is_stored_and_counted_not_routed(engine, bu, clock, tmp_path,
                                                             service):
    _code(engine, bu, clock, solution="external")
    _texted(engine, bu, clock, tmp_path)
    (outcome,) = service.handle_batch([_text("Who is this?")])
    assert outcome.kind is InboundClass.REPLY and outcome.conversation_id is None
    assert conversations.inbox(engine, bu) == []


def test_possible_opt_out_waits_for_review_then_acts(engine, bu, clock, service):
    _code(engine, bu, clock)
    text = ("I have told you people many times that I want this to stop, "
            "I am not interested in your offers at all")
    (outcome,) = service.handle_batch([_text(text)])
    assert outcome.kind is InboundClass.POSSIBLE_OPT_OUT
    assert _on_list(engine, bu) == {}
    accepted = service.review(outcome.inbound_id, accept=True, business_unit_id=bu.id)
    assert accepted.dnc_changed and _on_list(engine, bu) == {CUSTOMER: "opt_out"}
    with pytest.raises(ValueError, match="not waiting"):
        service.review(outcome.inbound_id, accept=False, business_unit_id=bu.id)


def test_an_agent_answer_is_queued_ahead_of_bulk_and_closed_conversations_refuse(
        engine, bu, clock, tmp_path, service):
    _code(engine, bu, clock, solution="sms_messaging")
    _texted(engine, bu, clock, tmp_path)
    (outcome,) = service.handle_batch([_text("Can I pay next week?")])
    clock.advance(timedelta(minutes=2).total_seconds())
    message_id = conversations.reply(engine, bu, clock, outcome.conversation_id,
                                     "Yes, by Friday the 12th is fine.")
    with engine.connect() as conn:
        row = conn.execute(select(message).where(message.c.id == message_id)).one()
    assert (row.kind, row.priority, row.destination, row.state) == (
        "agent_reply", 0, CUSTOMER, "pending")
    (open_one,) = conversations.inbox(engine, bu)
    assert open_one.waiting_since is None  # answered
    conversations.close(engine, bu, clock, outcome.conversation_id)
    with pytest.raises(conversations.ConversationError, match="closed"):
        conversations.reply(engine, bu, clock, outcome.conversation_id, "more")
