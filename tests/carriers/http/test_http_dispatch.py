"""A skill texted through an HTTP provider (the Twilio shape): the real dispatcher and store,
the provider simulator over HTTP, its callbacks into the real API."""

from __future__ import annotations

from collections import Counter

from proactive_sms.services import administration
from proactive_sms.store import dnc
from tests.services.dispatch_world import until


async def test_a_skill_is_delivered_over_http_with_receipts_from_signed_callbacks(http_world):
    w = http_world
    w.http_connection()
    w.code("55501", rate=100)
    w.people("people", 30)
    skill = w.skill("notice", "55501", "people", "Hello {FirstName}")

    await w.run_until_idle()

    assert w.states(skill) == Counter({"delivered": 30})
    taken = w.provider.accepted()
    assert len(taken) == 30 and not w.sent_twice()
    assert {a.sender for a in taken} == {"55501"}
    assert taken[0].body.startswith("Hello ")
    # Every status the provider posted was stored once and processed.
    stored = w.callbacks()
    assert len(stored) == 60 and all(c.processed_at is not None for c in stored)
    assert Counter(c.event for c in stored) == Counter({"sent": 30, "delivered": 30})
    assert w.provider.stats()["callbacks"] == {"posted": 60}
    # The carrier's id is the provider's message sid, kept with the text.
    rows = w.rows(skill)
    assert all(r.connection_id is not None for r in rows)


async def test_a_stop_reply_through_the_provider_puts_the_number_on_the_dnc_list(http_world):
    w = http_world
    w.http_connection()
    w.code("55501", rate=100)
    w.people("people", 3)
    skill = w.skill("notice", "55501", "people", "Hello {FirstName}")
    number = w.rows(skill)[0].destination

    dispatcher = w.dispatcher()
    import asyncio
    task = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: w.states(skill).get("delivered") == 3)
        answered = await w.inject(number, "55501", "STOP")
        assert answered["status_code"] == 200
        with w.engine.connect() as conn:
            list_id = dnc.find_list(conn, w.bu.tenant_id).id
        await until(lambda: _on_list(w, list_id, number))
        # The confirmation goes back through the provider, paced as every text.
        await until(lambda: any(a.to == number and a.body != w.rows(skill)[0].body
                                for a in w.provider.accepted()))
    finally:
        dispatcher.stop()
        await task


def _on_list(w, list_id: int, number: str) -> bool:
    with w.engine.connect() as conn:
        return dnc.is_on_list(conn, list_id, number)


async def test_callbacks_with_a_bad_signature_are_refused_and_change_nothing(http_world):
    w = http_world
    w.provider.configure(bad_signatures=True)
    w.http_connection()
    w.code("55501", rate=100)
    w.people("people", 5)
    skill = w.skill("notice", "55501", "people", "Hello")

    await w.run_until_idle(grace_s=1.0)

    assert w.states(skill) == Counter({"sent": 5})  # no receipt was believed
    assert w.callbacks() == []
    assert w.provider.stats()["callbacks"] == {"posted": 10, "refused": 10}
    # An inbound text with a bad signature is refused too.
    answered = await w.inject("+12125550100", "55501", "STOP")
    assert answered["status_code"] == 403
    assert w.callbacks() == []
    assert administration.list_registrations(w.engine, w.bu)


async def test_a_provider_that_cannot_be_reached_leaves_texts_waiting_then_sends_each_once(
        http_world):
    import socket

    from proactive_sms.carriers.provider_sim import ProviderSimulator
    from proactive_sms.services import carrier_connections

    w = http_world
    w.provider.stop()
    with socket.socket() as sock:  # a port nobody listens on, until the provider starts there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    w.provider = ProviderSimulator(w.provider.config, port=port)
    connection_id = w.http_connection()
    w.code("55501", rate=100)
    w.people("people", 10)
    skill = w.skill("notice", "55501", "people", "Hello")

    dispatcher = w.dispatcher()
    import asyncio
    task = asyncio.create_task(dispatcher.run(until_idle=True, receipt_grace_s=5.0))
    try:
        def refused() -> bool:
            link = carrier_connections.links(w.engine, w.clock, [connection_id])[connection_id]
            return link.state == "unbound" and "cannot reach the provider" in (
                link.last_error or "")

        await until(refused)
        assert w.states(skill) == Counter({"pending": 10})  # nothing left, nothing lost
        w.provider.start_in_thread()
        await asyncio.wait_for(task, 90)
    finally:
        dispatcher.stop()
        await task
    assert w.states(skill) == Counter({"delivered": 10})
    assert len(w.provider.accepted()) == 10 and not w.sent_twice()
