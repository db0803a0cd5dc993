"""`/v1/agents`, an agent's conversations, `/v1/conversations/{id}/assignment` and the agent
report, over HTTP against the real store; another BU's names and ids answer 404."""

from __future__ import annotations

import pytest

from tests.services.agent_world import e164, texted_world

PROBLEM = "application/problem+json"


@pytest.fixture
def world(engine, bu, clock, tmp_path):
    return texted_world(engine, bu, clock, tmp_path)


def _agent(client, key, name, availability="available", **extra):
    response = client.post("/v1/agents", headers=key, json={
        "name": name, "availability": availability, "skills": ["follow-up"], **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_read_and_list_agents_page_by_page(client, key_a, world):
    created = _agent(client, key_a, "ana", display_name="Ana Ruiz", max_open_conversations=5)
    assert created["skills"] == ["follow-up"] and created["open_conversations"] == 0
    for name in ("ben", "cho", "dee"):
        _agent(client, key_a, name)
    assert client.get("/v1/agents/ana", headers=key_a).json()["display_name"] == "Ana Ruiz"
    seen, cursor = [], None
    while True:
        page = client.get("/v1/agents", headers=key_a,
                          params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [a["name"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["ana", "ben", "cho", "dee"]


def test_bad_agent_requests_name_the_field(client, key_a, world):
    _agent(client, key_a, "ana")
    again = client.post("/v1/agents", headers=key_a, json={"name": "ana"})
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    bad = client.post("/v1/agents", headers=key_a, json={"name": "a b", "availability": "busy"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"name", "availability"}
    unknown_skill = client.post("/v1/agents", headers=key_a,
                                json={"name": "bo", "skills": ["nope"]})
    assert unknown_skill.status_code == 404 and "skill 'nope'" in unknown_skill.text
    # NUL cannot be stored in PostgreSQL text: a bad value (422), never a server error
    for path, body in (("/v1/agents", {"name": "bo", "display_name": "B\x00"}),
                       ("/v1/agents", {"name": "bo", "skills": ["\x00"]})):
        assert client.post(path, headers=key_a, json=body).status_code == 422
    assert client.put("/v1/agents/ana/skills/%00", headers=key_a).status_code == 422
    cursor = client.get("/v1/agents", headers=key_a, params={"cursor": "garbage!"})
    assert cursor.status_code == 422 and cursor.json()["errors"][0]["field"] == "cursor"


def test_replies_are_spread_and_queues_show_waiting_times(client, key_a, world, clock):
    for name in ("ana", "ben", "cho"):
        _agent(client, key_a, name)
    ids = []
    for i in range(10):
        ids.append(world.reply(i).conversation_id)
        clock.advance(10)
    counts = [client.get(f"/v1/agents/{n}", headers=key_a).json()["open_conversations"]
              for n in ("ana", "ben", "cho")]
    assert counts == [4, 3, 3]
    queue = client.get("/v1/agents/ana/conversations", headers=key_a).json()
    assert [c["id"] for c in queue["items"]] == [ids[0], ids[3], ids[6], ids[9]]
    first = queue["items"][0]
    assert first["waiting_s"] == 100.0 and first["agent"] == "ana"
    assert first["customer"] != e164(0) and first["customer"].endswith(e164(0)[-4:])
    paged = client.get("/v1/agents/ana/conversations", headers=key_a, params={"limit": 3}).json()
    rest = client.get("/v1/agents/ana/conversations", headers=key_a,
                      params={"cursor": paged["next_cursor"]}).json()
    assert [c["id"] for c in paged["items"] + rest["items"]] == [c["id"] for c in queue["items"]]


def test_waiting_conversations_go_to_an_agent_who_becomes_available(client, key_a, world):
    _agent(client, key_a, "ana", availability="away")
    cid = world.reply(1).conversation_id
    assert client.get(f"/v1/conversations/{cid}/assignment", headers=key_a).json()["agent"] is None
    waiting = {"status": "open", "assigned": "false"}
    listed = client.get("/v1/conversations", headers=key_a, params=waiting).json()["items"]
    assert [c["id"] for c in listed] == [cid] and listed[0]["waiting_since"] is not None
    back = client.put("/v1/agents/ana/availability", headers=key_a,
                      json={"availability": "available"})
    assert back.status_code == 200 and back.json()["assigned_conversations"] == [cid]
    assert client.get("/v1/conversations", headers=key_a, params=waiting).json()["items"] == []
    held = client.get("/v1/conversations", headers=key_a, params={"assigned": "true"}).json()
    assert [c["id"] for c in held["items"]] == [cid]
    gone = client.put("/v1/agents/ana/availability", headers=key_a,
                      json={"availability": "offline"}).json()
    assert (gone["handed_back_conversations"], gone["assigned_conversations"]) == ([cid], [])
    listed = client.get("/v1/conversations", headers=key_a, params=waiting).json()["items"]
    assert [c["id"] for c in listed] == [cid]
    bad = client.put("/v1/agents/ana/availability", headers=key_a, json={"availability": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "availability"


def test_skills_are_added_and_removed(client, key_a, world, engine, bu, clock):
    from proactive_sms.services import administration

    administration.create_skill(engine, bu, clock, name="second", registration="55501",
                                calling_list="follow-up-people")
    _agent(client, key_a, "ana")
    added = client.put("/v1/agents/ana/skills/second", headers=key_a)
    assert added.json()["skills"] == ["follow-up", "second"]
    removed = client.delete("/v1/agents/ana/skills/follow-up", headers=key_a)
    assert removed.json()["skills"] == ["second"]
    again = client.delete("/v1/agents/ana/skills/follow-up", headers=key_a)
    assert again.status_code == 409 and "does not answer" in again.json()["detail"]
    assert client.put("/v1/agents/ana/skills/nope", headers=key_a).status_code == 404


def test_only_the_assigned_agent_answers_and_a_supervisor_transfers(client, key_a, world):
    _agent(client, key_a, "ana")
    _agent(client, key_a, "ben", availability="away")
    _agent(client, key_a, "cho", availability="offline")
    cid = world.reply(1).conversation_id
    wrong = client.post(f"/v1/agents/ben/conversations/{cid}/answers", headers=key_a,
                        json={"text": "Hi"})
    assert wrong.status_code == 409 and wrong.headers["content-type"] == PROBLEM
    assert "assigned to ana" in wrong.json()["detail"] and "assignment" in wrong.json()["detail"]
    empty = client.post(f"/v1/agents/ana/conversations/{cid}/answers", headers=key_a,
                        json={"text": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "text"
    ok = client.post(f"/v1/agents/ana/conversations/{cid}/answers", headers=key_a,
                     json={"text": "Ana here"})
    assert ok.status_code == 201 and ok.json()["conversation_id"] == cid

    unknown = client.put(f"/v1/conversations/{cid}/assignment", headers=key_a,
                         json={"agent": "zed"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "agent"
    offline = client.put(f"/v1/conversations/{cid}/assignment", headers=key_a,
                         json={"agent": "cho"})
    assert offline.status_code == 409 and "offline" in offline.json()["detail"]
    moved = client.put(f"/v1/conversations/{cid}/assignment", headers=key_a,
                       json={"agent": "ben"})
    assert moved.status_code == 200 and moved.json()["agent"] == "ben"
    closed = client.post(f"/v1/agents/ben/conversations/{cid}/close", headers=key_a)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.post(f"/v1/agents/ben/conversations/{cid}/close",
                       headers=key_a).status_code == 409
    missing = client.get("/v1/conversations/999999/assignment", headers=key_a)
    assert missing.status_code == 404


def test_report_gives_handled_conversations_and_time_to_first_answer(client, key_a, world,
                                                                    clock):
    _agent(client, key_a, "ana")
    cid = world.reply(1).conversation_id
    clock.advance(90)
    client.post(f"/v1/agents/ana/conversations/{cid}/answers", headers=key_a,
                json={"text": "Hi"})
    report = client.get("/v1/reports/agents", headers=key_a).json()
    assert (report["conversations"], report["answered"], report["mean_first_answer_s"]) == (
        1, 1, 90.0)
    assert report["agents"][0]["handled"] == 1
    later = client.get("/v1/reports/agents", headers=key_a,
                       params={"since": "2099-01-01T00:00:00Z"}).json()
    assert later["conversations"] == 0
    naive = client.get("/v1/reports/agents", headers=key_a, params={"since": "2026-01-01T00:00"})
    assert naive.status_code == 422


# --- business-unit isolation ------------------------------------------------------------------

@pytest.fixture
def world_a(client, key_a, world):
    """BU A: agent ana with one open conversation (#cid), answered once."""
    _agent(client, key_a, "ana")
    cid = world.reply(1, "my secret question").conversation_id
    client.post(f"/v1/agents/ana/conversations/{cid}/answers", headers=key_a,
                json={"text": "secret answer"})
    return cid


def _routes(cid):
    return [
        ("GET", "/v1/agents/ana", None),
        ("PUT", "/v1/agents/ana/availability", {"availability": "offline"}),
        ("PUT", "/v1/agents/ana/skills/follow-up", None),
        ("DELETE", "/v1/agents/ana/skills/follow-up", None),
        ("GET", "/v1/agents/ana/conversations", None),
        ("POST", f"/v1/agents/ana/conversations/{cid}/answers", {"text": "hijack"}),
        ("POST", f"/v1/agents/ana/conversations/{cid}/close", None),
        ("GET", f"/v1/conversations/{cid}/assignment", None),
        ("PUT", f"/v1/conversations/{cid}/assignment", {"agent": "ana"}),
    ]


@pytest.mark.parametrize("index", range(9))
def test_another_bus_agents_and_conversations_answer_404(client, world_a, key_a, key_b, index):
    method, path, body = _routes(world_a)[index]
    response = client.request(method, path, headers=key_b, json=body)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "secret" not in response.text and "follow-up" not in response.text
    ana = client.get("/v1/agents/ana", headers=key_a).json()
    assert (ana["availability"], ana["skills"], ana["open_conversations"]) == (
        "available", ["follow-up"], 1)


def test_another_bus_own_agent_cannot_take_or_answer_this_bus_conversation(
        client, world_a, key_a, key_b):
    _agent_b = client.post("/v1/agents", headers=key_b, json={"name": "zoe",
                                                               "availability": "available"})
    assert _agent_b.status_code == 201
    assert client.get("/v1/agents", headers=key_b).json()["items"][0]["name"] == "zoe"
    assert [a["name"] for a in client.get("/v1/agents", headers=key_a).json()["items"]] == ["ana"]
    steal = client.put(f"/v1/conversations/{world_a}/assignment", headers=key_a,
                       json={"agent": "zoe"})
    assert steal.status_code == 422  # zoe is not an agent of this BU
    assert client.post(f"/v1/agents/zoe/conversations/{world_a}/answers", headers=key_b,
                       json={"text": "x"}).status_code == 404
    report_b = client.get("/v1/reports/agents", headers=key_b).json()
    assert report_b["conversations"] == 0 and [a["name"] for a in report_b["agents"]] == ["zoe"]
    assert client.get("/v1/agents/ana", headers=key_b).status_code == 404


def test_every_agent_route_needs_a_key(client, world_a):
    for method, path, body in _routes(world_a) + [("GET", "/v1/agents", None),
                                                  ("POST", "/v1/agents", {"name": "x"}),
                                                  ("GET", "/v1/reports/agents", None)]:
        assert client.request(method, path, json=body).status_code == 401, path
