"""`/readyz` for a load balancer: 200 only while the database answers and its schema is one this
version runs on; a schema newer than the code (a rolling upgrade's first new server migrated
it) stays ready, one behind it (migrations not applied) or none is 503 with the reason, and a
database that does not answer is 503 naming only the kind of failure."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from proactive_sms.interfaces.api.app import create_app
from proactive_sms.store.engine import make_engine, schema_state


def set_version(engine, version: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})


def test_ready_at_the_head_without_a_key(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "problems": [],
                             "checks": {"database": "ok", "schema": "current"}}
    assert answer.headers["content-type"] == "application/json"


def test_a_schema_behind_this_version_is_not_ready(client, engine):
    set_version(engine, "0001")  # the first revision: everything since is not applied
    assert schema_state(engine) == "behind"
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready" and body["checks"]["schema"] == "behind"
    assert body["problems"] == ["the database schema is behind this version: run "
                                "`psms db upgrade`"]
    assert client.get("/healthz").status_code == 200  # alive all the same: do not restart it


def test_a_schema_a_newer_version_migrated_is_ready(client, engine):
    set_version(engine, "9999")  # a revision this code does not know
    assert schema_state(engine) == "newer"
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["checks"]["schema"] == "newer"


def test_a_database_never_migrated_is_not_ready(bare_engine, clock):
    assert schema_state(bare_engine) == "empty"
    answer = TestClient(create_app(bare_engine, clock)).get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"]["schema"] == "empty"


def test_a_database_that_does_not_answer_is_not_ready(tmp_path, clock):
    engine = make_engine(f"sqlite:///{tmp_path / 'no such folder' / 'psms.db'}")
    answer = TestClient(create_app(engine, clock)).get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["checks"] == {"database": "unavailable"}
    assert body["problems"] == ["the database does not answer (OperationalError)"]
    assert str(tmp_path) not in answer.text  # the driver's message stays in the server


def test_readyz_is_in_the_openapi_with_its_503(client):
    operation = client.app.openapi()["paths"]["/readyz"]["get"]
    assert set(operation["responses"]) >= {"200", "503"}
