"""Replies become conversations assigned to agents: spread by load, sticky to the agent who last
had the number, held while nobody can take them, answered, transferred and closed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from proactive_sms.services import agents, conversations
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.agent_report import agent_report
from proactive_sms.services.agents import AgentRefused
from proactive_sms.services.listing import PageRequest
from proactive_sms.store.errors import AlreadyExists, NotFound
from proactive_sms.store.schema import message
from tests.services.agent_world import texted_world


@pytest.fixture
def world(engine, bu, clock, tmp_path):
    return texted_world(engine, bu, clock, tmp_path)


def test_ten_replies_are_spread_over_the_three_available_agents(world):
    for name in ("ana", "ben", "cho"):
        world.agent(name)
    world.agent("dee", availability="away")
    world.agent("eve", availability="offline")
    order = []
    for i in range(10):
        world.clock.advance(5)
        order.append(world.holder(world.reply(i).conversation_id))
    # fewest open first; among equals the longest idle (never assigned first, then by id)
    assert order == ["ana", "ben", "cho"] * 3 + ["ana"]
    assert world.holders() == {"ana": 4, "ben": 3, "cho": 3, "dee": 0, "eve": 0}


def test_a_second_reply_stays_in_the_same_conversation_with_the_same_agent(world):
    world.agent("ana")
    world.agent("ben")
    first = world.reply(1, "Hello?")
    world.clock.advance(10)
    second = world.reply(1, "Anyone there?")
    assert first.conversation_id == second.conversation_id
    assert world.holders() == {"ana": 1, "ben": 0}


def test_the_agent_who_last_had_the_number_gets_it_again_while_available(world):
    world.agent("ana")
    world.agent("ben")
    first = world.reply(1)
    assert world.holder(first.conversation_id) == "ana"
    agents.close(world.engine, world.bu, world.clock, "ana", first.conversation_id)
    world.reply(2)  # ben: as free as ana and never assigned
    world.reply(3)  # ana, by load
    world.clock.advance(3600)
    again = world.reply(1, "Me again")
    assert again.conversation_id != first.conversation_id
    # one open each and ben idle longer: only stickiness gives it to ana
    assert world.holder(again.conversation_id) == "ana"
    agents.close(world.engine, world.bu, world.clock, "ana", again.conversation_id)
    agents.set_availability(world.engine, world.bu, world.clock, "ana", "away")
    world.clock.advance(60)
    third = world.reply(1, "And again")
    assert world.holder(third.conversation_id) == "ben"  # ana is away: the rule, not stickiness


def test_a_sticky_agent_no_longer_in_the_skill_is_not_used(world):
    world.agent("ana")
    first = world.reply(1)
    world.agent("ben")
    agents.close(world.engine, world.bu, world.clock, "ana", first.conversation_id)
    agents.remove_skill(world.engine, world.bu, "ana", "follow-up")
    assert world.holder(world.reply(1, "back").conversation_id) == "ben"


def test_replies_wait_with_nobody_available_and_go_oldest_first_when_an_agent_comes_back(world):
    world.agent("ana", availability="away", max_open_conversations=1)
    world.agent("ben", availability="offline")
    first = world.reply(1)
    world.clock.advance(30)
    second = world.reply(2)
    world.clock.advance(90)
    waiting = agents.unassigned(world.engine, world.bu, world.clock)
    assert [(e.conversation.id, e.waiting_s) for e in waiting] == [
        (first.conversation_id, 120.0), (second.conversation_id, 90.0)]

    change = agents.set_availability(world.engine, world.bu, world.clock, "ana", "available")
    assert change.assigned == [first.conversation_id]  # her limit is one: the oldest goes first
    assert change.agent.open_conversations == 1 and change.handed_back == []
    assert world.holder(second.conversation_id) is None
    agents.close(world.engine, world.bu, world.clock, "ana", first.conversation_id)
    assert world.holder(second.conversation_id) == "ana"  # a place freed: the next one comes



def test_an_agent_going_offline_hands_their_open_conversations_back(world):
    world.agent("ana")
    world.agent("ben", max_open_conversations=2)
    world.agent("cho", availability="away")
    ids = []
    for i in range(5):
        world.clock.advance(10)
        ids.append(world.reply(i).conversation_id)
    assert [world.holder(c) for c in ids] == ["ana", "ben", "ana", "ben", "ana"]
    agents.close(world.engine, world.bu, world.clock, "ana", ids[4])  # closed: stays hers
    world.clock.advance(60)
    change = agents.set_availability(world.engine, world.bu, world.clock, "ana", "offline")
    assert change.handed_back == [ids[0], ids[2]]
    assert change.assigned == []  # ben is full (2), cho is away: they wait, oldest first
    assert change.agent.open_conversations == 0
    waiting = agents.unassigned(world.engine, world.bu, world.clock)
    assert [e.conversation.id for e in waiting] == [ids[0], ids[2]]
    assert waiting[0].waiting_s == 100.0  # the customer's wait did not restart
    closed = agents.queue(world.engine, world.bu, world.clock, "ana", include_closed=True)
    assert [e.conversation.id for e in closed] == [ids[4]]
    # the moment cho is back, she takes them (and a reply from the same customer stays put)
    change = agents.set_availability(world.engine, world.bu, world.clock, "cho", "available")
    assert change.assigned == [ids[0], ids[2]]
    assert world.holder(world.reply(0, "still there?").conversation_id) == "cho"


def test_going_offline_offers_the_conversations_to_the_others_at_once(world):
    world.agent("ana")
    first = world.reply(1).conversation_id
    world.agent("ben")
    change = agents.set_availability(world.engine, world.bu, world.clock, "ana", "offline")
    assert (change.handed_back, change.assigned) == ([first], [first])
    assert world.holder(first) == "ben"
    # ana had the number before, but offline she is not eligible: ben keeps the next one too
    agents.close(world.engine, world.bu, world.clock, "ben", first)
    assert world.holder(world.reply(1, "again").conversation_id) == "ben"


def test_adding_an_available_agent_to_the_skill_takes_the_waiting_conversations(world):
    outcome = world.reply(4)
    assert world.holder(outcome.conversation_id) is None  # the skill has no agents yet
    agents.create_agent(world.engine, world.bu, world.clock, "ana", availability="available")
    assert world.holder(outcome.conversation_id) is None  # not in the skill
    agents.add_skill(world.engine, world.bu, world.clock, "ana", "follow-up")
    assert world.holder(outcome.conversation_id) == "ana"


def test_waiting_time_runs_from_the_first_unanswered_reply_and_stops_at_the_answer(world):
    world.agent("ana")
    opened = world.reply(1, "Hi")
    cid = opened.conversation_id
    world.clock.advance(45)
    world.reply(1, "Hello??")  # a second text does not restart the wait
    world.clock.advance(30)
    (entry,) = agents.queue(world.engine, world.bu, world.clock, "ana")
    assert entry.waiting_s == 75.0
    agents.answer(world.engine, world.bu, world.clock, "ana", cid, "Hi, how can I help?")
    (entry,) = agents.queue(world.engine, world.bu, world.clock, "ana")
    assert entry.waiting_s is None
    world.clock.advance(600)
    world.reply(1, "About my bill")
    world.clock.advance(20)
    (entry,) = agents.queue(world.engine, world.bu, world.clock, "ana")
    assert entry.waiting_s == 20.0


def test_an_agent_answers_only_their_own_conversations(world):
    world.agent("ana")
    world.agent("ben", availability="away")
    cid = world.reply(1).conversation_id
    with pytest.raises(AgentRefused, match=r"assigned to ana, not to ben.*transfer"):
        agents.answer(world.engine, world.bu, world.clock, "ben", cid, "Hi")
    with pytest.raises(InvalidRequest, match="empty"):
        agents.answer(world.engine, world.bu, world.clock, "ana", cid, "  ")
    message_id = agents.answer(world.engine, world.bu, world.clock, "ana", cid, "Hi, Ana here")
    with world.engine.connect() as conn:
        row = conn.execute(select(message).where(message.c.id == message_id)).one()
    assert (row.kind, row.priority, row.conversation_id, row.state) == (
        "agent_reply", 0, cid, "pending")
    agents.close(world.engine, world.bu, world.clock, "ana", cid)
    with pytest.raises(AgentRefused, match="closed"):
        agents.answer(world.engine, world.bu, world.clock, "ana", cid, "more")


def test_transfer_goes_to_another_agent_and_refuses_unknown_and_offline(world, engine, clock):
    world.agent("ana")
    world.agent("ben", availability="away")
    world.agent("cho", availability="offline")
    cid = world.reply(1).conversation_id
    with pytest.raises(InvalidRequest, match="no agent 'zed'"):
        agents.transfer(engine, world.bu, clock, cid, "zed")
    with pytest.raises(AgentRefused, match="cho is offline"):
        agents.transfer(engine, world.bu, clock, cid, "cho")
    clock.advance(10)
    moved = agents.transfer(engine, world.bu, clock, cid, "ben")  # away: for when he is back
    assert (moved.agent_name, moved.assigned_at.replace(tzinfo=None)) == (
        "ben", clock.now().replace(tzinfo=None))
    agents.answer(engine, world.bu, clock, "ben", cid, "Ben here")
    with pytest.raises(AgentRefused, match="assigned to ben"):
        agents.close(engine, world.bu, clock, "ana", cid)
    agents.close(engine, world.bu, clock, "ben", cid)
    with pytest.raises(AgentRefused, match="closed"):
        agents.transfer(engine, world.bu, clock, cid, "ana")


def test_another_bus_agents_and_conversations_are_not_found(world, engine, clock):
    from proactive_sms.services import administration

    world.agent("ana")
    cid = world.reply(1).conversation_id
    other = administration.init(engine, clock, "acme", "collections", "US")
    agents.create_agent(engine, other, clock, "zoe", availability="available")
    with pytest.raises(InvalidRequest, match="no agent 'zoe' in business unit sales"):
        agents.transfer(engine, world.bu, clock, cid, "zoe")
    with pytest.raises(NotFound):
        agents.transfer(engine, other, clock, cid, "zoe")
    with pytest.raises(NotFound):
        agents.answer(engine, other, clock, "zoe", cid, "hi")
    with pytest.raises(NotFound):
        agents.get_agent(engine, other, "ana")
    with pytest.raises(NotFound):
        agents.add_skill(engine, other, clock, "zoe", "follow-up")
    assert agents.unassigned(engine, other, clock) == []


def test_agent_names_and_values_are_checked(world, engine, bu, clock):
    world.agent("ana")
    with pytest.raises(AlreadyExists):
        world.agent("ana")
    with pytest.raises(InvalidRequest, match="agent name"):
        agents.create_agent(engine, bu, clock, "a b")
    with pytest.raises(InvalidRequest, match="availability must be one of"):
        agents.set_availability(engine, bu, clock, "ana", "busy")
    with pytest.raises(InvalidRequest, match="at least 1"):
        agents.create_agent(engine, bu, clock, "bo", max_open_conversations=0)
    with pytest.raises(NotFound, match="skill 'nope'"):
        agents.create_agent(engine, bu, clock, "bo", skill_names=["nope"])
    assert agents.get_agent(engine, bu, "ana").skills == ["follow-up"]
    assert agents.create_agent(engine, bu, clock, "bo").agent.availability == "offline"


def test_agents_are_listed_page_by_page(world, engine, bu, clock):
    for i in range(5):
        agents.create_agent(engine, bu, clock, f"agent{i}")
    first = agents.list_agents(engine, bu, PageRequest(limit=2))
    second = agents.list_agents(engine, bu, PageRequest(first.last_id, 2))
    third = agents.list_agents(engine, bu, PageRequest(second.last_id, 2))
    assert [v.name for v in first.items + second.items + third.items] == [
        f"agent{i}" for i in range(5)]
    assert (first.more, second.more, third.more) == (True, True, False)


def test_report_counts_handled_conversations_and_time_to_first_answer(world, engine, bu, clock):
    world.agent("ana")
    world.agent("ben")
    a = world.reply(1).conversation_id  # ana
    b = world.reply(2).conversation_id  # ben
    c = world.reply(3).conversation_id  # ana
    clock.advance(60)
    agents.answer(engine, bu, clock, "ana", a, "A")
    clock.advance(60)
    agents.answer(engine, bu, clock, "ben", b, "B")
    conversations.reply(engine, bu, clock, c, "a supervisor answers first")
    clock.advance(60)
    agents.answer(engine, bu, clock, "ana", c, "C")
    world.reply(4)  # ben, waiting
    clock.advance(30)
    report = agent_report(engine, bu, clock)
    assert (report.conversations, report.answered, report.unanswered) == (4, 3, 1)
    assert report.mean_first_answer_s == 100.0  # 60, 120, 120
    by_name = {f.name: f for f in report.agents}
    assert (by_name["ana"].handled, by_name["ana"].first_answers) == (2, 1)
    assert by_name["ana"].mean_first_answer_s == 60.0
    assert (by_name["ben"].handled, by_name["ben"].mean_first_answer_s) == (1, 120.0)
    assert (by_name["ben"].open_now, by_name["ben"].waiting_now) == (2, 1)
    assert by_name["ben"].longest_wait_s == 30.0
    later = agent_report(engine, bu, clock, since=clock.now())
    assert later.conversations == 0
