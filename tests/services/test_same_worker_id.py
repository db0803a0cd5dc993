"""Two dispatcher processes started with the same worker id (a supervisor's mistake, or a restart
while the old process still runs) share one code's lease: only one sends, so the code's limit
holds as the simulator counts arrivals, and every text arrives once."""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration
from proactive_sms.store.engine import open_engine
from tests.processes import start_psms
from tests.services.dispatch_world import World, simulator

RATE_PER_S = 10
TEXTS = 80


def _dispatcher(db_url: str) -> subprocess.Popen:
    return start_psms(db_url, "dispatch", "--until-idle", "--receipt-grace", "2",
                      PSMS_WORKER_ID="worker-1")


@pytest.mark.slow
def test_two_live_processes_with_one_worker_id_keep_the_code_under_its_limit(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'psms.db'}"
    engine = open_engine(db_url)
    sim = simulator()
    try:
        bu = administration.init(engine, SystemClock(), "acme", "sales", "US")
        world = World(engine, bu, sim, tmp_path, SystemClock())
        world.connection()
        world.code("55501", rate=RATE_PER_S)
        world.people("people", TEXTS)
        world.skill("bulk", "55501", "people", "Hi {FirstName}, shift open.",
                    calling_window={"weekday": "00:00-24:00", "weekend": "00:00-24:00"})

        processes = [_dispatcher(db_url), _dispatcher(db_url)]
        for process in processes:
            _, stderr = process.communicate(timeout=180)
            assert process.returncode == 0, stderr.decode()

        times = sorted(part.monotonic_s for part in sim.accepted_submits())
        at_carrier = Counter("+" + dest.lstrip("+") for dest, _ in sim.reassembled())
        assert len(at_carrier) == TEXTS and max(at_carrier.values()) == 1
        worst = max(sum(1 for t in times[i:] if t < start + 1.0)
                    for i, start in enumerate(times))
        assert worst <= RATE_PER_S, f"{worst} texts in one second, limit {RATE_PER_S}"
    finally:
        sim.stop_in_thread()
        engine.dispose()
