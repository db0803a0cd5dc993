"""An API over the real store, with a key for the BU under test and keys for its neighbours."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import pytest
from fastapi.testclient import TestClient

from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import administration, api_keys
from tests.factories import HEADER, person
from tests.interfaces.api.worlds import Texted, texted_skill


@pytest.fixture
def client(engine, clock) -> TestClient:
    return TestClient(create_app(engine, clock))


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def key_a(engine, bu, clock) -> dict[str, str]:
    """A key of the `bu` fixture (tenant acme, BU sales)."""
    return auth(api_keys.create(engine, bu, clock, "integration").secret)


@pytest.fixture
def neighbour(engine, clock):
    """Another BU of the same tenant: it shares the DNC lists, nothing else."""
    return administration.init(engine, clock, "acme", "collections", "US")


@pytest.fixture
def key_b(engine, neighbour, clock) -> dict[str, str]:
    return auth(api_keys.create(engine, neighbour, clock, "integration").secret)


@pytest.fixture
def key_other_tenant(engine, clock) -> dict[str, str]:
    unit = administration.init(engine, clock, "globex", "support", "US")
    return auth(api_keys.create(engine, unit, clock, "integration").secret)


def csv_bytes(rows: Iterable[Sequence[str]], header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(client: TestClient, headers: dict, name: str, data: bytes,
           mapping: str | None = None):
    form = {"mapping": mapping} if mapping is not None else {}
    return client.post(f"/v1/calling-lists/{name}/imports", headers=headers,
                        files={"file": ("people.csv", data, "text/csv")}, data=form)


def set_up_skill(client: TestClient, headers: dict, count: int = 3, *, name: str = "notice",
                 template: str | None = "tip") -> None:
    """A registration, a list of `count` people, a template and a skill, all over HTTP."""
    assert client.post("/v1/registrations", headers=headers, json={
        "code": "55501", "kind": "short", "throughput_per_s": 100}).status_code == 201
    assert upload(client, headers, "people",
                  csv_bytes(person(i) for i in range(count))).status_code == 200
    assert client.put("/v1/templates/tip", headers=headers, json={
        "body": "Hi {FirstName}, new tip received.", "calling_list": "people"}).status_code == 200
    body = {"name": name, "registration": "55501", "calling_list": "people",
            "calling_window": {"weekday": "00:00-23:59", "weekend": "00:00-23:59"}}
    if template:
        body["template"] = template
    response = client.post("/v1/skills", headers=headers, json=body)
    assert response.status_code == 201, response.json()


@pytest.fixture
def texted(engine, bu, clock, tmp_path) -> Texted:
    """Four people of BU A texted by skill 'notice' from sms_messaging code 55501, delivered."""
    return texted_skill(engine, bu, clock, tmp_path, 4)
