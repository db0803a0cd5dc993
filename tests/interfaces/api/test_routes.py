"""A registration's ordered connections through the API, the CLI and /metrics: set in order,
changed with If-Match, refused when a name repeats or is unknown, and each one's breaker and the
carrying one shown as the dispatcher records them."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from proactive_sms.store import link_status, registrations, route_status
from proactive_sms.store.link_status import BreakerReport

CONNECTION = {"host": "10.0.0.5", "port": 2775, "system_id": "psms", "password": "secret"}


def _connections(client, key, *names):
    for name in names:
        assert client.post("/v1/connections", headers=key,
                           json={"name": name, **CONNECTION}).status_code == 201


def _code(client, key, **fields):
    return client.post("/v1/registrations", headers=key, json={
        "code": "55501", "kind": "short", "throughput_per_s": 10, **fields})


def test_a_code_is_given_its_connections_in_order_and_changes_them_with_if_match(client,
                                                                                 key_a):
    _connections(client, key_a, "primary", "backup", "spare")
    created = _code(client, key_a, connections=["primary", "backup"])
    assert created.status_code == 201, created.text
    assert created.json()["connections"] == ["primary", "backup"]
    read = client.get("/v1/registrations/55501", headers=key_a)
    assert [c["name"] for c in read.json()["route"]["connections"]] == ["primary", "backup"]
    assert read.json()["route"]["carrying"] is None  # no dispatcher runs it

    changed = client.patch("/v1/registrations/55501", json={"connections": ["spare", "primary"]},
                           headers={**key_a, "If-Match": read.headers["etag"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["connections"] == ["spare", "primary"]
    stale = client.patch("/v1/registrations/55501", json={"connections": ["backup"]},
                         headers={**key_a, "If-Match": read.headers["etag"]})
    assert stale.status_code == 412
    assert client.get("/v1/registrations/55501",
                      headers=key_a).json()["connections"] == ["spare", "primary"]


def test_a_repeated_or_unknown_connection_is_refused_naming_it(client, key_a):
    _connections(client, key_a, "primary")
    twice = _code(client, key_a, connections=["primary", "primary"])
    assert twice.status_code in (400, 422)
    assert "primary" in twice.text and "twice" in twice.text
    unknown = _code(client, key_a, connections=["primary", "nowhere"])
    assert unknown.status_code == 404 and "nowhere" in unknown.text
    both = _code(client, key_a, connection="primary", connections=["primary"])
    assert both.status_code in (400, 422)
    assert client.get("/v1/registrations", headers=key_a).json()["items"] == []


def test_a_connection_still_a_fallback_of_a_code_cannot_be_removed(client, key_a):
    _connections(client, key_a, "primary", "backup")
    _code(client, key_a, connections=["primary", "backup"])
    refused = client.delete("/v1/connections/backup", headers=key_a)
    assert refused.status_code == 409 and "55501" in refused.text


def test_breakers_carrying_connection_and_failover_counters_as_the_dispatcher_records_them(
        client, key_a, engine, bu, clock):
    _connections(client, key_a, "primary", "backup")
    _code(client, key_a, connections=["primary", "backup"])
    now = clock.now()
    with engine.begin() as conn:
        reg = registrations.find_registration(conn, bu.id, "55501")
        primary, backup = registrations.route_of(conn, reg)
        link_status.record(conn, primary, "w1", "unbound", "connect refused", now,
                           BreakerReport("open", "connection lost", now))
        link_status.record(conn, backup, "w1", "bound", None, now,
                           BreakerReport("closed", "", now))
        route_status.record(conn, reg.id, primary, "w1", now)
        route_status.record(conn, reg.id, backup, "w1", now, failover=True)

    route = client.get("/v1/registrations/55501", headers=key_a).json()["route"]
    assert route["carrying"] == "backup" and route["failovers"] == 1
    assert [(c["name"], c["breaker"], c["carrying"]) for c in route["connections"]] == [
        ("primary", "open", False), ("backup", "closed", True)]
    assert route["connections"][0]["breaker_reason"] == "connection lost"
    link = client.get("/v1/connections/primary", headers=key_a).json()["link"]
    assert (link["breaker"], link["breaker_reason"]) == ("open", "connection lost")

    samples = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    assert samples[("psms_failovers_total", (("code", "55501"),))] == 1
    assert samples[("psms_failover_returns_total", (("code", "55501"),))] == 0

