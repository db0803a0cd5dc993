"""Text no database can store (NUL, lone surrogates) is refused as 422 naming the field, on both
databases, instead of failing as a 500 in PostgreSQL; a value too long for its column too."""

from __future__ import annotations

import json

from tests.interfaces.api.conftest import upload


def test_a_nul_in_a_json_field_is_refused_naming_the_field(client, key_a):
    response = client.put("/v1/templates/tip", headers=key_a,
                          json={"body": "Hi\x00", "direction": "ltr"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body", "location": "body",
                                          "reason": "contains a NUL character (\\u0000)"}]
    assert client.get("/v1/templates/tip", headers=key_a).status_code == 404


def test_nested_fields_keys_path_and_query_are_named(client, key_a):
    numbers = client.post("/v1/dnc/numbers", headers=key_a,
                          json={"numbers": ["+12125550100", "2125\x00550101"]})
    assert numbers.json()["errors"][0]["field"] == "numbers.1"
    values = client.post("/v1/templates/tip/preview", headers=key_a,
                         json={"values": {"First\x00": "x"}})
    assert values.json()["errors"][0] == {"field": "values", "location": "body",
                                          "reason": "a key contains a NUL character (\\u0000)"}
    path = client.get("/v1/skills/a%00b", headers=key_a)
    assert (path.status_code, path.json()["errors"][0]["location"]) == (422, "path")
    query = client.get("/v1/skills/x/report?format=%00", headers=key_a)
    assert (query.status_code, query.json()["errors"][0]["field"]) == (422, "format")


def test_a_lone_surrogate_is_not_unicode(client, key_a):
    raw = json.dumps({"body": "\ud800 hi"})  # ensure_ascii keeps it as the escape \ud800
    response = client.put("/v1/templates/tip", headers={**key_a,
                          "Content-Type": "application/json"}, content=raw)
    assert response.status_code == 422
    assert "lone surrogate" in response.json()["errors"][0]["reason"]


def test_a_nul_in_a_form_field_of_an_upload_is_refused(client, key_a):
    response = upload(client, key_a, "people", b"ExternalId,PhoneNumber\n1,2125550100\n",
                      mapping='{"Phone\x00": "phone"}')
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mapping"


def test_a_name_longer_than_its_column_is_a_422_not_a_500(client, key_a, engine):
    response = client.put("/v1/templates/" + "t" * 300, headers=key_a, json={"body": "Hi"})
    # The name rule (domain/names.py) refuses it before any database, SQLite (which ignores
    # column lengths) included.
    assert response.status_code == 422
    assert "longer than 100 characters" in response.text
