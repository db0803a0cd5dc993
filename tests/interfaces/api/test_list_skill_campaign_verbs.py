"""The verbs issue 17 adds for calling lists (and their records), skills and campaigns: show,
change (PATCH with ETag / If-Match), remove (DELETE: refused, deleted or archived), each kept
to its business unit."""

from __future__ import annotations

import pytest

from proactive_sms.services import audit
from proactive_sms.store.schema import agent_skill, cadence
from tests.factories import person
from tests.interfaces.api.conftest import csv_bytes, set_up_skill, upload
from tests.interfaces.api.test_cadences_api import set_up_agent_skill


@pytest.fixture
def world(client, key_a):
    """BU A: registration 55501, list 'people' of 3, template 'tip', draft skill 'notice' in
    campaign 'spring'."""
    set_up_skill(client, key_a, 3)
    assert client.post("/v1/campaigns", headers=key_a, json={"name": "spring"}).status_code == 201
    assert client.post("/v1/campaigns/spring/skills", headers=key_a,
                       json={"skill": "notice"}).status_code == 204
    return client


def _if_match(headers: dict, etag: str) -> dict:
    return {**headers, "If-Match": etag}


# ---- calling lists ----------------------------------------------------------------------------

def test_a_calling_list_shows_its_records_skills_and_etag(world, key_a):
    response = world.get("/v1/calling-lists/people", headers=key_a)
    assert response.status_code == 200
    body = response.json()
    assert body["records"] == 3 and body["skills"] == ["notice"] and body["archived"] is False
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert "ExternalId" in body["fields"] or "external_id" in body["fields"]


def test_renaming_a_list_moves_its_name_and_is_audited(world, key_a, engine, bu):
    renamed = world.patch("/v1/calling-lists/people", headers=key_a, json={"name": "staff"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "staff" and renamed.json()["version"] == 2
    assert renamed.headers["ETag"] == '"2"'
    assert world.get("/v1/calling-lists/people", headers=key_a).status_code == 404
    assert world.get("/v1/calling-lists/staff", headers=key_a).json()["records"] == 3
    entry = audit.entries(engine, bu, action="calling_list").entries[0]
    assert (entry.action, entry.target, entry.username) == ("calling_list.renamed", "staff",
                                                            "(api)")


def test_two_renames_from_the_same_etag_one_wins_one_412(world, key_a):
    etag = world.get("/v1/calling-lists/people", headers=key_a).headers["ETag"]
    first = world.patch("/v1/calling-lists/people", headers=_if_match(key_a, etag),
                        json={"name": "staff"})
    second = world.patch("/v1/calling-lists/staff", headers=_if_match(key_a, etag),
                         json={"name": "crew"})
    assert first.status_code == 200
    assert second.status_code == 412, second.text
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["errors"][0]["field"] == "If-Match"
    assert world.get("/v1/calling-lists/staff", headers=key_a).status_code == 200


def test_renaming_onto_another_list_is_409_and_unknown_fields_422(world, key_a):
    assert upload(world, key_a, "others", csv_bytes([person(9)])).status_code == 200
    clash = world.patch("/v1/calling-lists/people", headers=key_a, json={"name": "others"})
    assert clash.status_code == 409
    unknown = world.patch("/v1/calling-lists/people", headers=key_a,
                          json={"name": "staff", "colour": "red"})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["colour"]
    bad_name = world.patch("/v1/calling-lists/people", headers=key_a, json={"name": "a/b"})
    assert bad_name.status_code == 422


def test_a_list_a_draft_uses_cannot_go_until_the_draft_goes(world, key_a):
    refused = world.delete("/v1/calling-lists/people", headers=key_a)
    assert refused.status_code == 409
    assert "notice" in refused.json()["detail"]
    assert world.delete("/v1/skills/notice", headers=key_a).json()["outcome"] == "deleted"
    removed = world.delete("/v1/calling-lists/people", headers=key_a)
    assert removed.status_code == 200 and removed.json()["outcome"] == "deleted"
    assert world.get("/v1/calling-lists/people", headers=key_a).status_code == 404
    # Its name is free again: a new import makes a new, empty list.
    assert upload(world, key_a, "people", csv_bytes([person(5)])).json()["records_in_list"] == 1


def test_a_list_finished_skills_report_on_is_archived_and_comes_back_on_import(world, key_a):
    assert world.post("/v1/skills/notice/start", headers=key_a, json={}).status_code == 200
    assert world.delete("/v1/calling-lists/people", headers=key_a).status_code == 409
    assert world.post("/v1/skills/notice/stop", headers=key_a).status_code == 200
    removed = world.delete("/v1/calling-lists/people", headers=key_a)
    assert removed.json() == {"name": "people", "outcome": "archived"}
    listed = world.get("/v1/calling-lists", headers=key_a).json()["items"]
    assert [lst["name"] for lst in listed] == []
    with_archived = world.get("/v1/calling-lists?archived=true", headers=key_a).json()["items"]
    assert [lst["name"] for lst in with_archived] == ["people"]
    assert world.get("/v1/skills/notice/report", headers=key_a).json()["total"] == 3
    assert upload(world, key_a, "people", csv_bytes([person(7)])).status_code == 200
    assert world.get("/v1/calling-lists/people", headers=key_a).json()["archived"] is False


def test_delete_with_a_stale_etag_is_412(world, key_a):
    etag = world.get("/v1/calling-lists/people", headers=key_a).headers["ETag"]
    world.patch("/v1/calling-lists/people", headers=key_a, json={"name": "staff"})
    world.delete("/v1/skills/notice", headers=key_a)
    stale = world.delete("/v1/calling-lists/staff", headers=_if_match(key_a, etag))
    assert stale.status_code == 412
    assert world.get("/v1/calling-lists/staff", headers=key_a).status_code == 200


def test_records_are_found_by_external_id_or_number_in_any_spelling(world, key_a):
    by_id = world.get("/v1/calling-lists/people/records?external_id=C000001", headers=key_a)
    assert [r["external_id"] for r in by_id.json()["items"]] == ["C000001"]
    number = person(2)[3]  # 2122000002
    spelled = f"({number[:3]}) {number[3:6]}-{number[6:]}"
    by_number = world.get("/v1/calling-lists/people/records", headers=key_a,
                          params={"number": spelled})
    assert [r["external_id"] for r in by_number.json()["items"]] == ["C000002"]
    none = world.get("/v1/calling-lists/people/records", headers=key_a,
                     params={"number": "+12125550000"})
    assert none.json()["items"] == []
    bad = world.get("/v1/calling-lists/people/records", headers=key_a,
                    params={"number": "12ab"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "number"
    one = world.get("/v1/calling-lists/people/records/C000000", headers=key_a)
    assert one.status_code == 200 and one.json()["phone"] == "+1" + person(0)[3]
    assert world.get("/v1/calling-lists/people/records/NOPE",
                     headers=key_a).status_code == 404


# ---- skills -----------------------------------------------------------------------------------

def test_a_drafts_settings_change_with_its_etag(world, key_a):
    got = world.get("/v1/skills/notice", headers=key_a)
    etag = got.headers["ETag"]
    assert etag == f'"{got.json()["version"]}"'
    changed = world.patch("/v1/skills/notice", headers=_if_match(key_a, etag),
                          json={"max_segments": 2, "pacing_per_s": 5})
    assert changed.status_code == 200, changed.text
    assert changed.json()["max_segments"] == 2 and changed.json()["pacing_per_s"] == 5
    assert changed.headers["ETag"] != etag


def test_two_patches_of_a_skill_from_the_same_etag_one_wins_one_412(world, key_a):
    etag = world.get("/v1/skills/notice", headers=key_a).headers["ETag"]
    first = world.patch("/v1/skills/notice", headers=_if_match(key_a, etag),
                        json={"max_segments": 2})
    second = world.patch("/v1/skills/notice", headers=_if_match(key_a, etag),
                         json={"max_segments": 4})
    assert (first.status_code, second.status_code) == (200, 412)
    assert world.get("/v1/skills/notice", headers=key_a).json()["max_segments"] == 2


def test_launch_and_dispatch_do_not_make_an_etag_stale(world, key_a):
    etag = world.get("/v1/skills/notice", headers=key_a).headers["ETag"]
    assert world.post("/v1/skills/notice/start", headers=key_a, json={}).status_code == 200
    # The status moved (a worker's change); a live setting still changes from the old read.
    changed = world.patch("/v1/skills/notice", headers=_if_match(key_a, etag),
                          json={"pacing_per_s": 3})
    assert changed.status_code == 200, changed.text


def test_a_skill_patch_names_unknown_fields_and_refused_settings(world, key_a):
    unknown = world.patch("/v1/skills/notice", headers=key_a, json={"speed": 3, "name": "x"})
    assert unknown.status_code == 422
    assert sorted(e["field"] for e in unknown.json()["errors"]) == ["name", "speed"]
    world.post("/v1/skills/notice/start", headers=key_a, json={})
    frozen = world.patch("/v1/skills/notice", headers=key_a, json={"max_segments": 1})
    assert frozen.status_code == 422
    assert frozen.json()["errors"][0]["field"] == "max_segments"
    cleared = world.patch("/v1/skills/notice", headers=key_a, json={"registration": None})
    assert cleared.status_code == 422


def test_a_running_skill_cannot_be_deleted_a_stopped_one_is_archived(world, key_a):
    world.post("/v1/skills/notice/start", headers=key_a, json={})
    refused = world.delete("/v1/skills/notice", headers=key_a)
    assert refused.status_code == 409 and "running" in refused.json()["detail"]
    world.post("/v1/skills/notice/stop", headers=key_a)
    archived = world.delete("/v1/skills/notice", headers=key_a)
    assert archived.json() == {"name": "notice", "outcome": "archived"}
    assert world.get("/v1/skills", headers=key_a).json()["items"] == []
    shown = world.get("/v1/skills?archived=true", headers=key_a).json()["items"]
    assert [s["name"] for s in shown] == ["notice"] and shown[0]["archived_at"]
    report = world.get("/v1/skills/notice/report", headers=key_a)
    assert report.status_code == 200 and report.json()["total"] == 3


def test_a_deleted_draft_is_gone(world, key_a):
    assert world.delete("/v1/skills/notice", headers=key_a).json()["outcome"] == "deleted"
    assert world.get("/v1/skills/notice", headers=key_a).status_code == 404
    assert world.get("/v1/campaigns/spring", headers=key_a).json()["skills"] == []


# ---- campaigns --------------------------------------------------------------------------------

def test_a_campaign_is_shown_renamed_and_removed_only_when_empty(world, key_a):
    got = world.get("/v1/campaigns/spring", headers=key_a)
    assert got.json()["skills"] == ["notice"] and got.headers["ETag"] == '"1"'
    renamed = world.patch("/v1/campaigns/spring", headers=_if_match(key_a, '"1"'),
                          json={"name": "summer"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "summer"
    stale = world.patch("/v1/campaigns/summer", headers=_if_match(key_a, '"1"'),
                        json={"name": "autumn"})
    assert stale.status_code == 412
    assert world.delete("/v1/campaigns/summer", headers=key_a).status_code == 409
    world.delete("/v1/skills/notice", headers=key_a)
    assert world.delete("/v1/campaigns/summer", headers=key_a).status_code == 204
    assert world.get("/v1/campaigns/summer", headers=key_a).status_code == 404


def test_campaign_patch_names_unknown_fields(world, key_a):
    response = world.patch("/v1/campaigns/spring", headers=key_a, json={"title": "x"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"title"}


# ---- business units ---------------------------------------------------------------------------

OTHER_BU = [
    ("GET", "/v1/calling-lists/people", None),
    ("PATCH", "/v1/calling-lists/people", {"name": "mine"}),
    ("DELETE", "/v1/calling-lists/people", None),
    ("GET", "/v1/calling-lists/people/records?external_id=C000001", None),
    ("GET", "/v1/calling-lists/people/records/C000001", None),
    ("PATCH", "/v1/skills/notice", {"max_segments": 1}),
    ("DELETE", "/v1/skills/notice", None),
    ("GET", "/v1/campaigns/spring", None),
    ("PATCH", "/v1/campaigns/spring", {"name": "mine"}),
    ("DELETE", "/v1/campaigns/spring", None),
]


@pytest.mark.parametrize(("method", "path", "body"), OTHER_BU)
def test_another_bus_key_gets_404_and_changes_nothing(world, key_a, key_b, method, path, body):
    response = world.request(method, path, headers=key_b, json=body)
    assert response.status_code == 404, response.text
    assert "Ann1" not in response.text
    assert world.get("/v1/calling-lists/people", headers=key_a).json()["version"] == 1
    assert world.get("/v1/skills/notice", headers=key_a).json()["max_segments"] == 3
    assert world.get("/v1/campaigns/spring", headers=key_a).json()["skills"] == ["notice"]


def test_an_agent_skills_draft_goes_with_its_cadence_and_agents(client, key_a, engine, bu):
    set_up_agent_skill(client, key_a, start=False)
    assert client.post("/v1/agents", headers=key_a, json={
        "name": "ann", "display_name": "Ann", "skills": ["sales"]}).status_code in (200, 201)
    with engine.connect() as conn:
        assert len(conn.execute(agent_skill.select()).all()) == 1
        assert len(conn.execute(cadence.select()).all()) == 1
    assert client.delete("/v1/skills/sales", headers=key_a).json()["outcome"] == "deleted"
    with engine.connect() as conn:
        assert conn.execute(cadence.select()).all() == []
        assert conn.execute(agent_skill.select()).all() == []
    assert client.get("/v1/skills/sales/cadence", headers=key_a).status_code == 404
