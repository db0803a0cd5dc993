"""Failover between two carrier connections behind one registration, end to end: the real
dispatcher, the real store and two SMSC simulators over TCP.

The first SMSC crashes mid-skill (the read that brings its 60th text is recorded, none of that
read's answers leave: those texts are `uncertain` to us) and comes back a few seconds later with
its store (the receipts it owes are delivered once we bind again). Meanwhile the second carries
the texts; once the first answers a probe, traffic returns to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import replace

from sqlalchemy import select

from proactive_sms.domain.circuit_breaker import BreakerPolicy
from proactive_sms.domain.message_states import MessageState
from proactive_sms.services import administration
from proactive_sms.store import registrations, route_status
from proactive_sms.store.schema import message
from tests.services.dispatch_world import FAST, DaytimeClock, World, simulator, until

RATE_PER_S = 20
TEXTS = 200
CRASH_AFTER = 60
FINAL = {MessageState.DELIVERED.value, MessageState.UNDELIVERABLE.value,
         MessageState.EXPIRED.value}
OPTIONS = replace(FAST, receipt_sweep_s=0.3,
                  breaker=BreakerPolicy(failure_threshold=3, cool_down_s=1.0,
                                        max_cool_down_s=4.0))


def _route(world: World, code: str):
    with world.engine.connect() as conn:
        reg = registrations.find_registration(conn, world.bu.id, code)
        return reg, route_status.of_registrations(conn, [reg.id]).get(reg.id)


async def test_the_first_connection_crashes_mid_skill_and_comes_back(engine, bu, tmp_path,
                                                                     caplog):
    caplog.set_level(logging.INFO)
    # The same ids from both SMSCs: a receipt must find the text of its own connection.
    first = simulator(message_id_start=1_000)
    second = simulator(message_id_start=1_000)
    world = World(engine, bu, first, tmp_path, DaytimeClock())
    try:
        for name, sim in (("primary", first), ("backup", second)):
            administration.add_connection(engine, bu, world.clock, name, "127.0.0.1", sim.port,
                                          "psms", "secret", 10)
        administration.add_registration(engine, bu, world.clock, code="55501", kind="short",
                                        throughput_per_s=RATE_PER_S, connection=None,
                                        dnc_group=None, connections=["primary", "backup"])
        world.people("people", TEXTS)
        skill_id = world.skill("bulk", "55501", "people", "Hi {FirstName}, a shift is open.",
                               calling_window={"weekday": "00:00-24:00",
                                               "weekend": "00:00-24:00"})
        first.crash_after(CRASH_AFTER)

        dispatcher = world.dispatcher(OPTIONS)
        task = asyncio.create_task(dispatcher.run(until_idle=True, receipt_grace_s=5.0))
        await until(lambda: first.crashed, timeout_s=30)
        await until(lambda: len(second.accepted_submits()) >= 40, timeout_s=30)
        _, status = _route(world, "55501")
        with engine.connect() as conn:
            connection_ids = {name: registrations.find_connection(conn, bu.tenant_id, name).id
                              for name in ("primary", "backup")}
        assert status is not None and status.connection_id == connection_ids["backup"]
        assert status.failovers == 1

        first.recover()
        recovered_at = len(first.accepted_submits())
        await asyncio.wait_for(task, 120)

        # Every destination reached exactly once across both SMSCs; none lost.
        seen = (Counter("+" + d.lstrip("+") for d, _ in first.reassembled())
                + Counter("+" + d.lstrip("+") for d, _ in second.reassembled()))
        assert len(seen) == TEXTS and max(seen.values()) == 1

        # Every text final: the ones whose answers died with the first SMSC were settled by
        # the receipts it delivered after coming back.
        with engine.connect() as conn:
            rows = conn.execute(select(message.c.state, message.c.connection_id,
                                       message.c.detail)
                                .where(message.c.skill_id == skill_id)).all()
        assert Counter(r.state for r in rows).keys() <= FINAL, Counter(r.state for r in rows)
        carried = Counter(r.connection_id for r in rows)
        assert carried[connection_ids["primary"]] == len(first.accepted_submits())
        assert carried[connection_ids["backup"]] == len(second.accepted_submits())
        assert any("settled by a receipt" in (r.detail or "") for r in rows), \
            "the crash left no text uncertain: the test proves less than it says"

        # Traffic came back to the first, and stayed there.
        assert len(first.accepted_submits()) > recovered_at
        last = max(first.accepted_submits()[-1].monotonic_s,
                   second.accepted_submits()[-1].monotonic_s)
        assert first.accepted_submits()[-1].monotonic_s == last
        _, status = _route(world, "55501")
        assert status.connection_id == connection_ids["primary"]
        assert (status.failovers, status.returns) == (1, 1)
        assert any("texts now go through backup" in r.getMessage() for r in caplog.records)
        assert any("texts now go through primary" in r.getMessage() for r in caplog.records)

        # One pacer for the code: no second over the limit across both SMSCs.
        times = sorted(p.monotonic_s for sim in (first, second) for p in sim.accepted_submits())
        worst = max(sum(1 for t in times[i:] if t < start + 1.0)
                    for i, start in enumerate(times))
        assert worst <= RATE_PER_S, f"{worst} texts in one second, limit {RATE_PER_S}"
    finally:
        first.stop_in_thread()
        second.stop_in_thread()



async def test_a_connection_that_stops_answering_keeps_its_uncertain_texts_and_the_rest_move(
        engine, bu, tmp_path, caplog):
    # The first SMSC turns into a black hole mid-skill: it reads submits and answers nothing.
    # The texts written into it are uncertain (never sent again, by either connection); after
    # `failure_threshold` of them the breaker opens and the rest go through the second.
    caplog.set_level(logging.INFO)
    first, second = simulator(), simulator()
    world = World(engine, bu, first, tmp_path, DaytimeClock())
    try:
        for name, sim in (("primary", first), ("backup", second)):
            administration.add_connection(engine, bu, world.clock, name, "127.0.0.1", sim.port,
                                          "psms", "secret", 5)
        administration.add_registration(engine, bu, world.clock, code="55501", kind="short",
                                        throughput_per_s=RATE_PER_S, connection=None,
                                        dnc_group=None, connections="primary,backup")
        world.people("people", 120)
        skill_id = world.skill("bulk", "55501", "people", "Hi {FirstName}, a shift is open.",
                               calling_window={"weekday": "00:00-24:00",
                                               "weekend": "00:00-24:00"})
        dispatcher = world.dispatcher(OPTIONS)
        task = asyncio.create_task(dispatcher.run(until_idle=True, receipt_grace_s=3.0))
        await until(lambda: len(first.accepted_submits()) >= 20, timeout_s=30)
        first.configure(black_hole=True)
        await asyncio.wait_for(task, 120)

        states = world.states(skill_id)
        # What went into the hole: its window of 5, the texts that took the slots of the first
        # timeouts before the threshold (3) was reached, and one per probe since.
        probes = sum("probe failed" in r.getMessage() for r in caplog.records)
        assert 1 <= states["uncertain"] <= 5 + (3 - 1) + probes, (states, probes)
        # (a text accepted just before the hole may stay `sent`: the hole ate its receipt)
        assert states["delivered"] + states["sent"] + states["uncertain"] == 120, states
        with engine.connect() as conn:
            rows = conn.execute(select(message.c.destination, message.c.state,
                                       message.c.connection_id)
                                .where(message.c.skill_id == skill_id)).all()
            primary = registrations.find_connection(conn, bu.tenant_id, "primary").id
        at_second = Counter("+" + d.lstrip("+") for d, _ in second.reassembled())
        at_first = Counter("+" + d.lstrip("+") for d, _ in first.reassembled())
        assert max(at_second.values()) == 1
        for row in rows:
            if row.state == "sent":
                assert row.connection_id == primary and row.destination in at_first
            if row.state == "uncertain":  # stays with the connection that carried it
                assert row.connection_id == primary and row.destination not in at_second
        # The hole kept nothing: every text is at one SMSC exactly once, or uncertain.
        assert not set(at_first) & set(at_second) and max(at_first.values()) == 1
        assert len(at_first) + len(at_second) + states["uncertain"] == 120
    finally:
        first.stop_in_thread()
        second.stop_in_thread()
