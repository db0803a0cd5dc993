"""A skill texted through the Vonage SMS API shape: the real dispatcher and store, the provider
simulator's Vonage routes over HTTP, its signed receipts (GET, one per part) and inbound texts
into the real API. The same dispatcher and services as the Twilio shape: only the shape
differs."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

from sqlalchemy import func, select

from proactive_sms.services import administration
from proactive_sms.store import dnc
from proactive_sms.store.schema import message_part
from tests.carriers.http.http_world import HTTP_FAST
from tests.services.dispatch_world import until

LONG = "Hello {FirstName}, " + "this notice is long enough to need two parts. " * 4


async def test_a_skill_is_delivered_through_vonage_each_long_text_when_every_part_is(
        http_world):
    w = http_world
    w.vonage_connection()
    w.code("55501", rate=100, connection="vonage")
    w.people("people", 10)
    skill = w.skill("notice", "55501", "people", LONG)

    await w.run_until_idle()

    assert w.states(skill) == Counter({"delivered": 10})
    taken = w.provider.accepted()
    # Vonage split each text in two parts, each taken once: the text was sent once.
    assert len(taken) == 20 and set(w.provider.per_destination().values()) == {2}
    bodies = {r.destination: r.body for r in w.rows(skill)}
    for to in bodies:
        assert "".join(a.body for a in taken if a.to == to) == bodies[to]
    assert {a.sender for a in taken} == {"55501"}
    # One receipt per part (GET, signed), stored once each and processed.
    stored = w.callbacks()
    assert len(stored) == 20 and all(c.processed_at is not None for c in stored)
    assert Counter(c.event for c in stored) == Counter({"delivered": 20})
    with w.engine.connect() as conn:
        parts = conn.execute(select(func.count()).select_from(message_part)).scalar_one()
    assert parts == 20


async def test_a_failed_part_makes_the_text_undeliverable_with_its_err_code(http_world):
    w = http_world
    w.vonage_connection()
    w.code("55501", rate=100, connection="vonage")
    w.people("people", 3)
    skill = w.skill("notice", "55501", "people", "Hello {FirstName}")
    unlucky = w.rows(skill)[0].destination
    w.provider.configure(undeliverable={unlucky: 6})

    await w.run_until_idle()

    assert w.states_by_destination(skill)[unlucky] == "undeliverable"
    assert w.states(skill) == Counter({"delivered": 2, "undeliverable": 1})


async def test_a_refused_number_fails_and_a_barred_one_goes_onto_the_dnc_list(http_world):
    w = http_world
    w.vonage_connection()
    w.code("55501", rate=100, connection="vonage")
    w.people("people", 3)
    skill = w.skill("notice", "55501", "people", "Hello {FirstName}")
    invalid, barred = (r.destination for r in w.rows(skill)[:2])
    w.provider.configure(refuse={invalid: 3, barred: 7})

    await w.run_until_idle()

    states = w.states_by_destination(skill)
    assert states[invalid] == "failed" and states[barred] == "failed"
    assert w.states(skill)["delivered"] == 1
    details = {r.destination: r.detail for r in w.rows(skill)}
    assert "invalid parameters (3)" in details[invalid]
    with w.engine.connect() as conn:
        list_id = dnc.find_list(conn, w.bu.tenant_id).id
        assert dnc.is_on_list(conn, list_id, barred)
        assert not dnc.is_on_list(conn, list_id, invalid)


REAL_THROTTLING = replace(HTTP_FAST, throttle_pause_s=1.0, throttle_pause_max_s=30.0)


async def test_throttled_answers_slow_the_code_through_the_same_adaptive_rate(http_world):
    w = http_world
    w.provider.configure(throttle_above_per_s=20, callback_delay_s=0.0)
    w.vonage_connection(window=20)
    w.code("55501", rate=100, connection="vonage")
    w.people("people", 400)
    skill = w.skill("notice", "55501", "people", "Hello {FirstName}")

    dispatcher = w.dispatcher(REAL_THROTTLING)
    task = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: w.provider.refused["1"] > 0, timeout_s=30)
        await asyncio.sleep(4.0)
        pace = next(iter(administration.code_paces(w.engine, w.bu).values()))
    finally:
        dispatcher.stop()
        await task

    # Vonage says "throttled" (status 1) in an HTTP 200: the code's rate came down from 100/s
    # toward the provider's 20/s, and no text was sent twice.
    assert pace.throttled and pace.limit_per_s == 100
    assert pace.rate_per_s < 60, pace
    assert not w.sent_twice()
    refused = w.provider.refused["1"]
    assert refused < 200, refused  # bounded: not hammering at 100/s
    assert "failed" not in w.states(skill)  # a throttled text waits, it does not fail


async def test_badly_signed_receipts_and_inbound_texts_are_refused(http_world):
    w = http_world
    w.provider.configure(bad_signatures=True)
    w.vonage_connection()
    w.code("55501", rate=100, connection="vonage")
    w.people("people", 4)
    skill = w.skill("notice", "55501", "people", "Hello")

    await w.run_until_idle(grace_s=1.0)

    assert w.states(skill) == Counter({"sent": 4})  # no receipt was believed
    assert w.callbacks() == []
    assert w.provider.stats()["callbacks"] == {"posted": 4, "refused": 4}
    answered = await w.inject("+12125550100", "55501", "STOP")
    assert answered["status_code"] == 403
    assert w.callbacks() == []


async def test_an_inbound_stop_through_vonage_puts_the_number_on_the_dnc_list(http_world):
    w = http_world
    w.vonage_connection()
    w.code("55501", rate=100, connection="vonage")
    w.people("people", 3)
    skill = w.skill("notice", "55501", "people", "Hello {FirstName}")
    number = w.rows(skill)[0].destination
    with w.engine.connect() as conn:
        list_id = dnc.find_list(conn, w.bu.tenant_id).id

    dispatcher = w.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: w.states(skill).get("delivered") == 3)
        answered = await w.inject(number, "55501", "STOP")
        assert answered["status_code"] == 200
        await until(lambda: _on_list(w, list_id, number))
        # The confirmation goes back through Vonage, paced as every text.
        await until(lambda: any(a.to == number and a.body != w.rows(skill)[0].body
                                for a in w.provider.accepted()))
    finally:
        dispatcher.stop()
        await task
    assert [c.kind for c in w.callbacks()].count("inbound") == 1


def _on_list(w, list_id: int, number: str) -> bool:
    with w.engine.connect() as conn:
        return dnc.is_on_list(conn, list_id, number)


async def test_the_simulators_inbound_route_posts_in_the_shape_asked(http_world):
    import httpx

    w = http_world
    w.vonage_connection()
    w.code("55501", rate=100, connection="vonage")
    w.provider.configure(inbound_shape="twilio")  # the route's `shape` overrides the knob
    async with httpx.AsyncClient(base_url=w.provider.base_url, timeout=30) as client:
        answer = await client.post("/_sim/inbound", json={
            "from": "+12125550100", "to": "55501", "text": "HELP", "shape": "vonage"})
        assert answer.status_code == 200 and answer.json()["status_code"] == 200
        bogus = await client.post("/_sim/inbound", json={
            "from": "+12125550100", "to": "55501", "text": "HELP", "shape": "sinch"})
        assert bogus.status_code == 400
    stored = w.callbacks()
    assert [(c.kind, c.payload["text"]) for c in stored] == [("inbound", "HELP")]
    assert stored[0].payload["msisdn"] == "12125550100"
