"""The misbehaviour catalogue against the whole dispatcher: a skill of texts goes out while the
simulator misbehaves (each fault alone, switched off after a while as a carrier recovers), over
TCP, on the real store. What we promise whatever the SMSC does: every text ends final or
uncertain, none reaches the SMSC twice, no text the SMSC took is held as unsent (it would go
twice), and sending resumes after the fault."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from proactive_sms.services.dispatch import DispatchOptions
from tests.services.dispatch_world import DaytimeClock, World, simulator

TEXTS = 60
# dispatch_world.FAST with a 1 s enquire_link, so a silent link is found within the test.
OPTIONS = DispatchOptions(poll_interval_s=0.05, housekeeping_s=0.1, smpp_response_timeout_s=1.0,
                          smpp_enquire_link_s=1.0, retry_base_s=0.05, retry_max_s=0.2,
                          throttle_pause_s=0.1, throttle_pause_max_s=0.5)



def _count(name: str, above: int = 0):
    return lambda counters: counters.get(name, 0) > above


# (fault, knobs on, seconds before the carrier "recovers", the knobs it then turns off (None: all
# of them), evidence in the simulator's counters that the fault did happen)
CATALOGUE = [
    ("black_hole", {"black_hole": True}, 1.5, None, _count("black_holed_reads")),
    ("generic_nack", {"generic_nack_ratio": 0.3}, 1.0, None, _count("generic_nack_sent")),
    ("bind_refused", {"bind_refusal_status": 0x0D, "drop_connection_after": 5}, 1.5, None,
     _count("bind_refused")),
    ("wrong_command_length", {"malformed_ratio": 0.1, "malformed_kind": "short_length"}, 1.5,
     None, _count("malformed_sent")),
    ("garbage_long_length", {"malformed_ratio": 0.1, "malformed_kind": "long_length"}, 1.5, None,
     _count("malformed_sent")),
    ("garbage_random_bytes", {"malformed_ratio": 0.1, "malformed_kind": "random_bytes"}, 1.5,
     None, _count("malformed_sent")),
    ("garbage_framed", {"malformed_ratio": 0.3, "malformed_kind": "truncated_deliver_sm"}, 1.5,
     None, _count("malformed_sent")),
    ("split_pdus", {"split_writes_octets": 5}, 2.0, None, None),  # no counter: seen in the tests
    # Receipts pile up while binds are refused, then lead the bind_resp of the next bind.
    ("deliver_sm_before_bind_resp",
     {"deliver_before_bind_resp": True, "drop_connection_after": 10, "bind_refusal_status": 0x0D},
     1.5, ("drop_connection_after", "bind_refusal_status"), _count("receipt_nacked")),
    ("unknown_receipts", {"unknown_receipt_ratio": 0.5}, 1.0, None,
     _count("unknown_receipts_sent")),
    ("receipts_before_resp", {"receipt_before_resp": 0.5}, 1.0, None, None),
    ("duplicate_receipts", {"duplicate_receipts": 0.5}, 1.0, None,
     _count("receipt_sent", above=TEXTS)),
    ("dropped_mid_pdu", {"drop_connection_after": 10, "drop_mid_pdu": True}, 1.5, None,
     _count("connections_dropped")),
]


@pytest.fixture
def world(engine, bu, tmp_path):
    sim = simulator()
    yield World(engine, bu, sim, tmp_path, DaytimeClock())
    sim.stop_in_thread()


@pytest.mark.parametrize(("fault", "knobs", "off_after_s", "turned_off", "evidence"), CATALOGUE,
                         ids=[c[0] for c in CATALOGUE])
async def test_under_each_fault_nothing_is_lost_none_twice_and_sending_resumes(
    world: World, fault: str, knobs: dict, off_after_s: float, turned_off, evidence
) -> None:
    world.connection(window=10)
    world.code("55501", rate=20.0)  # 3 s of sending: the fault covers the first part
    world.people("people", TEXTS)
    skill_id = world.skill("faulty", "55501", "people", "Hi {FirstName}, a shift is open.")
    defaults = {knob: getattr(type(world.sim.config)(), knob) for knob in turned_off or knobs}

    async def misbehave() -> None:
        # Once the link is up and texts flow (the dispatcher takes a moment to start), the SMSC
        # misbehaves for a while, then "recovers".
        while len(world.sim.accepted_submits()) < 5:
            await asyncio.sleep(0.02)
        await asyncio.to_thread(world.sim.configure, **knobs)
        await asyncio.sleep(off_after_s)
        # A ratio may take a little longer to come up on a slow machine: not off before it did.
        deadline = time.monotonic() + 10.0
        while evidence and not evidence(world.sim.stats()["counters"]):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(world.sim.configure, **defaults)

    fault_task = asyncio.create_task(misbehave())
    await world.run_until_idle(OPTIONS, grace_s=3.0, timeout_s=90.0)
    await fault_task

    states = world.states(skill_id)
    counters = world.sim.stats()["counters"]
    assert evidence is None or evidence(counters), f"{fault} never happened: {counters}"
    at_sim = world.destinations_at_simulator()
    # "sent": accepted, its receipt lost with the SMSC's misbehaviour (still awaited): nothing
    # lost, nothing twice.
    assert set(states) <= {"delivered", "uncertain", "failed", "sent"}, states
    assert states["sent"] <= 2, states
    assert set(at_sim.values()) <= {1}, "a number texted twice"
    for row in world.rows(skill_id):
        if row.state == "failed":  # refused for good: it must not have reached the SMSC
            assert row.destination not in at_sim
        if row.state == "delivered":
            assert row.destination in at_sim
    # Everything the SMSC answered and receipted is delivered; the rest is known as uncertain.
    assert states["delivered"] >= len(at_sim) - states["uncertain"]
    # After the fault the code sends again: most texts went out and were delivered.
    assert states["delivered"] >= TEXTS // 2, Counter(states)
