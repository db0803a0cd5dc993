"""`GET /v1/numbers/{number}/history`: the number's decisions in order, to its own unit only."""

from __future__ import annotations

import pytest

from tests.services import number_story
from tests.services.test_number_history import STORY_KINDS


@pytest.fixture
async def story(engine, bu, tmp_path):
    return await number_story.tell(engine, bu, tmp_path)


async def test_the_history_tells_each_decision_in_order(client, key_a, story):
    response = client.get(f"/v1/numbers/{story.local}/history", headers=key_a)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["number"] == story.number and body["masked"] is False  # a key sees numbers
    assert [(e["kind"], e["skill"]) for e in body["events"]] == STORY_KINDS
    events = body["events"]
    assert events[0]["details"] == {"calling_list": "people", "external_id": "C000000",
                                    "number": story.number, "line": 2}
    assert events[3]["details"]["wait"] == "window"
    assert events[3]["details"]["until"].startswith("2026-01-14T13:00:00")
    assert events[5]["details"]["wait"] == "review"
    assert events[7]["details"]["connection"] == "sim"
    assert events[9]["details"]["state"] == "delivered"
    assert events[10]["details"]["classification"] == "opt_out"
    assert events[11]["details"]["source"] == "opt_out"
    assert events[14]["details"]["source"] == "opt_in"
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)


async def test_the_number_in_e164_and_narrowed_to_a_skill(client, key_a, story):
    response = client.get("/v1/numbers/%2B" + story.number[1:] + "/history",
                          params={"skill": "shortie"}, headers=key_a)
    assert response.status_code == 200, response.text
    assert [e["kind"] for e in response.json()["events"]] == ["imported", "skipped",
                                                              "dnc_added", "dnc_removed"]


async def test_another_units_key_sees_an_empty_history(client, key_b, key_other_tenant, story):
    for key in (key_b, key_other_tenant):
        response = client.get(f"/v1/numbers/{story.local}/history", headers=key)
        assert response.status_code == 200
        assert response.json()["events"] == []
        assert "C000000" not in response.text and "55501" not in response.text


async def test_bad_input_is_named(client, key_a, story):
    response = client.get("/v1/numbers/12ab/history", headers=key_a)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "number"
    response = client.get(f"/v1/numbers/{story.local}/history", params={"skill": "nope"},
                          headers=key_a)
    assert response.status_code == 404 and "no skill 'nope'" in response.json()["detail"]
    assert client.get(f"/v1/numbers/{story.local}/history").status_code == 401


async def test_a_records_history_is_its_numbers(client, key_a, key_b, story):
    by_record = client.get("/v1/calling-lists/people/records/C000000/history", headers=key_a)
    assert by_record.status_code == 200, by_record.text
    assert by_record.json() == client.get(f"/v1/numbers/{story.local}/history",
                                          headers=key_a).json()
    assert client.get("/v1/calling-lists/people/records/C000000/history",
                      headers=key_b).status_code == 404  # another unit's list
    assert client.get("/v1/calling-lists/people/records/nobody/history",
                      headers=key_a).status_code == 404
