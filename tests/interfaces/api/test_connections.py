"""`/v1/connections`: the tenant's carrier connections; the password is never shown."""

from __future__ import annotations

from proactive_sms.services import administration
from proactive_sms.store import link_status

BODY = {"name": "carrier", "host": "10.0.0.5", "port": 2775, "system_id": "psms",
        "password": "secret"}
NO_REPORT = {"state": "no report", "since": None, "last_error": None, "last_error_at": None,
             "breaker": None, "breaker_reason": None}


def test_a_connection_is_created_read_and_listed_without_its_password(client, key_a):
    created = client.post("/v1/connections", headers=key_a, json=BODY)
    assert created.status_code == 201
    assert created.json() == {"name": "carrier", "kind": "smpp", "host": "10.0.0.5",
                              "port": 2775, "system_id": "psms", "window_size": 10,
                              "enquire_link_s": None, "link": NO_REPORT, "version": 1,
                              # an HTTP provider connection's fields, null on SMPP ones
                              "provider": None, "account": None, "base_url": None,
                              "callback_url": None, "status_callback_url": None,
                              "inbound_webhook_url": None}
    assert client.get("/v1/connections/carrier", headers=key_a).json() == created.json()
    assert client.get("/v1/connections", headers=key_a).json()["items"] == [created.json()]
    assert "secret" not in client.get("/v1/connections", headers=key_a).text


def test_a_name_in_use_is_a_409_and_changes_nothing(client, key_a):
    client.post("/v1/connections", headers=key_a, json=BODY)
    again = client.post("/v1/connections", headers=key_a, json={**BODY, "host": "evil"})
    assert again.status_code == 409
    assert client.get("/v1/connections/carrier", headers=key_a).json()["host"] == "10.0.0.5"


def test_a_registration_sends_through_a_connection_made_over_http(client, key_a):
    client.post("/v1/connections", headers=key_a, json=BODY)
    created = client.post("/v1/registrations", headers=key_a, json={
        "code": "55501", "kind": "short", "throughput_per_s": 10, "connection": "carrier"})
    assert created.status_code == 201


def test_smpp_limits_are_problems_naming_the_field(client, key_a):
    for change, field in [({"system_id": "x" * 16}, "system_id"), ({"password": "123456789"},
                                                                  "password"),
                          ({"port": 70000}, "port"), ({"window_size": 0}, "window_size")]:
        response = client.post("/v1/connections", headers=key_a, json={**BODY, **change})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


def test_the_bus_of_a_tenant_share_its_connections(client, key_a, key_b, key_other_tenant):
    client.post("/v1/connections", headers=key_a, json=BODY)
    assert client.get("/v1/connections/carrier", headers=key_b).status_code == 200
    assert client.get("/v1/connections/carrier", headers=key_other_tenant).status_code == 404
    assert client.get("/v1/connections", headers=key_other_tenant).json()["items"] == []


def test_a_connection_shows_its_link_as_the_dispatcher_recorded_it(client, key_a, engine, bu,
                                                                   clock):
    client.post("/v1/connections", headers=key_a, json=BODY)
    found = administration.find_connection(engine, bu, "carrier")
    with engine.begin() as conn:  # what a dispatcher writes (services.link_status)
        link_status.record(conn, found.id, "worker-1", "unbound",
                           "connect or bind failed: bind_transceiver_resp: ESME_RINVPASWD",
                           clock.now())
    link = client.get("/v1/connections/carrier", headers=key_a).json()["link"]
    assert link["state"] == "unbound"
    assert link["last_error"].endswith("ESME_RINVPASWD")
    assert link["last_error_at"].endswith("Z") or "+00:00" in link["last_error_at"]
    with engine.begin() as conn:
        link_status.record(conn, found.id, "worker-1", "bound", None, clock.now())
    (listed,) = client.get("/v1/connections", headers=key_a).json()["items"]
    assert listed["link"]["state"] == "bound"
    assert listed["link"]["last_error"].endswith("ESME_RINVPASWD")  # the last one, kept
