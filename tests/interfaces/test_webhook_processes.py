"""The webhook sender inside the real commands: `psms dispatch --until-idle` sends the events of
its run before it ends, and `psms serve` delivers due events while it serves."""

from __future__ import annotations

import time
from collections import Counter

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, webhooks
from proactive_sms.store.engine import open_engine
from tests.processes import free_port, start_psms, stop
from tests.services.dispatch_world import World, simulator
from tests.webhook_receiver import (
    documented_verifier,
    receiver_fixture,  # noqa: F401 - the `receiver` fixture
)


def test_dispatch_until_idle_sends_its_runs_events_before_it_ends(tmp_path, receiver):
    db_url = f"sqlite:///{tmp_path / 'psms.db'}"
    engine = open_engine(db_url)
    clock = SystemClock()
    sim = simulator()
    try:
        bu = administration.init(engine, clock, "acme", "sales", "US")
        secret = webhooks.set_endpoint(engine, bu, clock, receiver.url).secret
        world = World(engine, bu, sim, tmp_path, clock)
        world.connection()
        world.code("55501", rate=100)
        world.people("people", 3)
        world.skill("notice", "55501", "people", "Shift open tonight.",
                    calling_window={"weekday": "00:00-24:00", "weekend": "00:00-24:00"})
        process = start_psms(db_url, "dispatch", "--until-idle", "--receipt-grace", "5")
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    finally:
        sim.stop_in_thread()
        engine.dispose()
    verify = documented_verifier()
    assert all(verify(secret, d.headers, d.body) for d in receiver.deliveries)
    states = Counter(e["data"]["state"] for e in receiver.events("message.status"))
    assert states["sent"] == 3
    assert len(receiver.events("skill.finished")) == 1


def test_serve_delivers_due_events_and_stops_cleanly(tmp_path, receiver):
    db_url = f"sqlite:///{tmp_path / 'psms.db'}"
    engine = open_engine(db_url)
    clock = SystemClock()
    bu = administration.init(engine, clock, "acme", "sales", "US")
    webhooks.set_endpoint(engine, bu, clock, receiver.url)
    ping = webhooks.queue_ping(engine, bu, clock)
    engine.dispose()
    process = start_psms(db_url, "serve", "--no-dispatch", "--port", str(free_port()))
    try:
        deadline = time.monotonic() + 30
        while not receiver.deliveries and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        log = stop(process)
    assert [d.event["id"] for d in receiver.deliveries] == [ping.public_id]
    assert process.returncode == 0, log
