"""Keys: one BU each, hashed at rest, refused once revoked; health and OpenAPI need none."""

from __future__ import annotations

from sqlalchemy import select

from proactive_sms.services import api_keys
from proactive_sms.store.schema import api_key
from tests.interfaces.api.conftest import auth


def test_health_and_openapi_need_no_key(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/v1/skills/{name}/start" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_a_request_without_a_key_is_a_401_problem(client):
    response = client.get("/v1/registrations")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    problem = response.json()
    assert problem["status"] == 401
    assert problem["errors"][0]["field"] == "Authorization"


def test_an_unknown_key_is_refused(client, bu):
    assert client.get("/v1/registrations", headers=auth("psms_nope")).status_code == 401


def test_a_revoked_key_is_refused_at_once(client, engine, bu, clock):
    created = api_keys.create(engine, bu, clock, "old")
    assert client.get("/v1/registrations", headers=auth(created.secret)).status_code == 200
    api_keys.revoke(engine, bu, clock, "old")
    response = client.get("/v1/registrations", headers=auth(created.secret))
    assert response.status_code == 401
    assert [k.revoked_at is not None for k in api_keys.list_keys(engine, bu)] == [True]


def test_only_the_hash_of_the_secret_is_stored(engine, bu, clock):
    created = api_keys.create(engine, bu, clock, "ci")
    with engine.connect() as conn:
        stored = conn.execute(select(api_key)).one()
    assert created.secret not in stored
    assert stored.key_hash == api_keys.hash_secret(created.secret)
    assert api_keys.authenticate(engine, created.secret) == bu
