"""`/v1/conversations`: listed by status and skill, read with history, answered (once per
Idempotency-Key), closed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from proactive_sms.store.schema import message
from tests.interfaces.api.worlds import reply, texted_skill


@pytest.fixture
def talk(client, key_a, engine, bu, clock, tmp_path):
    """Two customers answered the skill's text; the first one twice."""
    texted_skill(engine, bu, clock, tmp_path, 3)
    clock.advance(60)
    first = reply(engine, clock, 0, "Can I pay next week?")
    clock.advance(30)
    reply(engine, clock, 0, "Or on Monday?")
    second = reply(engine, clock, 1, "Who is this?")
    return first.conversation_id, second.conversation_id


def _agent_replies(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(message)
                           .where(message.c.kind == "agent_reply"))


def test_conversations_are_listed_with_masked_numbers_and_their_skill(client, key_a, talk):
    items = client.get("/v1/conversations", headers=key_a).json()["items"]
    assert [c["id"] for c in items] == list(talk)
    assert items[0]["number"] == "+1******0000" and items[0]["skill"] == "notice"
    assert items[0]["status"] == "open" and items[0]["waiting_since"] is not None


def test_a_conversation_reads_with_its_history(client, key_a, talk):
    found = client.get(f"/v1/conversations/{talk[0]}", headers=key_a).json()
    assert [(e["direction"], e["text"]) for e in found["history"]] == [
        ("out", "Hi Ann0, we miss you."), ("in", "Can I pay next week?"),
        ("in", "Or on Monday?")]


def test_a_reply_is_queued_once_per_idempotency_key(client, key_a, engine, talk):
    headers = {**key_a, "Idempotency-Key": "answer-1"}
    first = client.post(f"/v1/conversations/{talk[0]}/replies", headers=headers,
                        json={"text": "Monday is fine."})
    again = client.post(f"/v1/conversations/{talk[0]}/replies", headers=headers,
                        json={"text": "Monday is fine."})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["Idempotency-Replayed"] == "true"
    assert _agent_replies(engine) == 1
    message_id = first.json()["message_id"]
    queued = client.get(f"/v1/messages/{message_id}", headers=key_a).json()
    assert (queued["kind"], queued["state"], queued["body"]) == (
        "agent_reply", "pending", "Monday is fine.")
    found = client.get(f"/v1/conversations/{talk[0]}", headers=key_a).json()
    assert found["waiting_since"] is None and found["history"][-1]["text"] == "Monday is fine."


def test_a_blank_reply_is_refused(client, key_a, engine, talk):
    response = client.post(f"/v1/conversations/{talk[0]}/replies", headers=key_a,
                           json={"text": "   "})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "text"
    assert _agent_replies(engine) == 0


def test_a_closed_conversation_refuses_replies_and_a_second_close(client, key_a, engine, talk):
    closed = client.post(f"/v1/conversations/{talk[1]}/close", headers=key_a)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(f"/v1/conversations/{talk[1]}/close", headers=key_a)
    answer = client.post(f"/v1/conversations/{talk[1]}/replies", headers=key_a,
                         json={"text": "Hello?"})
    assert again.status_code == answer.status_code == 409
    assert _agent_replies(engine) == 0


def test_filters_status_and_skill(client, key_a, talk):
    client.post(f"/v1/conversations/{talk[1]}/close", headers=key_a)

    def ids(**params):
        return [c["id"] for c in client.get("/v1/conversations", headers=key_a,
                                            params=params).json()["items"]]

    assert ids(status="open") == [talk[0]] and ids(status="closed") == [talk[1]]
    assert ids(skill="notice") == list(talk)
    assert client.get("/v1/conversations", headers=key_a,
                      params={"status": "lost"}).status_code == 422


def test_an_unknown_conversation_answers_404(client, key_a, talk):
    for method, path in [("GET", "/v1/conversations/999"),
                         ("POST", "/v1/conversations/999/close")]:
        assert client.request(method, path, headers=key_a).status_code == 404
    assert client.post("/v1/conversations/999/replies", headers=key_a,
                       json={"text": "hi"}).status_code == 404
