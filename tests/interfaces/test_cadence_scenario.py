"""The agent-skill scenario end to end through the simulators: a real `psms serve`-style API
over HTTP (uvicorn on loopback), the dialer simulator calling through it, the dispatcher sending
through the real SMSC simulator, customers replying and texting STOP through the simulator,
agents answering.

500 customers, 30% of calls reach answering machines; exactly those of them with an SMS-capable
number are texted, once; 10 reply and their conversations are spread over the available agents;
an agent's answer reaches the customer; a customer who texts STOP leaves the cadence and the
dialer is told the record is done.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from contextlib import contextmanager

import pytest
import uvicorn
from sqlalchemy import select

from proactive_sms.dialer_sim import DialerSimulator
from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import (
    administration,
    agents,
    api_keys,
    cadence_reports,
    importing,
    launching,
)
from proactive_sms.services import cadences as cadence_service
from proactive_sms.store.schema import calling_record, message
from tests.factories import person, us_number, write_csv
from tests.processes import free_port
from tests.services.dispatch_world import FAST, DaytimeClock, simulator

pytestmark = pytest.mark.slow

CUSTOMERS = 500
CADENCE = {
    "steps": [
        {"channel": "voice", "destination": "PhoneNumber", "max_attempts": 1},
        {"channel": "sms", "destination": "SMSPhoneNumber", "after": ["answering_machine"],
         "template": "sorry-we-missed-you"},
        {"channel": "voice", "destination": "PhoneNumber", "after": ["texted"],
         "max_attempts": 1},
    ],
    "dispositions": ["sale", "refused"],
    "ends_on": ["sale", "refused"],
}
ODDS = {"answering_machine": 0.3, "no_answer": 0.3, "sale": 0.2, "refused": 0.2}


def e164(i: int) -> str:
    return "+1" + us_number(i)


@contextmanager
def api_server(engine, clock):
    """The HTTP API on a loopback port, as `psms serve --no-dispatch` runs it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine, clock), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


async def until(predicate, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def sim():
    server = simulator()
    yield server
    server.stop_in_thread()


async def test_answering_machines_are_texted_once_replies_reach_agents_and_stop_ends_the_cadence(
        engine, bu, sim, tmp_path):
    clock = DaytimeClock()
    administration.add_connection(engine, bu, clock, "sim", "127.0.0.1", sim.port, "psms",
                                  "secret", 10)
    administration.add_registration(engine, bu, clock, code="55502", kind="short",
                                    throughput_per_s=200, connection="sim", dnc_group=None,
                                    solution="sms_messaging")
    # Every fifth customer's number is a landline: no SMS-capable number.
    landline = {i for i in range(CUSTOMERS) if i % 5 == 0}
    rows = [person(i, IsCellPhone="false" if i in landline else "true")
            for i in range(CUSTOMERS)]
    importing.import_calling_list(engine, bu, "customers",
                                  write_csv(tmp_path / "customers.csv", rows), clock)
    administration.save_template(engine, bu, clock, "sorry-we-missed-you",
                                 "Hi {FirstName}, sorry we missed you. Reply here to chat.",
                                 calling_list="customers")
    skill = administration.create_skill(engine, bu, clock, name="sales", registration="55502",
                                        calling_list="customers", kind="agent")
    cadence_service.define(engine, bu, clock, "sales", CADENCE)
    for name, availability in (("ana", "available"), ("ben", "available"),
                               ("cho", "available"), ("dee", "away")):
        agents.create_agent(engine, bu, clock, name, availability=availability,
                            skill_names=["sales"])
    launching.start_skill(engine, skill.id, clock)
    key = api_keys.create(engine, bu, clock, "dialer").secret

    dispatcher = asyncio.create_task(_dispatch(engine, clock, stop := asyncio.Event()))
    try:
        with api_server(engine, clock) as url:
            dialer = DialerSimulator(url, key, "sales", ODDS, seed=7, batch=CUSTOMERS)
            # The first round calls every customer once.
            assert await asyncio.to_thread(dialer.round) == CUSTOMERS
            machines = {int(ext[1:]) for ext, step, _, outcome in dialer.log.calls
                        if step == 1 and outcome == "answering_machine"}
            assert 0.25 * CUSTOMERS < len(machines) < 0.35 * CUSTOMERS  # the odds, seeded
            texted = machines - landline
            assert texted and machines & landline

            # Exactly the answering machines with an SMS-capable number get a text, once.
            await until(lambda: len(sim.accepted_submits()) >= len(texted))
            await asyncio.sleep(0.5)  # a second text, were there one, would show by now
            arrivals = Counter("+" + p.destination_addr.lstrip("+")
                               for p in sim.accepted_submits())
            assert arrivals == Counter({e164(i): 1 for i in texted})
            with engine.connect() as conn:
                skipped = conn.execute(
                    select(calling_record.c.external_id, message.c.skip_reason)
                    .join(calling_record, calling_record.c.id == message.c.record_id)
                    .where(message.c.skill_id == skill.id, message.c.state == "skipped")).all()
            assert {(int(ext[1:]), reason) for ext, reason in skipped} == {
                (i, "no_mobile_number") for i in machines & landline}

            # Ten reply: their conversations are spread over the available agents.
            ordered = sorted(texted)
            repliers, stopper = ordered[:10], ordered[10]
            for i in repliers:
                await sim.inject_inbound(e164(i), "55502", f"Yes, call me after 5 ({i})")
            await until(lambda: sum(_held(engine, bu).values()) == 10)
            held = _held(engine, bu)
            assert sorted(held.values()) == [0, 3, 3, 4] and held["dee"] == 0

            # An agent's answer reaches the customer through the SMSC simulator.
            (first, *_) = agents.queue(engine, bu, clock, "ben")
            agents.answer(engine, bu, clock, "ben", first.conversation.id,
                          "Ben here: 5:30 works.")
            await until(lambda: any(p.text == "Ben here: 5:30 works." and
                                    "+" + p.destination_addr.lstrip("+") ==
                                    first.conversation.phone
                                    for p in sim.accepted_submits()))

            # One texts STOP: the cadence ends for them and the dialer is told.
            await sim.inject_inbound(e164(stopper), "55502", "STOP")
            stopper_id = f"C{stopper:06d}"
            await until(lambda: dialer.record(stopper_id)["record"]["done"])
            assert dialer.record(stopper_id)["record"]["done_reason"] == "dnc"

            # The dialer goes on until every cadence has ended: step 3 calls the texted ones,
            # never the one who texted STOP.
            await asyncio.to_thread(dialer.run, None, True, 0.1, 30.0)
            step3 = {int(ext[1:]) for ext, step, _, _ in dialer.log.calls if step == 3}
            assert step3 == texted - {stopper}
            assert dialer.log.refused == []
            await asyncio.sleep(0.5)
            cadence_texts = [p for p in sim.accepted_submits()
                             if p.text.startswith("Hi Ann")]
            assert len(cadence_texts) == len(texted)  # still once each, nothing after STOP
    finally:
        stop.set()
        await dispatcher

    report = cadence_reports.cadence_report(engine, bu, "sales")
    outcomes = {(s, o): n for s, o, n in report.outcomes}
    assert outcomes[(1, "answering_machine")] == len(machines)
    assert outcomes[(2, "texted")] == len(texted)
    assert outcomes[(2, "skipped")] == len(machines & landline)
    assert sum(n for (s, _), n in outcomes.items() if s == 3) == len(texted) - 1
    assert report.records_by_end.get("in_cadence", 0) == 0
    assert report.records_by_end["dnc"] == 1
    assert (report.replies, report.opt_outs, report.conversations) == (10, 1, 10)
    assert report.conversations_answered == 1 and len(report.first_answer_s) == 1
    assert sum(a["assigned"] for a in report.by_agent.values()) == 10
    assert report.by_agent["ben"]["answered"] == 1
    assert report.status == "finished"


def _held(engine, bu) -> Counter:
    return Counter({v.name: v.open_conversations for v in agents.all_agents(engine, bu)})


async def _dispatch(engine, clock, stop: asyncio.Event) -> None:
    from proactive_sms.services.dispatch import Dispatcher

    await Dispatcher(engine, clock, FAST).run(stop)
