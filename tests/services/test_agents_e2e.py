"""Through the real SMSC simulator: ten customers reply to a skill's texts, their conversations
are spread over the available agents, and an agent's answer reaches the customer."""

from __future__ import annotations

import asyncio
from collections import Counter

from proactive_sms.services import administration, agents
from tests.services.agent_world import e164
from tests.services.dispatch_world import until


async def test_ten_replies_are_spread_over_the_agents_and_an_answer_reaches_the_customer(world):
    world.connection()
    administration.add_registration(world.engine, world.bu, world.clock, code="55502",
                                    kind="short", throughput_per_s=50, connection="sim",
                                    dnc_group=None, solution="sms_messaging")
    world.people("people", 10)
    for name, availability in (("ana", "available"), ("ben", "available"),
                               ("cho", "available"), ("dee", "away")):
        agents.create_agent(world.engine, world.bu, world.clock, name,
                            availability=availability)
    world.skill("follow-up", "55502", "people", "Hi {FirstName}, can we call you?")
    for name in ("ana", "ben", "cho", "dee"):
        agents.add_skill(world.engine, world.bu, world.clock, name, "follow-up")

    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: len(world.sim.accepted_submits()) == 10)  # every text went out
        for i in range(10):
            await world.sim.inject_inbound(e164(i), "55502", f"Yes, after 5pm please ({i})")

        def held() -> Counter:
            views = agents.all_agents(world.engine, world.bu)
            return Counter({v.name: v.open_conversations for v in views})

        await until(lambda: sum(held().values()) == 10)
        assert sorted(held().values()) == [0, 3, 3, 4] and held()["dee"] == 0
        assert agents.unassigned(world.engine, world.bu, world.clock) == []

        (first, *_) = agents.queue(world.engine, world.bu, world.clock, "ben")
        customer = first.conversation.phone
        assert first.waiting_s is not None
        agents.answer(world.engine, world.bu, world.clock, "ben", first.conversation.id,
                      "Ben here: 5:30 works, talk then.")
        await until(lambda: any(
            "+" + p.destination_addr.lstrip("+") == customer
            and p.text == "Ben here: 5:30 works, talk then."
            for p in world.sim.accepted_submits()))
    finally:
        dispatcher.stop()
        await task
    (answered, *_) = agents.queue(world.engine, world.bu, world.clock, "ben")
    assert answered.waiting_s is None and answered.conversation.first_answer_at is not None
