"""Errors are RFC 9457 problem+json naming the field and the reason; a CSV's rejected rows come
back with their line numbers."""

from __future__ import annotations

from tests.factories import person
from tests.interfaces.api.conftest import csv_bytes, set_up_skill, upload


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= problem.keys()
    assert problem["status"] == status
    return problem


def test_a_wrong_value_names_its_field(client, key_a):
    problem = _problem(client.post("/v1/registrations", headers=key_a, json={
        "code": "55501", "kind": "medium", "throughput_per_s": 10}), 422)
    assert [e["field"] for e in problem["errors"]] == ["kind"]
    assert "long" in problem["errors"][0]["reason"]


def test_a_service_refusal_names_the_field_it_is_about(client, key_a):
    problem = _problem(client.post("/v1/registrations", headers=key_a, json={
        "code": "123", "kind": "short", "throughput_per_s": 10}), 422)
    assert problem["errors"][0]["field"] == "code"
    assert "5 or 6 digits" in problem["errors"][0]["reason"]
    problem = _problem(client.get("/v1/dnc/numbers/12", headers=key_a), 422)
    assert problem["errors"][0]["field"] == "number"


def test_a_template_syntax_error_says_where(client, key_a):
    problem = _problem(client.put("/v1/templates/bad", headers=key_a,
                                  json={"body": "Hi {FirstName"}), 422)
    error = problem["errors"][0]
    assert error["field"] == "body" and error["reason"] and error["position"] is not None


def test_a_template_with_a_field_the_list_lacks_is_refused(client, key_a):
    upload(client, key_a, "people", csv_bytes([person(1)]))
    problem = _problem(client.put("/v1/templates/t", headers=key_a, json={
        "body": "Hi {Nickname}", "calling_list": "people"}), 422)
    assert "Nickname" in problem["detail"]


def test_an_unknown_name_is_a_404_naming_the_kind(client, key_a):
    problem = _problem(client.get("/v1/skills/nope", headers=key_a), 404)
    assert problem["errors"] == [{"field": "skill", "reason": "no skill 'nope'"}]


def test_a_second_skill_of_the_same_name_is_a_409(client, key_a):
    set_up_skill(client, key_a, 1)
    problem = _problem(client.post("/v1/skills", headers=key_a, json={
        "name": "notice", "registration": "55501", "calling_list": "people"}), 409)
    assert problem["errors"][0]["field"] == "name"


def test_pausing_a_draft_skill_is_a_409_naming_the_status(client, key_a):
    set_up_skill(client, key_a, 1)
    problem = _problem(client.post("/v1/skills/notice/pause", headers=key_a), 409)
    assert problem["errors"][0]["field"] == "status"


def test_rejected_rows_come_back_with_line_numbers_and_the_good_rows_are_kept(client, key_a):
    rows = [person(1), person(2, PhoneNumber="12"), person(3), person(4, ExternalId="")]
    response = upload(client, key_a, "people", csv_bytes(rows))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"], report["records_in_list"]) == (2, 2, 2)
    assert [(r["line"], r["field"]) for r in report["rejected_rows"]] == [
        (3, "PhoneNumber"), (5, "ExternalId")]
    assert all(r["reason"] for r in report["rejected_rows"])


def test_a_mapping_that_is_not_json_names_the_mapping(client, key_a):
    problem = _problem(upload(client, key_a, "people", csv_bytes([person(1)]),
                              mapping="Mobile=cell"), 422)
    assert problem["errors"][0]["field"] == "mapping"


def test_a_mapping_moves_a_column_onto_a_field(client, key_a):
    header = ["ExternalId", "FirstName", "Mobile"]
    report = upload(client, key_a, "people", csv_bytes([["C1", "Ann", "2125550100"]], header),
                    mapping='{"Mobile": "cell"}').json()
    assert report["accepted"] == 1 and report["columns"]["Mobile"] is not None


def test_a_file_that_is_not_a_csv_is_refused_without_a_server_path(client, key_a):
    problem = _problem(upload(client, key_a, "people", b"\x00\x01\x02binary"), 422)
    assert problem["errors"][0]["field"] == "file"
    assert "psms-upload" not in problem["detail"] and "people.csv" in problem["detail"]
