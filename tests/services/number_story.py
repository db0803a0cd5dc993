"""One number through every decision a number's history tells, on the real dispatcher, store and
SMSC simulator: imported, skipped in one skill, deferred by the calling window in another, held
by a possible opt-out under review, released, submitted, delivered, then a STOP and a START
(onto the DNC list and off it). Used by the history tests of the service, the CLI and the API.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from proactive_sms.carriers.base import InboundText
from proactive_sms.services.inbound import InboundService
from proactive_sms.store import review_holds
from proactive_sms.store.schema import message, message_wait
from proactive_sms.store.tenancy import BusinessUnit
from tests.factories import us_number
from tests.services.dispatch_world import FAST, ManualWallClock, World, simulator

UNSURE = "I will stop by the store tomorrow to pay"  # possible_opt_out: a person decides
# 22:00 in New York (the people's postal code 10001) on a Wednesday: outside every window.
NIGHT = datetime(2026, 1, 14, 3, 0, tzinfo=UTC)
MORNING = datetime(2026, 1, 14, 13, 30, tzinfo=UTC)  # 08:30 in New York


@dataclass(frozen=True)
class Story:
    number: str  # E.164 of the number the story is about
    local: str  # the same, as a person types it (10 digits)
    notice_id: int  # the skill that texted it in the end
    waits_after_rechecks: int  # message_wait rows of its text once the hold was re-checked


def e164(i: int) -> str:
    return "+1" + us_number(i)


def reply(world: World, i: int, body: str) -> int:
    (outcome,) = InboundService(world.engine, world.clock).handle_batch(
        [InboundText(sender=e164(i).lstrip("+"), recipient="55501", text=body)])
    return outcome.inbound_id


async def dispatch_until(world: World, done, timeout_s: float = 30.0) -> None:
    dispatcher = world.dispatcher(FAST)
    task = asyncio.create_task(dispatcher.run())
    for _ in range(int(timeout_s / 0.05)):
        if done() or task.done():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    dispatcher.stop()
    await task


def _row(world: World, skill_id: int, destination: str):
    with world.engine.connect() as conn:
        return conn.execute(select(message).where(message.c.skill_id == skill_id,
                                                  message.c.destination == destination)).one()


def _waits(world: World, message_id: int) -> int:
    with world.engine.connect() as conn:
        return len(conn.execute(select(message_wait.c.id)
                                .where(message_wait.c.message_id == message_id)).all())


async def tell(engine: Engine, bu: BusinessUnit, tmp_path) -> Story:
    """Run the story; the simulator is stopped before returning."""
    clock = ManualWallClock(NIGHT)
    sim = simulator()
    try:
        world = World(engine, bu, sim, tmp_path, clock)
        world.connection()
        world.code("55501", rate=100)
        world.people("people", 2)  # number 0 is the story's, number 1 a neighbour's
        clock.advance(60)
        # Skipped at launch: the text is longer than this skill's one segment.
        world.skill("shortie", "55501", "people", "Hi {FirstName}. " + "x" * 200,
                    max_segments=1)
        clock.advance(60)
        notice_id = world.skill("notice", "55501", "people", "Hi {FirstName}, your order is in")
        number = e164(0)
        await dispatch_until(world, lambda: _row(world, notice_id, number).next_attempt_at
                             is not None)  # deferred: 22:02 in New York
        clock.advance(300)
        inbound_id = reply(world, 0, UNSURE)  # a possible opt-out, pending review

        clock.set(MORNING)  # the window is open: the neighbour's text goes, ours is held
        await dispatch_until(world, lambda: _row(world, notice_id, number).detail
                             == review_holds.HOLD_DETAIL)
        text_id = _row(world, notice_id, number).id
        clock.advance(120)  # past the hold's re-check: held again, not written again
        await dispatch_until(world, lambda: _row(world, notice_id, e164(1)).state
                             == "delivered")
        waits_after_rechecks = _waits(world, text_id)

        clock.advance(60)
        InboundService(engine, clock).review(inbound_id, accept=False, business_unit_id=bu.id)
        await dispatch_until(world, lambda: _row(world, notice_id, number).state == "delivered")

        clock.advance(600)
        reply(world, 0, "STOP")
        clock.advance(600)
        reply(world, 0, "START")
        clock.advance(60)
    finally:
        sim.stop_in_thread()
    return Story(number, us_number(0), notice_id, waits_after_rechecks)
