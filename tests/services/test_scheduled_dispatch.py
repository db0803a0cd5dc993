"""Two real dispatchers over the simulator: a scheduled skill starts at its moment (a manual
wall clock), not before, and each person is texted once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime

from proactive_sms.services import administration, scheduled_starts
from proactive_sms.services.dispatch import Dispatcher
from proactive_sms.store.skills import SkillStatus
from tests.services.dispatch_world import FAST, ManualWallClock, World, until

PEOPLE = 12


async def test_two_dispatchers_start_a_scheduled_skill_once_at_its_moment(world: World):
    clock = ManualWallClock(datetime(2027, 1, 4, 14, 55, tzinfo=UTC))  # 08:55 in Chicago
    world.clock = clock
    world.connection()
    world.code("55501")
    world.people("people", PEOPLE)
    administration.create_skill(world.engine, world.bu, clock, name="tips",
                                registration="55501", calling_list="people")
    scheduled_starts.schedule(world.engine, world.bu, clock, "tips", "2027-01-04T09:00",
                              "America/Chicago", message_text="New tip received.")
    options = dataclasses.replace(FAST, schedule_check_s=0.1)
    dispatchers = [Dispatcher(world.engine, clock, options, worker_id=f"w{i}")
                   for i in range(2)]
    stop = asyncio.Event()
    runs = [asyncio.create_task(d.run(stop)) for d in dispatchers]
    try:
        await asyncio.sleep(1.0)  # several checks by both: the moment has not come
        skill = administration.find_skill(world.engine, world.bu, "tips")
        assert skill.status is SkillStatus.SCHEDULED
        assert sum(world.states(skill.id).values()) == 0
        clock.set(datetime(2027, 1, 4, 15, 0, tzinfo=UTC))
        await until(lambda: world.states(skill.id).get("delivered", 0) == PEOPLE, 30)
    finally:
        stop.set()
        await asyncio.gather(*runs)
    assert Counter(world.destinations_at_simulator().values()) == Counter({1: PEOPLE})
    started = scheduled_starts.show(world.engine, world.bu, "tips").start
    assert started.state == "started" and started.claimed_by in ("w0", "w1")
