"""`/v1/webhook` over HTTP: set (secret once), read (never the secret), rotate, test ping to a
real receiver, the delivery log with cursor pagination, redelivery, clear problems for bad
input; and a key of BU A can neither read nor change anything of BU B's webhook."""

from __future__ import annotations

import asyncio

import pytest

from proactive_sms.domain.webhook_events import EventType
from proactive_sms.services.webhook_sender import WebhookSender
from proactive_sms.store import webhook_events
from tests.webhook_receiver import (
    Receiver,
    documented_verifier,
    receiver_fixture,  # noqa: F401 - the `receiver` fixture
)

verify = documented_verifier()


def emit(engine, bu, clock, n: int) -> list[str]:
    with engine.begin() as conn:
        return [webhook_events.emit(conn, bu.id, EventType.SKILL_FINISHED, {"n": i}, clock.now())
                for i in range(n)]


def test_set_returns_the_secret_once_and_get_never_shows_it(client, key_a, receiver):
    created = client.put("/v1/webhook", headers=key_a, json={"url": receiver.url})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    shown = client.get("/v1/webhook", headers=key_a)
    assert shown.status_code == 200
    assert shown.json()["url"] == receiver.url and shown.json()["secret"] is None
    assert shown.json()["signature_scheme"] == "standard"
    assert secret not in shown.text
    changed = client.put("/v1/webhook", headers=key_a, json={
        "url": receiver.url + "/v2", "event_types": ["opt_out", "opt_in"]})
    assert changed.status_code == 200 and changed.json()["secret"] is None
    assert changed.json()["event_types"] == ["opt_out", "opt_in"]
    rotated = client.post("/v1/webhook/secret", headers=key_a).json()["secret"]
    assert rotated.startswith("whsec_") and rotated != secret


def test_the_test_ping_reaches_the_receiver_signed(client, key_a, receiver, clock):
    secret = client.put("/v1/webhook", headers=key_a, json={"url": receiver.url}).json()["secret"]
    response = client.post("/v1/webhook/test", headers=key_a)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "webhook.ping" and body["state"] == "delivered"
    assert body["log"][0]["http_status"] == 200 and body["log"][0]["outcome"] == "delivered"
    (got,) = receiver.deliveries
    assert got.event["id"] == body["event_id"]
    assert verify(secret, got.headers, got.body,
                  now=clock.now().timestamp())


def test_a_failed_ping_shows_the_error_and_its_next_attempt(client, key_a, clock):
    failing = Receiver(default=500).start()
    try:
        client.put("/v1/webhook", headers=key_a, json={"url": failing.url})
        body = client.post("/v1/webhook/test", headers=key_a).json()
    finally:
        failing.stop()
    assert body["state"] == "pending"
    (attempt,) = body["log"]
    assert attempt["http_status"] == 500 and attempt["outcome"] == "retrying"
    assert attempt["next_attempt_at"].startswith("2026-03-04T16:00:30")


def test_the_log_pages_newest_first_with_a_cursor(client, key_a, engine, bu, clock, receiver):
    client.put("/v1/webhook", headers=key_a, json={"url": receiver.url})
    ids = emit(engine, bu, clock, 5)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/webhook/deliveries", headers=key_a, params=params).json()
        seen += [item["event_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids)) and pages == 3
    item = client.get(f"/v1/webhook/deliveries/{ids[0]}", headers=key_a).json()
    assert item["state"] == "pending" and item["payload"]["data"] == {"n": 0}


def test_redelivery_sends_an_event_again(client, key_a, engine, bu, clock, receiver):
    client.put("/v1/webhook", headers=key_a, json={"url": receiver.url})
    (event_id,) = emit(engine, bu, clock, 1)
    asyncio.run(WebhookSender(engine, clock).deliver_due())
    response = client.post(f"/v1/webhook/deliveries/{event_id}/redeliver", headers=key_a)
    assert response.status_code == 202
    assert response.json()["state"] == "pending" and response.json()["attempts"] == 0
    asyncio.run(WebhookSender(engine, clock).deliver_due())
    assert [d.event["id"] for d in receiver.deliveries] == [event_id, event_id]
    log = client.get(f"/v1/webhook/deliveries/{event_id}", headers=key_a).json()["log"]
    assert [a["outcome"] for a in log] == ["delivered", "delivered"]


def test_delete_removes_the_webhook(client, key_a, receiver):
    client.put("/v1/webhook", headers=key_a, json={"url": receiver.url})
    assert client.delete("/v1/webhook", headers=key_a).status_code == 204
    assert client.get("/v1/webhook", headers=key_a).status_code == 404
    assert client.delete("/v1/webhook", headers=key_a).status_code == 404


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"url": "ftp://example.com/x"}, "url", "https://"),
    ({"url": "not a url"}, "url", "https://"),
    ({"url": "https://"}, "url", "no host"),
    ({"url": "https://user:pw@example.com/"}, "url", "user name"),
    ({"url": "https://example.com:99999/"}, "url", "not a valid URL"),
    ({"url": "https://example.com/", "event_types": ["message.sent"]}, "event_types.0",
     "message.status"),
    ({"url": "https://example.com/", "event_types": []}, "event_types", "at least 1"),
    ({}, "url", "required"),
])
def test_bad_input_is_a_problem_naming_the_field(client, key_a, body, field, words):
    response = client.put("/v1/webhook", headers=key_a, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["field"] == field and words in error["reason"], error


def test_a_bad_cursor_and_limit_are_problems(client, key_a):
    response = client.get("/v1/webhook/deliveries?cursor=abc", headers=key_a)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cursor"
    response = client.get("/v1/webhook/deliveries?limit=0", headers=key_a)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "limit"


def test_without_a_webhook_the_routes_answer_404(client, key_a):
    for method, path in [("GET", "/v1/webhook"), ("DELETE", "/v1/webhook"),
                         ("POST", "/v1/webhook/secret"), ("POST", "/v1/webhook/test")]:
        response = client.request(method, path, headers=key_a)
        assert response.status_code == 404, (method, path)
        assert response.json()["errors"][0]["field"] == "webhook"


def test_every_route_needs_a_key(client):
    for method, path in [("PUT", "/v1/webhook"), ("GET", "/v1/webhook"),
                         ("DELETE", "/v1/webhook"), ("POST", "/v1/webhook/secret"),
                         ("POST", "/v1/webhook/test"), ("GET", "/v1/webhook/deliveries"),
                         ("GET", "/v1/webhook/deliveries/evt_x"),
                         ("POST", "/v1/webhook/deliveries/evt_x/redeliver")]:
        assert client.request(method, path, json={"url": "https://e.com/"}).status_code == 401


# --- isolation: BU B's key against BU A's webhook ----------------------------------------------

@pytest.fixture
def hooked_a(client, key_a, engine, bu, clock, receiver):
    """BU A with a webhook to `receiver` and one delivered event."""
    client.put("/v1/webhook", headers=key_a, json={"url": receiver.url})
    (event_id,) = emit(engine, bu, clock, 1)
    asyncio.run(WebhookSender(engine, clock).deliver_due())
    receiver.deliveries.clear()
    return event_id


def test_b_sees_no_webhook_and_no_deliveries_of_a(client, key_a, key_b, hooked_a, receiver):
    shown = client.get("/v1/webhook", headers=key_b)
    assert shown.status_code == 404 and receiver.url not in shown.text
    assert client.get("/v1/webhook/deliveries", headers=key_b).json() == {
        "items": [], "next_cursor": None}
    for method, path in [("GET", f"/v1/webhook/deliveries/{hooked_a}"),
                         ("POST", f"/v1/webhook/deliveries/{hooked_a}/redeliver")]:
        response = client.request(method, path, headers=key_b)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert receiver.url not in response.text and "skill.finished" not in response.text


def test_b_cannot_change_rotate_ping_or_remove_as_webhook(client, key_a, key_b, hooked_a,
                                                             receiver, engine, clock):
    assert client.delete("/v1/webhook", headers=key_b).status_code == 404
    assert client.post("/v1/webhook/secret", headers=key_b).status_code == 404
    assert client.post("/v1/webhook/test", headers=key_b).status_code == 404
    before = client.get("/v1/webhook", headers=key_a).json()
    # B's own webhook is B's: A's stays as it was
    elsewhere = Receiver().start()
    try:
        assert client.put("/v1/webhook", headers=key_b,
                          json={"url": elsewhere.url}).status_code == 201
        assert client.post("/v1/webhook/test", headers=key_b).json()["state"] == "delivered"
    finally:
        elsewhere.stop()
    assert client.get("/v1/webhook", headers=key_a).json() == before
    assert receiver.deliveries == []  # B's ping went to B's URL only
    assert [d.event["business_unit"] for d in elsewhere.deliveries] == ["collections"]
    page = client.get("/v1/webhook/deliveries", headers=key_a).json()
    assert [i["event_id"] for i in page["items"]] == [hooked_a]


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "http://0x7f000001:8080/", "http://[::ffff:127.0.0.1]/"])
def test_an_internal_destination_is_a_problem_naming_url_and_reason(client, key_a, url,
                                                                    monkeypatch):
    monkeypatch.delenv("PSMS_WEBHOOK_ALLOW_INTERNAL")
    response = client.put("/v1/webhook", headers=key_a, json={"url": url})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "url" and "public address" in error["reason"], error
    assert client.get("/v1/webhook", headers=key_a).status_code == 404  # nothing was saved
