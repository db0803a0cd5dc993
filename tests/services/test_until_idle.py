"""A dispatcher run until idle (the demo, the tests, `psms dispatch --until-idle`) ends when
every text is settled or its receipts' grace is out, whatever the scheduler's passes do: a pass
that finds nothing due is not work, and a pass that starts a skill is waited for."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from datetime import UTC, datetime

from proactive_sms.services import administration, scheduled_starts
from proactive_sms.services.schedule_firing import ScheduleFiring
from tests.services.dispatch_world import FAST, DaytimeClock, ManualWallClock, World, simulator

# A pass begins as soon as the last one ended: on a loaded machine, a pass may take this long.
PASS_S = 0.4
BACK_TO_BACK = dataclasses.replace(FAST, schedule_check_s=0.05)


def slow_passes(monkeypatch) -> None:
    real = ScheduleFiring.run_due

    def slow(self):
        time.sleep(PASS_S)
        return real(self)

    monkeypatch.setattr(ScheduleFiring, "run_due", slow)


async def test_scheduler_passes_that_find_nothing_do_not_restart_the_receipts_grace(
        engine, bu, tmp_path, monkeypatch):
    slow_passes(monkeypatch)
    sim = simulator(receipt_delay_s=3600.0)  # no receipt comes: the grace runs out
    world = World(engine, bu, sim, tmp_path, DaytimeClock())
    try:
        world.connection()
        world.code("55501", rate=100)
        world.people("people", 3)
        skill = world.skill("notice", "55501", "people", "Shift open tonight.")
        # A pass is under way at almost every look; counting it as work (as the run once did)
        # restarted the 1 s grace at each look, and the run never ended.
        await world.run_until_idle(BACK_TO_BACK, grace_s=1.0, timeout_s=30.0)
    finally:
        sim.stop_in_thread()
    assert world.states(skill) == Counter({"sent": 3})


async def test_a_skill_a_pass_starts_while_the_run_looks_idle_is_sent_before_it_ends(
        engine, bu, tmp_path, monkeypatch):
    slow_passes(monkeypatch)
    clock = ManualWallClock(datetime(2027, 1, 4, 14, 55, tzinfo=UTC))  # Monday 08:55, Chicago
    sim = simulator()
    world = World(engine, bu, sim, tmp_path, clock)
    try:
        world.connection()
        world.code("55501", rate=100)
        world.people("people", 3)
        created = administration.create_skill(engine, bu, clock, name="tips",
                                              registration="55501", calling_list="people")
        scheduled_starts.schedule(engine, bu, clock, "tips", "2027-01-04T09:00",
                                  "America/Chicago", message_text="New tip received.")
        clock.set(datetime(2027, 1, 4, 15, 0, tzinfo=UTC))  # due: the first pass starts it
        # Nothing else is to send: the run's first look finds it idle while that pass is on.
        await world.run_until_idle(BACK_TO_BACK, grace_s=1.0, timeout_s=30.0)
    finally:
        sim.stop_in_thread()
    assert world.states(created.id) == Counter({"delivered": 3})
    assert len(sim.accepted_submits()) == 3
