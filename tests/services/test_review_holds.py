"""A possible opt-out awaiting review holds the texts to its number (issue 13), and a review left
undecided for 2 business days settles as an opt-out. The real dispatcher, store and simulator."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from proactive_sms.carriers.base import InboundText
from proactive_sms.domain.keywords import InboundClass
from proactive_sms.services.inbound import InboundService
from proactive_sms.store import dnc, review_holds
from proactive_sms.store.schema import inbound_message, message
from tests.factories import us_number
from tests.services.dispatch_world import FAST, ManualWallClock, World

UNSURE = "I will stop by the store tomorrow to pay"  # possible_opt_out: a person decides


def e164(i: int) -> str:
    return "+1" + us_number(i)


def reply(world: World, i: int, body: str, to: str = "55501") -> int:
    (outcome,) = InboundService(world.engine, world.clock).handle_batch(
        [InboundText(sender=e164(i).lstrip("+"), recipient=to, text=body)])
    return outcome.inbound_id


async def dispatch_until(world: World, done, timeout_s: float = 30.0,
                         then_s: float = 1.0) -> None:
    """Dispatch until `done()` (start-up on a busy machine takes its time), then `then_s` more
    for anything that should not come."""
    dispatcher = world.dispatcher(FAST)
    task = asyncio.create_task(dispatcher.run())
    for _ in range(int(timeout_s / 0.05)):
        if done() or task.done():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(then_s)
    dispatcher.stop()
    await task


def texted(world: World) -> Counter:
    return world.destinations_at_simulator()


async def test_a_possible_opt_out_holds_texts_to_its_number_until_the_review_rejects_it(world):
    world.connection()
    world.code("55501", rate=100)
    world.people("people", 5)
    inbound_id = reply(world, 2, UNSURE)
    skill_id = world.skill("notice", "55501", "people", "Your order is ready")

    await dispatch_until(world, lambda: len(texted(world)) >= 4)

    assert set(texted(world)) == {e164(i) for i in (0, 1, 3, 4)}
    with world.engine.connect() as conn:
        held = conn.execute(select(message).where(message.c.skill_id == skill_id,
                                                  message.c.destination == e164(2))).one()
    assert held.state == "pending" and held.detail == review_holds.HOLD_DETAIL  # not skipped

    InboundService(world.engine, world.clock).review(inbound_id, accept=False,
                                                     business_unit_id=world.bu.id)
    await dispatch_until(world, lambda: e164(2) in texted(world))

    assert texted(world)[e164(2)] == 1
    assert world.states(skill_id) == Counter({"delivered": 5})


async def test_an_accepted_review_turns_the_held_text_into_a_dnc_skip(world):
    world.connection()
    world.code("55501", rate=100)
    world.people("people", 3)
    inbound_id = reply(world, 1, UNSURE)
    skill_id = world.skill("notice", "55501", "people", "Your order is ready")
    await dispatch_until(world, lambda: len(texted(world)) >= 2)
    assert set(texted(world)) == {e164(0), e164(2)}
    InboundService(world.engine, world.clock).review(inbound_id, accept=True,
                                                     business_unit_id=world.bu.id)
    with world.engine.begin() as conn:  # due again now, as the hold's recheck would make it
        conn.execute(message.update().where(message.c.skill_id == skill_id,
                                            message.c.state == "pending")
                     .values(next_attempt_at=None))
    await dispatch_until(world, lambda: world.states(skill_id)["pending"] == 0)

    assert texted(world)[e164(1)] == 1  # the opt-out confirmation, not the notice
    rows = {r.destination: r for r in world.rows(skill_id)}
    assert (rows[e164(1)].state, rows[e164(1)].skip_reason) == ("skipped", "dnc")


async def test_a_review_on_another_dnc_list_does_not_hold(world):
    world.connection()
    world.code("55501", rate=100)  # the tenant default list
    world.code("55502", rate=100, dnc_group="marketing")
    world.people("people", 2)
    reply(world, 0, UNSURE, to="55502")  # would opt out of the marketing group only
    world.skill("notice", "55501", "people", "Your order is ready")

    await dispatch_until(world, lambda: len(texted(world)) >= 2)

    assert set(texted(world)) == {e164(0), e164(1)}


async def test_confirmations_and_help_answers_are_not_held(world):
    world.connection()
    world.code("55501", rate=100)
    reply(world, 4, UNSURE)
    reply(world, 4, "HELP")

    await dispatch_until(world, lambda: e164(4) in texted(world))

    assert texted(world)[e164(4)] == 1  # the help answer


def test_a_review_left_undecided_two_business_days_settles_as_an_opt_out(engine, bu):
    from proactive_sms.services import administration

    clock = ManualWallClock(datetime(2026, 12, 4, 15, 0, tzinfo=UTC))  # a Friday
    administration.add_registration(engine, bu, clock, code="55501", kind="short",
                                    throughput_per_s=100, connection=None, dnc_group=None)
    service = InboundService(engine, clock)
    (outcome,) = service.handle_batch([InboundText(sender=e164(7).lstrip("+"), recipient="55501",
                                                   text=UNSURE)])
    assert outcome.kind is InboundClass.POSSIBLE_OPT_OUT

    clock.set(datetime(2026, 12, 8, 14, 59, tzinfo=UTC))  # Tuesday, a minute short
    assert service.settle_overdue_reviews(2) == 0
    clock.advance(timedelta(minutes=1).total_seconds())
    assert service.settle_overdue_reviews(2) == 1
    assert service.settle_overdue_reviews(2) == 0  # once

    with engine.connect() as conn:
        state = conn.scalar(select(inbound_message.c.review_state)
                            .where(inbound_message.c.id == outcome.inbound_id))
        default = dnc.find_list(conn, bu.tenant_id)
        on_list = {e.phone for e in dnc.entries(conn, default.id)}
        confirmations = conn.scalar(select(message.c.id).where(message.c.skill_id.is_(None)))
    assert state == "settled"
    assert on_list == {e164(7)}
    assert confirmations is None  # no confirmation days later, out of the blue
