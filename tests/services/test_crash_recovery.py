"""Invariant 5: a dispatcher killed with SIGKILL at any moment causes no duplicate text, loses no
record, and leaves at most a window's worth of texts `uncertain` per kill."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter

import pytest
from sqlalchemy import select

from proactive_sms.domain.clock import SystemClock
from proactive_sms.store.engine import open_engine
from proactive_sms.store.schema import message
from tests.processes import start_psms
from tests.services.dispatch_world import World, simulator

WINDOW = 10


def _dispatcher(db_url: str, *args: str) -> subprocess.Popen:
    # The same worker id each time, as a supervisor restarting one worker would give it. The
    # dispatcher runs on the real clock: the calling-window law is lifted (and the skill's window
    # is the whole day) so that the test passes at any hour; windows have tests of their own.
    return start_psms(db_url, "dispatch", *args, PSMS_WORKER_ID="worker-1")


def _ids(engine, state: str) -> set[int]:
    with engine.connect() as conn:
        return set(conn.scalars(select(message.c.id).where(message.c.state == state)))


@pytest.mark.slow
def test_sigkill_at_ten_random_moments_sends_nothing_twice(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'psms.db'}"
    engine = open_engine(db_url)
    # Answers take 50 ms, as over a real network, so a kill usually finds texts in flight.
    sim = simulator(receipt_delay_s=0.05, response_delay_s=0.05)
    try:
        from proactive_sms.services import administration

        bu = administration.init(engine, SystemClock(), "acme", "sales", "US")
        world = World(engine, bu, sim, tmp_path, SystemClock())
        world.connection(window=WINDOW)
        world.code("55501", rate=120)
        world.people("people", 2000)
        skill_id = world.skill("bulk", "55501", "people", "Hi {FirstName}, shift open.",
                               calling_window={"weekday": "00:00-24:00",
                                               "weekend": "00:00-24:00"})

        rng = random.Random(20261125)
        left_submitting: list[set[int]] = []
        for _ in range(10):
            process = _dispatcher(db_url)
            # Once it is sending (start-up takes a second or more on a busy machine), a random
            # moment within the next half second.
            before, deadline = len(sim.accepted_submits()), time.monotonic() + 60
            while len(sim.accepted_submits()) < before + 20 and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.5))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            # A kill before the new dispatcher recovered the last kill's rows finds them again.
            left_submitting.append(_ids(engine, "submitting"))

        final = _dispatcher(db_url, "--until-idle", "--receipt-grace", "8")
        _, stderr = final.communicate(timeout=180)
        assert final.returncode == 0, stderr.decode()

        at_carrier = Counter("+" + dest.lstrip("+") for dest, _ in sim.reassembled())
        assert at_carrier and max(at_carrier.values()) == 1, "a text was sent twice"
        assert max(len(ids) for ids in left_submitting) <= WINDOW, left_submitting
        assert any(left_submitting), "no kill landed while texts were in flight"
        states = world.states(skill_id)
        assert sum(states.values()) == 2000
        assert set(states) <= {"delivered", "uncertain"}, states
        # Left submitting by a kill: uncertain, unless the receipt of a text that did reach the
        # carrier settled it (matched on number, time and text).
        settled = {r.id for r in world.rows(skill_id)
                   if "receipt matched on number" in (r.detail or "")}
        assert _ids(engine, "uncertain") | settled == set().union(*left_submitting)
        assert states["delivered"] == len(at_carrier) - _uncertain_that_arrived(world, at_carrier)
    finally:
        sim.stop_in_thread()
        engine.dispose()


def _uncertain_that_arrived(world: World, at_carrier: Counter) -> int:
    """Uncertain texts whose PDU did reach the carrier before the kill (no receipt matched)."""
    rows = world.rows(1)
    return sum(1 for r in rows if r.state == "uncertain" and r.destination in at_carrier)
