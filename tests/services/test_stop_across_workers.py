"""A STOP that reaches one worker (through its own carrier connection) stops the texts another
worker sends to that number from its next claim on: the DNC list is in the store, and every claim
checks it in its transaction (issue 15)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from proactive_sms.services import administration
from proactive_sms.services.dispatch import Dispatcher
from proactive_sms.store import leases
from proactive_sms.store.schema import message
from tests.factories import us_number
from tests.services.dispatch_world import FAST, DaytimeClock, World, simulator, until

RATE_PER_S = 5
PEOPLE = 30
STOPPER = 12  # the record whose number texts STOP, due a couple of seconds into the run


async def test_a_stop_through_one_worker_stops_another_workers_texts(engine, bu, tmp_path):
    # One simulator, two system ids: code A's connection is bound by worker 1 only, code B's by
    # worker 2 only, so the STOP to A reaches worker 1 while B's texts are worker 2's.
    sim = simulator(credentials={"one": "secret", "two": "secret"})
    try:
        clock = DaytimeClock()
        world = World(engine, bu, sim, tmp_path, clock)
        for name in ("one", "two"):
            administration.add_connection(engine, bu, clock, name, "127.0.0.1", sim.port, name,
                                          "secret", 10)
        world.code("55501", rate=RATE_PER_S, connection="one")
        world.code("55502", rate=RATE_PER_S, connection="two")
        world.people("people", PEOPLE)
        skill_id = world.skill("bulk", "55502", "people", "Shift open tonight.")
        first, second = (Dispatcher(engine, clock, FAST, worker_id=w) for w in ("w1", "w2"))
        now = clock.now()
        with engine.begin() as conn:  # each worker holds one code (as sharing gives them)
            for dispatcher, code_id in ((first, 1), (second, 2)):
                assert leases.renew_and_take(conn, dispatcher.lease, [code_id], now,
                                             FAST.lease_s, FAST.restart_takeover_s, share=1)
        tasks = [asyncio.create_task(d.run()) for d in (first, second)]
        stopper = "+1" + us_number(STOPPER)
        await until(lambda: len(sim.accepted_submits()) >= 3)
        assert await sim.inject_inbound(stopper.lstrip("+"), "55501", "STOP", system_id="one") == 0
        # Worker 1 acknowledged the STOP once the number was on the list; worker 2 goes on.
        await until(lambda: world.states(skill_id)["pending"] == 0, timeout_s=30)
        for dispatcher in (first, second):
            dispatcher.stop()
        await asyncio.gather(*tasks)

        from_b = ["+" + a.destination_addr.lstrip("+") for a in sim.accepted_submits()
                  if a.source_addr == "55502"]
        assert stopper not in from_b and len(from_b) == PEOPLE - 1
        with engine.connect() as conn:
            state, reason = conn.execute(select(message.c.state, message.c.skip_reason).where(
                message.c.skill_id == skill_id, message.c.destination == stopper)).one()
        assert (state, reason) == ("skipped", "dnc")
        confirmations = [a for a in sim.accepted_submits()
                         if a.source_addr == "55501" and "+" + a.destination_addr.lstrip("+")
                         == stopper]
        assert len(confirmations) == 1  # the opt-out confirmation, through worker 1's code
    finally:
        sim.stop_in_thread()

