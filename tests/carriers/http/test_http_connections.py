"""HTTP provider connections from every interface: the CLI (add-http, show, list, test,
change), the API (/v1/connections/http), and the callback route's refusals."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from proactive_sms.carriers.http.twilio import signature
from proactive_sms.carriers.provider_sim import ProviderSimConfig, ProviderSimulator
from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import administration, api_keys
from tests.interfaces.cli_runner import sales_cli

SID, TOKEN = "AC" + "1" * 32, "s3cret-token"


def test_cli_adds_shows_tests_and_changes_an_http_connection(tmp_path, monkeypatch):
    sim = ProviderSimulator(ProviderSimConfig(account_sid=SID, auth_token=TOKEN))
    sim.start_in_thread()
    try:
        run = sales_cli(tmp_path, monkeypatch)
        out = run("connection", "add-http", "twilio", "--account", SID, "--token", TOKEN,
                  "--base-url", sim.base_url, "--callback-url", "https://psms.example.com/")
        assert f"twilio://{SID}@127.0.0.1:{sim.port}" in out
        assert "https://psms.example.com/carrier-callbacks/1/status" in out
        assert "https://psms.example.com/carrier-callbacks/1/inbound" in out
        shown = json.loads(run("connection", "show", "twilio", "--json"))
        assert shown["kind"] == "http" and shown["account"] == SID
        assert TOKEN not in json.dumps(shown)  # the token is never shown
        listed = json.loads(run("connection", "list", "--json"))
        assert listed[0]["address"] == f"twilio://{SID}@127.0.0.1:{sim.port}"
        # The test checks the account with the provider.
        assert "bound in" in run("connection", "test", "twilio")
        run("connection", "change", "twilio", "--password", "wrong-token")
        refused = run("connection", "test", "twilio", "--timeout", "5", code=1)
        assert "authentication failed" in refused
        run("connection", "change", "twilio", "--password", TOKEN, "--callback-url",
            "https://other.example.com")
        assert "bound in" in run("connection", "test", "twilio")
        shown = json.loads(run("connection", "show", "twilio", "--json"))
        assert shown["status_callback_url"] == (
            "https://other.example.com/carrier-callbacks/1/status")
        # Bad settings are refused with the field named.
        out = run("connection", "add-http", "bad", "--account", SID, "--token", TOKEN,
                  "--callback-url", "ftp://x", code=2)
        assert "callback_url" in out
    finally:
        sim.stop()


def test_the_api_creates_an_http_connection_and_never_shows_its_token(engine, bu, clock):
    client = TestClient(create_app(engine, clock))
    key = {"Authorization": f"Bearer {api_keys.create(engine, bu, clock, 'k').secret}"}
    answer = client.post("/v1/connections/http", headers=key, json={
        "name": "twilio", "account": SID, "token": TOKEN,
        "callback_url": "https://psms.example.com"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["kind"] == "http" and body["base_url"] == "https://api.twilio.com"
    connection_id = administration.find_connection(engine, bu, "twilio").id
    assert body["inbound_webhook_url"].endswith(f"/carrier-callbacks/{connection_id}/inbound")
    assert TOKEN not in answer.text
    again = client.post("/v1/connections/http", headers=key, json={
        "name": "twilio", "account": SID, "token": TOKEN, "callback_url": "https://x.example"})
    assert again.status_code == 409
    changed = client.patch("/v1/connections/twilio", headers=key, json={"token": "new-token"})
    assert changed.status_code == 200, changed.text
    assert administration.find_connection(engine, bu, "twilio").password == "new-token"
    assert client.get("/v1/connections/twilio", headers=key).json()["account"] == SID


def test_the_callback_route_checks_signatures_and_stores_each_callback_once(engine, bu, clock):
    client = TestClient(create_app(engine, clock))
    found = administration.add_http_connection(engine, bu, clock, "twilio", provider="twilio",
                                               account=SID, token=TOKEN,
                                               callback_url="https://psms.example.com")
    smpp = administration.add_connection(engine, bu, clock, "smpp", "127.0.0.1", 2775, "psms",
                                         "secret")
    url = f"https://psms.example.com/carrier-callbacks/{found.id}/status"
    fields = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "AccountSid": SID,
              "To": "+12125550100", "From": "55501"}
    path = f"/carrier-callbacks/{found.id}/status"

    def post(sign_with: str = TOKEN, to: str = path, signed_url: str = url, data=None):
        data = data or fields
        return client.post(to, data=data,
                           headers={"X-Twilio-Signature": signature(sign_with, signed_url, data)})

    assert post(sign_with="wrong").status_code == 403
    assert client.post(path, data=fields).status_code == 403  # no signature at all
    # Signed for another URL (a callback replayed to another connection): refused.
    assert post(signed_url=url.replace("status", "inbound")).status_code == 403
    # Another account's callback, signed with our token: refused.
    assert post(data={**fields, "AccountSid": "AC" + "9" * 32}).status_code == 403
    assert post(to=f"/carrier-callbacks/{smpp.id}/status").status_code == 404
    assert post(to=f"/carrier-callbacks/{found.id}/other").status_code == 404
    assert post(to="/carrier-callbacks/999/status").status_code == 404
    assert post().status_code == 204
    assert post().status_code == 204  # a duplicate: acknowledged, stored once
    from sqlalchemy import func, select

    from proactive_sms.store.schema import carrier_callback
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(carrier_callback)).scalar() == 1
    inbound_url = url.replace("status", "inbound")
    text = {"MessageSid": "SM" + "b" * 32, "AccountSid": SID, "From": "+12125550100",
            "To": "55501", "Body": "STOP"}
    answer = post(to=path.replace("status", "inbound"), signed_url=inbound_url, data=text)
    assert answer.status_code == 200 and "<Response>" in answer.text


def test_processed_callbacks_are_pruned_unprocessed_ones_kept(engine, bu, clock):
    from datetime import timedelta

    from proactive_sms.store import carrier_callbacks

    found = administration.add_http_connection(engine, bu, clock, "twilio", provider="twilio",
                                               account=SID, token=TOKEN,
                                               callback_url="https://psms.example.com")
    now = clock.now()
    with engine.begin() as conn:
        assert carrier_callbacks.record(conn, found.id, "status", "SM1", "delivered", {}, now)
        assert not carrier_callbacks.record(conn, found.id, "status", "SM1", "delivered", {},
                                            now)  # the same callback again
        assert carrier_callbacks.record(conn, found.id, "status", "SM2", "delivered", {}, now)
        first = carrier_callbacks.unprocessed(conn, 10)[0]
        carrier_callbacks.mark_processed(conn, [(first.id, "done")], now - timedelta(days=3))
    with engine.begin() as conn:
        assert carrier_callbacks.prune_processed(conn, now - timedelta(days=2)) == 1
        assert [c.provider_message_id for c in carrier_callbacks.unprocessed(conn, 10)] == ["SM2"]


def test_a_callback_that_cannot_be_read_is_set_aside_and_the_rest_processed(engine, bu, clock):
    from proactive_sms.services.carrier_callbacks import process_pending
    from proactive_sms.services.inbound import InboundService
    from proactive_sms.store import carrier_callbacks
    from proactive_sms.store.schema import carrier_callback

    found = administration.add_http_connection(engine, bu, clock, "twilio", provider="twilio",
                                               account=SID, token=TOKEN,
                                               callback_url="https://psms.example.com")
    smpp = administration.add_connection(engine, bu, clock, "smpp", "127.0.0.1", 2775, "psms",
                                         "secret")
    now = clock.now()
    with engine.begin() as conn:
        carrier_callbacks.record(conn, smpp.id, "status", "SM1", "delivered", {}, now)
        carrier_callbacks.record(conn, found.id, "status", "SM2", "delivered",
                                 {"MessageSid": "SM2", "MessageStatus": "delivered"}, now)
        done = process_pending(conn, InboundService(engine, clock), now)
    assert done.receipts == 1
    with engine.connect() as conn:
        from sqlalchemy import select
        outcomes = dict(conn.execute(select(carrier_callback.c.provider_message_id,
                                            carrier_callback.c.outcome)).all())
    assert outcomes["SM1"].startswith("unreadable")
    assert outcomes["SM2"] == "receipt delivered"
