"""A key of one BU can neither read nor change anything of another BU: their names answer 404,
and the problem never carries the other BU's data."""

from __future__ import annotations

import pytest

from tests.factories import person, us_number
from tests.interfaces.api.conftest import csv_bytes, set_up_skill, upload


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
