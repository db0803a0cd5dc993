"""An unknown field in any API request body is refused with a 422 naming it, never ignored
(issue 16): a misspelt `start_at` must not start a skill now. The walk covers every operation
of the OpenAPI that takes a body (the OpenAPI is made from the app's routes), so a route added
without the rule fails here."""

from __future__ import annotations

import re

import pytest

from proactive_sms.interfaces.api.errors import UNKNOWN_FIELD
from proactive_sms.interfaces.api.request_bodies import RequestBody
from tests.factories import person
from tests.interfaces.api.conftest import csv_bytes, set_up_skill, upload

UNKNOWN = "colour"


def body_operations(app) -> list[tuple[str, str, str]]:
    """(method, path, content type) of every operation with a request body."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for content_type in (operation.get("requestBody") or {}).get("content", {}):
                found.append((method.upper(), path, content_type))
    return found


def concrete(path: str) -> str:
    """The path with every parameter filled (the body is checked before anything is looked
    up, so the resource need not exist)."""
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1).endswith("_id") else "nothing",
                  path)


def refused_naming_unknown(answer) -> bool:
    if answer.status_code != 422:
        return False
    return any(e["field"] == UNKNOWN and e["reason"] == UNKNOWN_FIELD
               for e in answer.json()["errors"])


def test_the_walk_sees_every_body_of_the_api(client):
    operations = body_operations(client.app)
    assert len(operations) >= 30  # a walk that found nothing would prove nothing
    assert ("POST", "/v1/skills/{name}/start", "application/json") in operations
    assert ("POST", "/v1/calling-lists/{name}/imports", "multipart/form-data") in operations


def test_every_operation_with_a_body_refuses_an_unknown_field(client, key_a):
    missed = []
    for method, path, content_type in body_operations(client.app):
        url = concrete(path)
        if content_type == "application/json":
            answer = client.request(method, url, headers=key_a, json={UNKNOWN: "red"})
        else:  # an upload: the file, and a form field the route does not take
            answer = client.request(method, url, headers=key_a, data={UNKNOWN: "red"},
                                    files={"file": ("list.csv", b"phone\n", "text/csv")})
        if not refused_naming_unknown(answer):
            missed.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
    assert not missed, "\n".join(missed)


def test_every_json_body_model_forbids_extra_fields_down_to_nested_ones(client):
    """The schema says so too: clients generated from the OpenAPI know it."""
    spec = client.app.openapi()
    schemas = spec["components"]["schemas"]

    def objects(schema: dict, seen: set[str]):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                yield name, schemas[name]
                yield from objects(schemas[name], seen)
            return
        for sub in schema.get("properties", {}).values():
            yield from objects(sub, seen)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                yield from objects(schema[key], seen)
        for key in ("anyOf", "allOf", "oneOf"):
            for sub in schema.get(key, []):
                yield from objects(sub, seen)

    lax = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            for name, schema in objects(content["application/json"]["schema"], set()):
                closed = schema.get("additionalProperties") is False
                if schema.get("type") == "object" and not closed:
                    lax.append(f"{method.upper()} {path}: {name}")
    assert not lax, lax


def test_a_misspelt_start_moment_does_not_start_the_skill(client, key_a):
    set_up_skill(client, key_a)
    answer = client.post("/v1/skills/notice/start", headers=key_a,
                         json={"template": "tip", "start_time": "2027-01-04T09:00:00Z"})
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["errors"] == [{"field": "start_time", "reason": UNKNOWN_FIELD,
                                  "location": "body"}]
    assert "start_time" in problem["detail"]
    assert client.get("/v1/skills/notice", headers=key_a).json()["status"] == "draft"


def test_a_nested_unknown_field_is_named_with_its_path(client, key_a):
    set_up_skill(client, key_a)
    answer = client.post("/v1/skills", headers=key_a, json={
        "name": "second", "registration": "55501", "calling_list": "people",
        "template": "tip", "calling_window": {"weekday": "09:00-17:00", "weeknd": "x"}})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "calling_window.weeknd",
                                        "reason": UNKNOWN_FIELD, "location": "body"}]
    assert client.get("/v1/skills/second", headers=key_a).status_code == 404


def test_an_unknown_field_beside_valid_ones_writes_nothing(client, key_a):
    answer = client.post("/v1/registrations", headers=key_a, json={
        "code": "55501", "kind": "short", "throughput_per_s": 100, "throughput": 5})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["throughput"]
    assert client.get("/v1/registrations/55501", headers=key_a).status_code == 404


def test_an_upload_with_an_unknown_form_field_is_refused_before_reading_it(client, key_a):
    data = csv_bytes(person(i) for i in range(2))
    answer = client.post("/v1/calling-lists/people/imports", headers=key_a,
                         files={"file": ("people.csv", data, "text/csv")},
                         data={"delimeter": ";"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "delimeter", "reason": UNKNOWN_FIELD,
                                        "location": "body"}]
    assert client.get("/v1/calling-lists/people", headers=key_a).status_code == 404
    assert upload(client, key_a, "people", data).status_code == 200  # declared fields pass


@pytest.mark.parametrize("model", RequestBody.__subclasses__())
def test_every_request_body_class_keeps_the_rule(model):
    """A subclass cannot quietly turn it off."""
    assert model.model_config.get("extra") == "forbid", model
