"""A dispatcher whose lease was taken while it ran (as after a pause past the lease) claims and
sends nothing more on that code: its claims carry the fence of its tenure, and its lane stops."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from proactive_sms.store.schema import transport_lease
from tests.services.dispatch_world import FAST, World, until

WINDOW = 10


async def test_a_lane_whose_lease_was_taken_sends_nothing_more(world: World):
    world.connection(window=WINDOW)
    world.code("55501", rate=50)
    world.people("people", 400)
    skill_id = world.skill("notice", "55501", "people", "Shift open.")
    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: len(world.sim.accepted_submits()) >= 20)
        # Another process takes the code (a change of hands raises the fence).
        with world.engine.begin() as conn:
            conn.execute(update(transport_lease).values(
                worker_id="other", process_token="other", fence=transport_lease.c.fence + 1,
                expires_at=world.clock.now() + timedelta(seconds=60)))
        taken_at = len(world.sim.accepted_submits())
        await asyncio.sleep(10 * FAST.housekeeping_s)
        settled = len(world.sim.accepted_submits())
        await asyncio.sleep(1.0)
        # At most what was already claimed and in flight got out; then nothing.
        assert settled - taken_at <= WINDOW
        assert len(world.sim.accepted_submits()) == settled
        assert dispatcher.lanes == {}
        assert world.states(skill_id)["pending"] >= 400 - settled - WINDOW
    finally:
        dispatcher.stop()
        await asyncio.wait_for(task, 60)  # a lane left running would hang here
