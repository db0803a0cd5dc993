"""`psms registration add/change --connections` and what `registration show/list` and
`connection list` say of each connection's breaker and the one carrying."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from proactive_sms.store import link_status, registrations, route_status
from proactive_sms.store.engine import open_engine
from proactive_sms.store.link_status import BreakerReport
from tests.interfaces.cli_runner import database_url, sales_cli


def test_a_codes_connections_are_set_in_order_and_shown_with_breakers(tmp_path, monkeypatch):
    cli = sales_cli(tmp_path, monkeypatch)
    for name in ("primary", "backup"):
        cli("connection", "add", name, "--system-id", "psms", "--password", "secret")
    cli("registration", "add", "55501", "--kind", "short", "--throughput", "10",
        "--connections", "primary,backup")
    shown = json.loads(cli("registration", "show", "55501", "--json"))
    assert [c["name"] for c in shown["route"]["connections"]] == ["primary", "backup"]
    assert "twice" in cli("registration", "change", "55501", "--connections", "backup,backup",
                          code=2)
    cli("registration", "change", "55501", "--connections", "backup,primary")
    shown = json.loads(cli("registration", "show", "55501", "--json"))
    assert [c["name"] for c in shown["route"]["connections"]] == ["backup", "primary"]

    # What a dispatcher records: backup lost, primary carrying after one failover.
    engine = open_engine(database_url(tmp_path))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        reg = registrations.find_registration(conn, 1, "55501")
        backup, primary = registrations.route_of(conn, reg)
        link_status.record(conn, backup, "w1", "unbound", "connection refused", now,
                           BreakerReport("open", "connection lost", now))
        link_status.record(conn, primary, "w1", "bound", None, now,
                           BreakerReport("closed", "", now))
        route_status.record(conn, reg.id, primary, "w1", now, failover=True)
    engine.dispose()
    listed = cli("registration", "list")
    assert "backup (open: connection lost) > primary*" in listed
    shown = cli("registration", "show", "55501")
    assert "unbound, breaker open (connection lost)" in shown
    assert "bound, breaker closed" in shown
    connections = json.loads(cli("connection", "list", "--json"))
    assert {c["name"]: c["breaker"] for c in connections} == {"primary": "closed",
                                                              "backup": "open"}
