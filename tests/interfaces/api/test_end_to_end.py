"""The fixed-notice use over HTTP: upload a list, save a template, create and start a skill, let
the dispatcher send it through the SMSC simulator, and read the report (JSON and CSV)."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from fastapi.testclient import TestClient

from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import administration, api_keys
from proactive_sms.services.dispatch import Dispatcher
from tests.factories import person
from tests.interfaces.api.conftest import auth, csv_bytes, upload
from tests.services.dispatch_world import FAST, DaytimeClock, simulator


@pytest.fixture
def sim():
    server = simulator()
    yield server
    server.stop_in_thread()


async def test_a_list_uploaded_and_started_over_http_is_delivered_and_reported(engine, bu,
                                                                                sim):
    clock = DaytimeClock()
    # Carrier connections are the operator's (tenant-wide, with secrets): set up outside the API.
    administration.add_connection(engine, bu, clock, "sim", "127.0.0.1", sim.port, "psms",
                                  "secret", 10)
    client = TestClient(create_app(engine, clock))
    key = auth(api_keys.create(engine, bu, clock, "e2e").secret)

    assert client.post("/v1/registrations", headers=key, json={
        "code": "55501", "kind": "short", "throughput_per_s": 100,
        "connection": "sim"}).status_code == 201
    rows = [person(i) for i in range(20)] + [person(99, PhoneNumber="12")]
    imported = upload(client, key, "people", csv_bytes(rows)).json()
    assert (imported["accepted"], imported["rejected"]) == (20, 1)
    assert client.put("/v1/templates/tip", headers=key, json={
        "body": "Hi {FirstName}, new tip received.", "calling_list": "people"}).status_code == 200
    preview = client.post("/v1/templates/tip/preview", headers=key,
                          json={"calling_list": "people"}).json()
    assert preview["rendered"] == "Hi Ann0, new tip received." and preview["segments"] == 1
    assert client.post("/v1/skills", headers=key, json={
        "name": "tips", "registration": "55501", "calling_list": "people",
        "template": "tip"}).status_code == 201
    started = client.post("/v1/skills/tips/start", headers={**key, "Idempotency-Key": "t1"},
                          json={}).json()
    assert (started["status"], started["pending"]) == ("running", 20)

    await asyncio.wait_for(Dispatcher(engine, clock, FAST).run(until_idle=True,
                                                               receipt_grace_s=5.0), 60)

    progress = client.get("/v1/skills/tips/progress", headers=key).json()
    assert (progress["status"], progress["delivered"], progress["pending"]) == (
        "finished", 20, 0)
    report = client.get("/v1/skills/tips/report", headers=key).json()
    assert report["by_state"]["delivered"] == 20 and report["delivery_rate"] == 1.0
    as_csv = client.get("/v1/skills/tips/report?format=csv", headers=key)
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = {(r["state"], r["skip_reason"]): int(r["messages"])
             for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert lines[("delivered", "")] == 20
    assert len(sim.accepted_submits()) == 20

    # Each text as the carrier took it: its id there and its receipt.
    delivered = client.get("/v1/messages", headers=key, params={
        "skill": "tips", "state": "delivered", "limit": 500}).json()["items"]
    assert len(delivered) == 20
    one = client.get(f"/v1/messages/{delivered[0]['id']}", headers=key).json()
    (part,) = one["parts"]
    assert part["carrier_message_id"] and part["receipt_state"] == "delivered"
    assert one["sent_at"] and one["finished_at"] and one["body"] == "Hi Ann0, new tip received."
