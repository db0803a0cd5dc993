"""The cadence API over the real store: set and read a cadence, the dialer's next attempts and
batched outcomes (each refused item carries its problem), record status, report, isolation."""

from __future__ import annotations

import pytest

from tests.factories import person
from tests.interfaces.api.conftest import csv_bytes, upload

CADENCE = {
    "steps": [
        {"channel": "voice", "max_attempts": 2, "rest_minutes": 30},
        {"channel": "sms", "after": ["answering_machine"], "template": "missed"},
    ],
    "dispositions": ["sale", "refused"],
    "ends_on": ["sale", "refused"],
}


def set_up_agent_skill(client, headers, count=3, start=True):
    assert client.post("/v1/registrations", headers=headers, json={
        "code": "55502", "kind": "short", "throughput_per_s": 100,
        "solution": "sms_messaging"}).status_code == 201
    rows = [person(i, IsCellPhone="false" if i == 1 else "true") for i in range(count)]
    assert upload(client, headers, "customers", csv_bytes(rows)).status_code == 200
    assert client.put("/v1/templates/missed", headers=headers, json={
        "body": "Hi {FirstName}, sorry we missed you.",
        "calling_list": "customers"}).status_code == 200
    response = client.post("/v1/skills", headers=headers, json={
        "name": "sales", "registration": "55502", "calling_list": "customers",
        "kind": "agent"})
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "agent"
    response = client.put("/v1/skills/sales/cadence", headers=headers, json=CADENCE)
    assert response.status_code == 200, response.text
    if start:
        response = client.post("/v1/skills/sales/start", headers=headers, json={})
        assert response.status_code == 200, response.text


def test_the_dialer_walks_the_cadence_over_http(client, key_a):
    set_up_agent_skill(client, key_a)
    cadence = client.get("/v1/skills/sales/cadence", headers=key_a).json()
    assert [s["channel"] for s in cadence["steps"]] == ["voice", "sms"]
    assert cadence["steps"][1]["destination"] == "SMSPhoneNumber"
    attempts = client.get("/v1/skills/sales/next-attempts?limit=10", headers=key_a).json()
    assert [(a["external_id"], a["step"], a["attempt"]) for a in attempts] == [
        ("C000000", 1, 1), ("C000001", 1, 1), ("C000002", 1, 1)]
    assert attempts[0]["phone"].startswith("+1") and attempts[0]["fields"]["FirstName"] == "Ann0"
    response = client.post("/v1/skills/sales/outcomes", headers=key_a, json={"outcomes": [
        {"external_id": "C000000", "step": 1, "attempt": 1, "outcome": "answering_machine"},
        {"external_id": "C000001", "step": 1, "attempt": 1, "outcome": "answering_machine"},
        {"external_id": "C000002", "step": 1, "attempt": 1, "outcome": "no_answer"},
        {"external_id": "C000002", "step": 1, "attempt": 1, "outcome": "no_answer"},
        {"external_id": "C000002", "step": 1, "attempt": 1, "outcome": "sale"},
        {"external_id": "NOPE", "step": 1, "attempt": 1, "outcome": "busy"},
        {"external_id": "C000000", "step": 1, "attempt": 2, "outcome": "weird"},
    ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["refused"]) == (4, 3)
    results = body["results"]
    assert [r["result"] for r in results[:4]] == ["next_step", "next_step", "retry",
                                                  "already_reported"]
    assert results[0]["texted"] and results[1]["sms_skip_reason"] == "no_mobile_number"
    assert results[0]["record"]["done_reason"] == "cadence_complete"
    assert [r["problem"]["status"] for r in results[4:]] == [409, 404, 422]
    assert results[6]["problem"]["errors"][0]["field"] == "outcomes[6].outcome"
    record = client.get("/v1/skills/sales/records/C000002", headers=key_a).json()
    assert record["record"]["attempts"] == 1 and not record["record"]["done"]
    report = client.get("/v1/skills/sales/cadence/report", headers=key_a).json()
    assert {(o["step"], o["outcome"]): o["attempts"] for o in report["outcomes"]} == {
        (1, "answering_machine"): 2, (1, "no_answer"): 1, (2, "texted"): 1, (2, "skipped"): 1}
    assert report["texts_skipped"] == {"no_mobile_number": 1}



def test_an_upload_to_the_list_of_a_running_agent_skill_adds_its_new_records(client, key_a):
    set_up_agent_skill(client, key_a, count=2)
    rows = [person(i) for i in range(4)]  # two known (updated in place), two new
    report = upload(client, key_a, "customers", csv_bytes(rows)).json()
    assert report["records_in_list"] == 4 and report["joined_cadences"] == {"sales": 2}
    attempts = client.get("/v1/skills/sales/next-attempts?limit=10", headers=key_a).json()
    assert sorted(a["external_id"] for a in attempts) == [
        "C000000", "C000001", "C000002", "C000003"]


def test_a_bad_cadence_answers_422_naming_each_field(client, key_a):
    set_up_agent_skill(client, key_a, start=False)
    response = client.put("/v1/skills/sales/cadence", headers=key_a, json={"steps": [
        {"channel": "voice", "destination": "Fax"},
        {"channel": "sms", "after": ["texted"], "template": "nowhere"}]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"steps[1].destination", "steps[2].after", "steps[2].template"}
    response = client.put("/v1/skills/sales/cadence", headers=key_a, json={"steps": [
        {"channel": "voice", "max_attempts": 0}]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "steps.0.max_attempts"


def test_an_empty_outcome_batch_is_refused(client, key_a):
    set_up_agent_skill(client, key_a)
    response = client.post("/v1/skills/sales/outcomes", headers=key_a, json={"outcomes": []})
    assert response.status_code == 422


def test_an_unknown_record_answers_404(client, key_a):
    set_up_agent_skill(client, key_a)
    response = client.get("/v1/skills/sales/records/NOPE", headers=key_a)
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/v1/skills/sales/cadence", None),
    ("PUT", "/v1/skills/sales/cadence", CADENCE),
    ("GET", "/v1/skills/sales/next-attempts", None),
    ("POST", "/v1/skills/sales/outcomes", {"outcomes": [
        {"external_id": "C000000", "step": 1, "attempt": 1, "outcome": "sale"}]}),
    ("GET", "/v1/skills/sales/records/C000000", None),
    ("GET", "/v1/skills/sales/cadence/report", None),
])
def test_another_bus_cadence_answers_404_without_its_data(client, key_a, key_b, method, path,
                                                         body):
    set_up_agent_skill(client, key_a)
    response = client.request(method, path, headers=key_b, json=body)
    assert response.status_code == 404, response.text
    assert "C000000" not in response.text and "missed" not in response.text
    # and nothing changed for the owner
    attempts = client.get("/v1/skills/sales/next-attempts", headers=key_a).json()
    assert [a["attempt"] for a in attempts] == [1, 1, 1]
