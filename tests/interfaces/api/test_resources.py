"""Each resource doing its job for its own BU: campaigns and their reports, DNC, lifecycle."""

from __future__ import annotations

from tests.factories import us_number
from tests.interfaces.api.conftest import set_up_skill


def test_a_campaign_reports_its_skills_as_json_and_csv(client, key_a):
    set_up_skill(client, key_a, 3)
    client.post("/v1/campaigns", headers=key_a, json={"name": "spring"})
    client.post("/v1/campaigns/spring/skills", headers=key_a, json={"skill": "notice"})
    client.post("/v1/skills/notice/start", headers=key_a, json={})
    report = client.get("/v1/campaigns/spring/report", headers=key_a).json()
    assert report["skills"] == ["notice"] and report["by_state"]["pending"] == 3
    as_csv = client.get("/v1/campaigns/spring/report", headers=key_a,
                        params={"format": "csv"}).text.splitlines()
    assert as_csv[0] == "state,skip_reason,messages,cost,budget,currency"
    assert "pending,,3,,," in as_csv
    bad = client.get("/v1/campaigns/spring/report", headers=key_a, params={"format": "xml"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "format"


def test_dnc_add_check_remove(client, key_a, key_b):
    number = us_number(5)
    added = client.post("/v1/dnc/numbers", headers=key_a,
                        json={"numbers": [number, "nonsense"]}).json()
    assert added["changed"] == 1 and added["invalid"] == ["nonsense"]
    # DNC lists are the tenant's: the neighbouring BU withholds the number too.
    assert client.get(f"/v1/dnc/numbers/{number}", headers=key_b).json()["lists"] != []
    removed = client.post("/v1/dnc/removals", headers=key_a, json={"numbers": [number]}).json()
    assert removed["changed"] == 1
    assert client.get(f"/v1/dnc/numbers/{number}", headers=key_a).json()["lists"] == []


def test_pause_resume_stop_and_progress(client, key_a):
    set_up_skill(client, key_a, 2)
    client.post("/v1/skills/notice/start", headers=key_a, json={})
    assert client.post("/v1/skills/notice/pause", headers=key_a).json()["status"] == "paused"
    assert client.post("/v1/skills/notice/resume", headers=key_a).json()["status"] == "running"
    assert client.post("/v1/skills/notice/stop", headers=key_a).json()["status"] == "stopped"
    progress = client.get("/v1/skills/notice/progress", headers=key_a).json()
    assert progress["status"] == "stopped" and progress["pending"] == 0


def test_a_skill_name_outside_the_rule_is_refused_naming_the_field(client, key_a):
    set_up_skill(client, key_a, 1)
    refused = client.post("/v1/skills", headers=key_a, json={
        "name": "bonus shift!", "registration": "55501", "calling_list": "people"})
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["field"] == "name"
    assert error["reason"].startswith("a skill name has 2 to 30 characters")
