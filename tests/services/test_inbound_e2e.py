"""Inbound through the real simulator while a skill runs: STOP acts before the next text,
START makes the number reachable again, replies reach agents and their answers go out."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from proactive_sms.services import administration, conversations
from proactive_sms.store.schema import message
from tests.factories import us_number
from tests.services.dispatch_world import World


def e164(i: int) -> str:
    return "+1" + us_number(i)


def arrivals_to(world: World, number: str) -> list[tuple[float, str]]:
    return [(p.time_s, p.text) for p in world.sim.accepted_submits()
            if "+" + p.destination_addr.lstrip("+") == number]


async def test_stop_during_a_running_skill_prevents_further_texts_and_start_restores(world):
    world.connection()
    world.code("2025550143", kind="long", rate=5)
    world.people("people", 40)
    skill_id = world.skill("notice", "2025550143", "people", "Shift open tonight.")
    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(1.0)
    stop_sent_at = time.time()
    await world.sim.inject_inbound(e164(30), "12025550143", "STOP")
    await world.sim.inject_inbound(e164(35), "12025550143", "Stop!!")
    await asyncio.sleep(1.0)
    await world.sim.inject_inbound(e164(35), "12025550143", "START")
    await asyncio.sleep(9.5)  # 40 texts at 5/s
    dispatcher.stop()
    await task

    to_30 = arrivals_to(world, e164(30))
    assert [text for _, text in to_30 if "unsubscribed" not in text] == []
    assert all(at >= stop_sent_at for at, _ in to_30)
    assert sum("unsubscribed" in text for _, text in to_30) == 1  # exactly one confirmation
    to_35 = [text for _, text in arrivals_to(world, e164(35))]
    assert "Shift open tonight." in to_35  # reachable again after START
    assert sum("subscribed again" in text for text in to_35) == 1
    with world.engine.connect() as conn:
        skipped = conn.execute(select(message.c.destination, message.c.skip_reason).where(
            message.c.skill_id == skill_id, message.c.state == "skipped")).all()
    assert [tuple(r) for r in skipped] == [(e164(30), "dnc")]


async def test_toll_free_stop_is_recorded_and_nothing_of_ours_is_sent(world):
    world.connection()
    world.code("8885550100", kind="toll_free", rate=3)
    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0.5)
    await world.sim.inject_inbound(e164(7), "18885550100", "STOP")
    await world.sim.inject_inbound(e164(7), "18885550100", "HELP")
    await asyncio.sleep(1.0)
    dispatcher.stop()
    await task
    assert administration.dnc_check(world.engine, world.bu, e164(7)) == ["default"]
    assert world.sim.accepted_submits() == []


async def test_a_reply_reaches_the_agents_and_the_answer_reaches_the_customer(world):
    world.connection()
    world.code("55501", rate=50)
    administration.add_registration(world.engine, world.bu, world.clock, code="55502",
                                    kind="short", throughput_per_s=50, connection="sim",
                                    dnc_group=None, solution="sms_messaging")
    world.people("people", 3)
    skill_id = world.skill("follow-up", "55502", "people", "Hi {FirstName}, call us back?")
    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(1.0)
    await world.sim.inject_inbound(e164(1), "55502", "Can you call me after 5pm?")
    await asyncio.sleep(0.5)
    (waiting,) = conversations.inbox(world.engine, world.bu)
    assert waiting.skill_id == skill_id and waiting.phone == e164(1)
    conversations.reply(world.engine, world.bu, world.clock, waiting.id, "Sure, at 5:30.")
    await asyncio.sleep(1.0)
    dispatcher.stop()
    await task
    assert "Sure, at 5:30." in [text for _, text in arrivals_to(world, e164(1))]
    _, history = conversations.history(world.engine, world.bu, waiting.id)
    assert [(e.direction, e.text) for e in history][-2:] == [
        ("in", "Can you call me after 5pm?"), ("out", "Sure, at 5:30.")]
