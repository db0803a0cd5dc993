"""A key of one BU can neither read nor change anything of another BU: their names answer 404,
and the problem never carries the other BU's data."""

from __future__ import annotations

import pytest

from tests.factories import person, us_number
from tests.interfaces.api.conftest import csv_bytes, set_up_skill, upload
from tests.interfaces.api.worlds import POSSIBLE_OPT_OUT, reply, texted_skill


@pytest.fixture
def world_a(client, key_a):
    """BU A: a started skill 'notice' in campaign 'spring', with template and list."""
    set_up_skill(client, key_a, 3)
    assert client.post("/v1/campaigns", headers=key_a, json={"name": "spring"}).status_code == 201
    assert client.post("/v1/campaigns/spring/skills", headers=key_a,
                       json={"skill": "notice"}).status_code == 204
    assert client.post("/v1/skills/notice/start", headers=key_a, json={}).status_code == 200
    return client


READS = [
    ("GET", "/v1/registrations/55501", None),
    ("GET", "/v1/templates/tip", None),
    ("POST", "/v1/templates/tip/preview", {}),
    ("GET", "/v1/skills/notice", None),
    ("GET", "/v1/skills/notice/progress", None),
    ("GET", "/v1/skills/notice/report", None),
    ("GET", "/v1/skills/notice/report?format=csv", None),
    ("GET", "/v1/campaigns/spring/report", None),
]

CHANGES = [
    ("POST", "/v1/skills/notice/pause", None),
    ("POST", "/v1/skills/notice/resume", None),
    ("POST", "/v1/skills/notice/stop", None),
    ("POST", "/v1/skills/notice/start", {"message": "hijacked"}),
    ("POST", "/v1/campaigns/spring/skills", {"skill": "notice"}),
]


@pytest.mark.parametrize(("method", "path", "body"), READS + CHANGES)
def test_another_bus_names_answer_404_without_their_data(world_a, key_b, method, path, body):
    response = world_a.request(method, path, headers=key_b, json=body)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Hi {FirstName}" not in response.text and "pending" not in response.text


def test_another_bu_cannot_change_a_skill(world_a, key_a, key_b):
    for action in ("pause", "stop"):
        world_a.post(f"/v1/skills/notice/{action}", headers=key_b)
    assert world_a.get("/v1/skills/notice", headers=key_a).json()["status"] == "running"
    progress = world_a.get("/v1/skills/notice/progress", headers=key_a).json()
    assert progress["pending"] == 3


def test_registrations_are_listed_only_to_their_bu(world_a, key_a, key_b):
    listed = world_a.get("/v1/registrations", headers=key_a).json()
    assert [r["code"] for r in listed["items"]] == ["55501"]
    assert world_a.get("/v1/registrations", headers=key_b).json()["items"] == []


def test_a_template_of_the_same_name_is_the_bus_own(world_a, key_a, key_b):
    saved = world_a.put("/v1/templates/tip", headers=key_b, json={"body": "B's text"})
    assert saved.status_code == 200
    assert world_a.get("/v1/templates/tip", headers=key_a).json()["body"] == (
        "Hi {FirstName}, new tip received.")


def test_another_bus_calling_list_cannot_be_read_or_used(world_a, key_b):
    world_a.put("/v1/templates/own", headers=key_b, json={"body": "Hi {FirstName}"})
    preview = world_a.post("/v1/templates/own/preview", headers=key_b,
                           json={"calling_list": "people"})
    assert preview.status_code == 404
    assert "Ann0" not in preview.text
    world_a.post("/v1/registrations", headers=key_b,
                 json={"code": "55502", "kind": "short", "throughput_per_s": 10})
    skill = world_a.post("/v1/skills", headers=key_b, json={
        "name": "steal", "registration": "55502", "calling_list": "people"})
    assert skill.status_code == 404
    assert skill.json()["errors"][0]["field"] == "calling_list"


def test_an_upload_to_the_same_list_name_fills_the_bus_own_list(world_a, key_a, key_b):
    report = upload(world_a, key_b, "people", csv_bytes([person(90)])).json()
    assert report["records_in_list"] == 1  # not A's three plus one
    preview = world_a.post("/v1/templates/tip/preview", headers=key_a,
                           json={"calling_list": "people", "external_id": "C000090"}).json()
    assert preview["rendered"] is None or "Ann90" not in preview["rendered"]
    assert any("no record" in p for p in preview["problems"])


def test_another_tenants_key_neither_sees_nor_clears_dnc_entries(client, key_a,
                                                                 key_other_tenant):
    number = us_number(7)
    assert client.post("/v1/dnc/numbers", headers=key_a,
                       json={"numbers": [number]}).json()["changed"] == 1
    assert client.get(f"/v1/dnc/numbers/{number}", headers=key_other_tenant).json()["lists"] == []
    client.post("/v1/dnc/removals", headers=key_other_tenant, json={"numbers": [number]})
    assert client.get(f"/v1/dnc/numbers/{number}", headers=key_a).json()["lists"] != []


def test_another_tenants_dnc_group_answers_404(client, key_a, key_other_tenant):
    client.post("/v1/dnc/numbers", headers=key_a,
                json={"numbers": [us_number(8)], "group": "legal"})
    response = client.post("/v1/dnc/removals", headers=key_other_tenant,
                           json={"numbers": [us_number(8)], "group": "legal"})
    assert response.status_code == 404


# --- the lists, messages, inbound texts, reviews and conversations -------------------------

@pytest.fixture
def talk_a(client, key_a, engine, bu, clock, tmp_path):
    """BU A: texts sent and delivered, a conversation, a possible opt-out waiting for review,
    a template, a campaign, and a DNC group 'legal' of its tenant."""
    texted = texted_skill(engine, bu, clock, tmp_path, 3)
    answer = reply(engine, clock, 0, "Can I pay next week?")
    doubt = reply(engine, clock, 1, POSSIBLE_OPT_OUT)
    client.post("/v1/dnc/numbers", headers=key_a, json={"numbers": [us_number(8)],
                                                         "group": "legal"})
    client.put("/v1/templates/tip", headers=key_a, json={"body": "Hi {FirstName}"})
    client.post("/v1/campaigns", headers=key_a, json={"name": "spring"})
    return {"message": texted.message_ids[0], "inbound": answer.inbound_id,
            "conversation": answer.conversation_id, "review": doubt.inbound_id}


ID_READS = [
    ("GET", "/v1/calling-lists/people/records", None),
    ("GET", "/v1/skills?campaign=spring", None),
    ("GET", "/v1/messages/{message}", None),
    ("GET", "/v1/messages?skill=notice", None),
    ("GET", "/v1/inbound-texts/{inbound}", None),
    ("GET", "/v1/inbound-texts?skill=notice", None),
    ("GET", "/v1/conversations/{conversation}", None),
    ("GET", "/v1/conversations?skill=notice", None),
]

ID_CHANGES = [
    ("POST", "/v1/conversations/{conversation}/replies", {"text": "hijacked"}),
    ("POST", "/v1/conversations/{conversation}/close", None),
    ("POST", "/v1/reviews/{review}/accept", None),
    ("POST", "/v1/reviews/{review}/reject", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ID_READS + ID_CHANGES)
def test_another_bus_ids_answer_404_without_their_data(talk_a, client, key_b, method, path,
                                                       body):
    response = client.request(method, path.format(**talk_a), headers=key_b, json=body)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for secret in ("Ann0", "pay next week", us_number(0), "we miss you"):
        assert secret not in response.text


LISTS_OF_A = ["/v1/registrations", "/v1/calling-lists", "/v1/templates", "/v1/skills",
              "/v1/campaigns", "/v1/messages", "/v1/inbound-texts", "/v1/reviews",
              "/v1/conversations"]


@pytest.mark.parametrize("path", LISTS_OF_A)
def test_another_bus_lists_hold_none_of_a(talk_a, client, key_a, key_b, path):
    assert client.get(path, headers=key_a).json()["items"] != []
    assert client.get(path, headers=key_b).json() == {"items": [], "next_cursor": None}


def test_another_bu_neither_answers_closes_nor_decides_for_a(talk_a, client, key_a, key_b):
    for action in ID_CHANGES:
        client.request(action[0], action[1].format(**talk_a), headers=key_b, json=action[2])
    conversation = client.get(f"/v1/conversations/{talk_a['conversation']}",
                              headers=key_a).json()
    assert conversation["status"] == "open"
    assert all(e["text"] != "hijacked" for e in conversation["history"])
    assert [r["id"] for r in client.get("/v1/reviews", headers=key_a).json()["items"]] == [
        talk_a["review"]]
    assert client.get("/v1/messages", headers=key_a, params={"state": "pending"}).json()[
        "items"] == []


def test_another_tenant_neither_reads_nor_fills_the_tenants_dnc_lists(talk_a, client, key_a,
                                                                     key_other_tenant):
    for path in ("/v1/dnc/lists/legal/entries", "/v1/dnc/lists/legal/export"):
        assert client.get(path, headers=key_other_tenant).status_code == 404
    names = [x["name"] for x in client.get("/v1/dnc/lists",
                                           headers=key_other_tenant).json()["items"]]
    assert names == ["default"]  # its own default list
    assert client.get("/v1/dnc/lists/default/entries",
                      headers=key_other_tenant).json()["items"] == []
    client.post("/v1/dnc/lists/legal/imports", headers=key_other_tenant,
                files={"file": ("x.csv", f"number\n{us_number(9)}\n".encode(), "text/csv")})
    entries = client.get("/v1/dnc/lists/legal/entries", headers=key_a).json()["items"]
    assert [e["number"] for e in entries] == ["+1" + us_number(8)]


def test_the_bus_of_one_tenant_share_its_dnc_lists(talk_a, client, key_b):
    entries = client.get("/v1/dnc/lists/legal/entries", headers=key_b).json()["items"]
    assert [e["number"] for e in entries] == ["+1" + us_number(8)]
