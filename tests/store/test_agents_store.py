"""The agent tables on every backend: unique names per BU, paging, open counts, the last agent
of a number, assignments that move, and the conversation's waiting and first-answer columns."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from proactive_sms.domain.agent_assignment import Availability
from proactive_sms.services import administration
from proactive_sms.store import agents, assignments, conversations
from proactive_sms.store.errors import AlreadyExists
from proactive_sms.store.schema import conversation
from tests.store import older_schema

NUMBER = "+12125550100"


@pytest.fixture
def code(engine, bu, clock):
    return administration.add_registration(engine, bu, clock, code="55501", kind="short",
                                           throughput_per_s=10, connection=None,
                                           dnc_group=None, solution="sms_messaging")


def _agent(conn, bu, clock, name, bu_id=None):
    return agents.create(conn, bu_id or bu.id, name, name.title(), Availability.AVAILABLE, None,
                         clock.now())


def test_agent_names_are_unique_per_bu_and_paged_in_order(engine, bu, clock):
    other = administration.init(engine, clock, "acme", "collections", "US")
    with engine.begin() as conn:
        made = [_agent(conn, bu, clock, f"a{i}") for i in range(5)]
        _agent(conn, bu, clock, "a0", bu_id=other.id)  # same name, another BU
        with pytest.raises(AlreadyExists):
            _agent(conn, bu, clock, "a1")
    with engine.connect() as conn:
        first = agents.page(conn, bu.id, 0, 3)
        rest = agents.page(conn, bu.id, first.last_id, 3)
    assert [a.name for a in first.items + rest.items] == [a.name for a in made]
    assert first.more and not rest.more


def test_open_counts_follow_assignments_transfers_and_closing(engine, bu, clock, code):
    with engine.begin() as conn:
        ana, ben = _agent(conn, bu, clock, "ana"), _agent(conn, bu, clock, "ben")
        one = conversations.open_or_continue(conn, code.id, NUMBER, None, None, clock.now())
        two = conversations.open_or_continue(conn, code.id, "+12125550101", None, None,
                                             clock.now())
        assignments.assign(conn, one.id, ana.id, clock.now())
        assignments.assign(conn, two.id, ana.id, clock.now())
        assert agents.open_counts(conn, [ana.id, ben.id]) == {ana.id: 2, ben.id: 0}
        clock.advance(5)
        assignments.assign(conn, two.id, ben.id, clock.now())  # a transfer replaces
        conversations.close(conn, one.id, clock.now())
        assert agents.open_counts(conn, [ana.id, ben.id]) == {ana.id: 0, ben.id: 1}
        assert assignments.of_conversation(conn, two.id).agent_id == ben.id
        assert [c.id for c, _ in assignments.of_agent(conn, ana.id, include_closed=True)] == [
            one.id]


def test_the_last_agent_of_a_number_is_that_of_its_latest_earlier_conversation(
        engine, bu, clock, code):
    with engine.begin() as conn:
        ana, ben = _agent(conn, bu, clock, "ana"), _agent(conn, bu, clock, "ben")
        old = conversations.open_or_continue(conn, code.id, NUMBER, None, None, clock.now())
        assignments.assign(conn, old.id, ana.id, clock.now())
        conversations.close(conn, old.id, clock.now())
        clock.advance(60)
        newer = conversations.open_or_continue(conn, code.id, NUMBER, None, None, clock.now())
        assignments.assign(conn, newer.id, ben.id, clock.now())
        conversations.close(conn, newer.id, clock.now())
        clock.advance(60)
        now = conversations.open_or_continue(conn, code.id, NUMBER, None, None, clock.now())
        assert assignments.last_agent_for(conn, code.id, NUMBER, now.id) == ben.id
        assert assignments.last_agent_for(conn, code.id, "+12125550199", now.id) is None


def test_unanswered_since_keeps_the_first_reply_and_first_answer_the_first_answer(
        engine, bu, clock, code):
    with engine.begin() as conn:
        opened = conversations.open_or_continue(conn, code.id, NUMBER, None, None, clock.now())
        first_reply = clock.now()
        clock.advance(30)
        again = conversations.open_or_continue(conn, code.id, NUMBER, None, None, clock.now())
        assert again.id == opened.id
        assert again.waiting_since.replace(tzinfo=None) == first_reply.replace(tzinfo=None)
        clock.advance(30)
        conversations.mark_answered(conn, opened.id, clock.now())
        first_answer = clock.now()
        clock.advance(30)
        conversations.open_or_continue(conn, code.id, NUMBER, None, None, clock.now())
        conversations.mark_answered(conn, opened.id, clock.now())
        found = conversations.get(conn, opened.id)
    assert found.waiting_since is None
    assert found.first_answer_at.replace(tzinfo=None) == first_answer.replace(tzinfo=None)


def test_migration_0008_fills_waiting_and_first_answer_of_existing_conversations(bare_engine):
    older_schema.upgrade_to(bare_engine, "0007")
    older_schema.write(
        bare_engine,
        # 1: the customer spoke last; 2: answered at 10:07; 3: closed
        "INSERT INTO conversation (id, registration_id, phone, status, opened_at, "
        "last_inbound_at, last_answer_at) VALUES "
        "(1, 1, '+12125550100', 'open', '2026-03-01 10:00:00', '2026-03-01 10:05:00', "
        "'2026-03-01 10:02:00'), "
        "(2, 1, '+12125550101', 'open', '2026-03-01 10:00:00', '2026-03-01 10:05:00', "
        "'2026-03-01 10:07:00'), "
        "(3, 1, '+12125550102', 'closed', '2026-03-01 10:00:00', '2026-03-01 10:05:00', "
        "NULL)",
        "INSERT INTO message (id, kind, registration_id, priority, conversation_id, "
        "destination, body, segments, state, attempts, created_at) VALUES "
        "(1, 'agent_reply', 1, 0, 2, '+12125550101', 'b', 1, 'sent', 1, "
        "'2026-03-01 10:07:00'), "
        "(2, 'agent_reply', 1, 0, 2, '+12125550101', 'a', 1, 'sent', 1, "
        "'2026-03-01 10:03:00')",
        solution="sms_messaging")
    older_schema.upgrade_to(bare_engine, "head")
    with bare_engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(conversation).order_by(conversation.c.id))}
    waiting = {i: r.unanswered_since and r.unanswered_since.replace(tzinfo=None)
               for i, r in rows.items()}
    assert waiting == {1: datetime(2026, 3, 1, 10, 5), 2: None, 3: None}
    assert rows[2].first_answer_at.replace(tzinfo=None) == datetime(2026, 3, 1, 10, 3)
    assert rows[1].first_answer_at is None
