"""What the console's agent workspace reads: only an agent's own threads, and the marks that
tell its live stream a reply came or an answer's state moved."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from proactive_sms.services import agent_workspace, agents
from proactive_sms.store.errors import NotFound
from proactive_sms.store.schema import message
from tests.services.agent_world import texted_world


@pytest.fixture
def world(engine, bu, clock, tmp_path):
    return texted_world(engine, bu, clock, tmp_path, people=3)


def test_an_agent_reads_their_own_thread_and_another_agents_is_not_found(world):
    ana = world.agent("ana")
    first = world.reply(0, "Call me after five")
    world.agent("ben")
    second = world.reply(1, "Who is this?")
    assert world.holder(first.conversation_id) == "ana"
    assert world.holder(second.conversation_id) == "ben"
    mine = agent_workspace.own_thread(world.engine, world.bu, world.clock,
                                      agents.get_agent(world.engine, world.bu, "ana"),
                                      first.conversation_id)
    assert [(e.direction, e.text) for e in mine.history][-1] == ("in", "Call me after five")
    assert mine.skill_name == "follow-up" and mine.is_open
    with pytest.raises(NotFound):
        agent_workspace.own_thread(world.engine, world.bu, world.clock, ana,
                                   second.conversation_id)
    assert agent_workspace.agent_of_user(world.engine, world.bu, ana.agent.id).name == "ana"


def test_the_queue_watch_sees_a_new_reply_but_not_what_was_there_before(world):
    ana = world.agent("ana")
    world.reply(0)
    watch = agent_workspace.QueueWatch(ana.agent.id)
    assert watch.look(world.engine) == agent_workspace.QueueChange(False, 0)
    assert watch.look(world.engine) == agent_workspace.QueueChange(False, 0)
    world.clock.advance(5)
    world.reply(0, "Hello?")
    world.reply(1, "Me too")
    assert watch.look(world.engine) == agent_workspace.QueueChange(True, 2)


def test_the_thread_mark_moves_with_an_answers_delivery_state(world):
    world.agent("ana")
    opened = world.reply(0)
    before = agent_workspace.thread_mark(world.engine, opened.conversation_id)
    message_id = agents.answer(world.engine, world.bu, world.clock, "ana",
                               opened.conversation_id, "Sure")
    answered = agent_workspace.thread_mark(world.engine, opened.conversation_id)
    assert answered != before
    with world.engine.begin() as conn:
        conn.execute(update(message).where(message.c.id == message_id).values(state="delivered"))
    assert agent_workspace.thread_mark(world.engine, opened.conversation_id) != answered


def test_a_reply_after_the_page_was_drawn_is_news_at_the_first_look(world):
    ana = world.agent("ana")
    world.reply(0)  # shown on the page
    drawn_at = world.clock.now()
    world.clock.advance(2)
    world.reply(1, "Before the stream's first look")
    watch = agent_workspace.QueueWatch(ana.agent.id, since=drawn_at)
    assert watch.look(world.engine) == agent_workspace.QueueChange(True, 1)


def test_one_read_of_the_unit_gives_every_agents_queue_and_the_watched_threads(world):
    ana, ben = world.agent("ana"), world.agent("ben")
    first, second = world.reply(0), world.reply(1)
    marks = agent_workspace.unit_marks(world.engine, world.bu.id, [first.conversation_id])
    assert [row[0] for row in marks.queue_of(ana.agent.id)] == [first.conversation_id]
    assert [row[0] for row in marks.queue_of(ben.agent.id)] == [second.conversation_id]
    assert set(marks.threads) == {first.conversation_id}
    assert marks.threads[first.conversation_id] == agent_workspace.thread_mark(
        world.engine, first.conversation_id)
