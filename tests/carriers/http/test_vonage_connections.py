"""Vonage connections from every interface (CLI add-http/test/change, the API, the console's
form) and the callback route taking Vonage's signed GET receipts."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from proactive_sms.carriers.http.vonage import signature, split_secrets
from proactive_sms.carriers.provider_sim import ProviderSimConfig, ProviderSimulator
from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import administration, api_keys
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store.schema import carrier_callback
from tests.interfaces.cli_runner import sales_cli

KEY, SECRET, SIGNING = "abcd1234", "api-secret-1", "signing-secret-1"


def test_cli_adds_tests_and_changes_a_vonage_connection(tmp_path, monkeypatch):
    sim = ProviderSimulator(ProviderSimConfig(api_key=KEY, api_secret=SECRET,
                                              signature_secret=SIGNING)).start_in_thread()
    try:
        run = sales_cli(tmp_path, monkeypatch)
        out = run("connection", "add-http", "vonage", "--provider", "vonage", "--account", KEY,
                  "--token", SECRET, "--signature-secret", SIGNING, "--base-url", sim.base_url,
                  "--callback-url", "https://psms.example.com/")
        assert f"vonage://{KEY}@127.0.0.1:{sim.port}" in out
        assert "https://psms.example.com/carrier-callbacks/1/inbound" in out
        shown = json.loads(run("connection", "show", "vonage", "--json"))
        assert shown["provider"] == "vonage" and SECRET not in json.dumps(shown)
        assert SIGNING not in json.dumps(shown)
        assert "bound in" in run("connection", "test", "vonage")  # the balance answered
        run("connection", "change", "vonage", "--password", "wrong")
        assert "invalid credentials" in run("connection", "test", "vonage", "--timeout", "5",
                                            code=1)
        run("connection", "change", "vonage", "--password", SECRET)
        assert "bound in" in run("connection", "test", "vonage")
        # Without a signature secret no callback could be checked: refused at once.
        out = run("connection", "add-http", "nosig", "--provider", "vonage", "--account", KEY,
                  "--token", SECRET, "--callback-url", "https://psms.example.com", code=2)
        assert "signature secret" in out
    finally:
        sim.stop()


def test_changing_one_vonage_secret_keeps_the_other(engine, bu, clock):
    administration.add_http_connection(engine, bu, clock, "vonage", provider="vonage",
                                       account=KEY, token=SECRET, signature_secret=SIGNING,
                                       callback_url="https://psms.example.com")
    from proactive_sms.services import setup_changes

    setup_changes.change_connection(engine, bu, clock, "vonage", {"password": "new-api"})
    found = administration.find_connection(engine, bu, "vonage")
    assert split_secrets(found.password) == ("new-api", SIGNING)
    setup_changes.change_connection(engine, bu, clock, "vonage", {"signature_secret": "new-sig"})
    found = administration.find_connection(engine, bu, "vonage")
    assert split_secrets(found.password) == ("new-api", "new-sig")
    administration.add_http_connection(engine, bu, clock, "twilio", provider="twilio",
                                       account="AC" + "1" * 32, token="t",
                                       callback_url="https://psms.example.com")
    with pytest.raises(InvalidRequest) as refused:
        setup_changes.change_connection(engine, bu, clock, "twilio", {"signature_secret": "x"})
    assert refused.value.field == "signature_secret"


def test_the_api_creates_a_vonage_connection_and_never_shows_its_secrets(engine, bu, clock):
    client = TestClient(create_app(engine, clock))
    key = {"Authorization": f"Bearer {api_keys.create(engine, bu, clock, 'k').secret}"}
    answer = client.post("/v1/connections/http", headers=key, json={
        "name": "vonage", "provider": "vonage", "account": KEY, "token": SECRET,
        "signature_secret": SIGNING, "callback_url": "https://psms.example.com"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["provider"] == "vonage" and body["base_url"] == "https://rest.nexmo.com"
    assert SECRET not in answer.text and SIGNING not in answer.text
    missing = client.post("/v1/connections/http", headers=key, json={
        "name": "v2", "provider": "vonage", "account": KEY, "token": SECRET,
        "callback_url": "https://psms.example.com"})
    assert missing.status_code == 422 and "signature" in missing.text
    changed = client.patch("/v1/connections/vonage", headers=key,
                           json={"signature_secret": "rotated"})
    assert changed.status_code == 200, changed.text
    found = administration.find_connection(engine, bu, "vonage")
    assert split_secrets(found.password) == (SECRET, "rotated")


def test_the_callback_route_takes_signed_get_receipts_and_refuses_the_rest(engine, bu, clock):
    client = TestClient(create_app(engine, clock))
    found = administration.add_http_connection(engine, bu, clock, "vonage", provider="vonage",
                                               account=KEY, token=SECRET,
                                               signature_secret=SIGNING,
                                               callback_url="https://psms.example.com")
    path = f"/carrier-callbacks/{found.id}/status"
    fields = {"msisdn": "12125550100", "to": "55501", "messageId": "0A00000012345678",
              "status": "delivered", "err-code": "0", "api-key": KEY, "timestamp": "1764930000",
              "nonce": "n1"}

    def signed(secret: str = SIGNING, data=None) -> dict[str, str]:
        data = data or fields
        return {**data, "sig": signature(secret, data)}

    assert client.get(path, params=signed("wrong")).status_code == 403
    assert client.get(path, params=fields).status_code == 403  # unsigned
    assert client.get(path, params={**signed(), "status": "failed"}).status_code == 403
    assert client.get(path, params=signed(SECRET)).status_code == 403  # the API secret
    assert client.get(path, params=signed()).status_code == 204
    assert client.post(path, data=signed()).status_code == 204  # a form POST: a duplicate
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(carrier_callback)).scalar() == 1
    # A JSON POST, the third way Vonage may send one.
    other = {**fields, "messageId": "0A00000012345679"}
    answer = client.post(path, content=json.dumps(signed(data=other)),
                         headers={"content-type": "application/json"})
    assert answer.status_code == 204
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(carrier_callback)).scalar() == 2
