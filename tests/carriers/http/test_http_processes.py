"""Issue 14 end to end through the real commands: `psms provider-sim` in a process of its own,
and `psms serve` (its API workers take the provider's signed callbacks, its dispatcher process
sends): a skill goes out over HTTP, every text ends delivered by a stored callback, and the
provider took each destination once."""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter

from sqlalchemy import select

from proactive_sms.carriers.provider_sim.config import ProviderSimConfig
from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, launching
from proactive_sms.store.engine import open_engine
from proactive_sms.store.schema import message
from tests.processes import free_port, port_open, start_psms, stop, wait_until
from tests.services.dispatch_world import World

ACCOUNT, TOKEN = ProviderSimConfig().account_sid, "process-test-token"
TEXTS = 40


def _states(engine, skill_id: int) -> Counter:
    with engine.connect() as conn:
        return Counter(conn.scalars(select(message.c.state)
                                    .where(message.c.skill_id == skill_id)))


def test_a_skill_goes_out_through_psms_serve_to_psms_provider_sim(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'psms.db'}"
    engine = open_engine(db_url)
    clock = SystemClock()
    sim_port, api_port = free_port(), free_port()
    sim = start_psms(db_url, "provider-sim", "--port", str(sim_port), "--account", ACCOUNT,
                     "--token", TOKEN)
    serve = None
    try:
        wait_until(lambda: port_open(sim_port), 30, f"the simulator on port {sim_port}")
        bu = administration.init(engine, clock, "acme", "sales", "US")
        administration.add_http_connection(
            engine, bu, clock, "twilio", provider="twilio", account=ACCOUNT, token=TOKEN,
            base_url=f"http://127.0.0.1:{sim_port}", callback_url=f"http://127.0.0.1:{api_port}")
        world = World(engine, bu, None, tmp_path, clock)  # type: ignore[arg-type]
        world.code("55501", rate=50, connection="twilio")
        world.people("people", TEXTS)
        created = administration.create_skill(
            engine, bu, clock, name="notice", registration="55501", calling_list="people",
            calling_window={"weekday": "00:00-24:00", "weekend": "00:00-24:00"})
        launching.start_skill(engine, created.id, clock, message_text="Shift open tonight.")
        serve = start_psms(db_url, "serve", "--port", str(api_port), "--workers", "2")
        deadline = time.monotonic() + 120
        while _states(engine, created.id) != Counter({"delivered": TEXTS}):
            assert time.monotonic() < deadline, f"not all delivered: {_states(engine, created.id)}"
            assert serve.poll() is None, f"psms serve ended: {stop(serve)}"
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/stats") as answer:
            stats = json.load(answer)
    finally:
        serve_log = stop(serve) if serve is not None else ""
        sim_log = stop(sim)
        engine.dispose()
    assert stats["accepted"] == TEXTS and stats["duplicates"] == 0, (stats, sim_log)
    assert stats["callbacks"].get("posted", 0) >= TEXTS, stats  # a sent and a delivered each
    assert serve.returncode == 0, serve_log
