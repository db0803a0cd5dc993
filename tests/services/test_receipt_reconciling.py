"""A text whose submit answer never came (`uncertain`) is settled by its receipt, matched on the
number, the submit time and the text since its carrier id is unknown; the explicit resend then
skips it. Two texts that fit one receipt settle neither. Against the simulator over TCP."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from proactive_sms.services import lifecycle
from proactive_sms.store.schema import early_receipt, message_part
from tests.factories import us_number
from tests.services.dispatch_world import FAST, World

SWEEPING = replace(FAST, receipt_sweep_s=0.2)


def _held(world: World) -> int:
    with world.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(early_receipt))


# (case, outcome the simulator reports for the unanswered number, the text's final state)
CASES = [
    ("delivered", "delivered", "delivered"),
    ("undeliverable", "undeliverable", "undeliverable"),
    ("expired", "expired", "expired"),
]


@pytest.mark.parametrize(("outcome", "settled_as"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
async def test_an_unanswered_text_is_settled_by_its_receipt_and_not_resent(world, outcome,
                                                                           settled_as):
    silent = "+1" + us_number(1)
    world.sim.configure(no_response_pattern=r"\+?" + silent.lstrip("+"),
                        receipt_outcome_by_destination={r"\+?" + silent.lstrip("+"): outcome})
    world.connection()
    world.code("55501")
    world.people("people", 3)
    skill_id = world.skill("notice", "55501", "people", "Hi {FirstName}, shift open tonight")

    await world.run_until_idle(SWEEPING, grace_s=2.0)

    rows = {r.destination: r for r in world.rows(skill_id)}
    assert rows[silent].state == settled_as
    assert "receipt matched on number, time and text" in rows[silent].detail
    assert _held(world) == 0
    with world.engine.connect() as conn:  # its receipt's id is its part now: a repeat is a dup
        assert conn.scalar(select(message_part.c.carrier_message_id)
                           .where(message_part.c.message_id == rows[silent].id))
    assert lifecycle.resend_uncertain(world.engine, skill_id, world.clock) == 0
    assert world.destinations_at_simulator()[silent] == 1


async def test_a_receipt_that_fits_two_uncertain_texts_settles_neither(world):
    silent = us_number(1)
    world.sim.configure(no_response_pattern=r"\+?1" + silent)
    world.connection()
    world.code("55501")
    world.people("people", 3)
    # Two skills text the same people the same words: both texts to the silent number fit
    # either receipt.
    first = world.skill("one", "55501", "people", "Shift open tonight")
    second = world.skill("two", "55501", "people", "Shift open tonight")

    await world.run_until_idle(SWEEPING, grace_s=2.0)

    unsettled = [r for s in (first, second) for r in world.rows(s) if r.state == "uncertain"]
    assert len(unsettled) == 2 and {r.destination for r in unsettled} == {"+1" + silent}
    assert _held(world) == 2
    with world.engine.connect() as conn:
        assert set(conn.scalars(select(early_receipt.c.recipient))) == {"+1" + silent}


async def test_a_receipt_held_past_its_age_is_pruned(world):
    world.connection()
    world.code("55501")
    world.people("people", 1)
    world.skill("notice", "55501", "people", "Hello")
    await world.run_until_idle(SWEEPING, grace_s=1.0)
    with world.engine.begin() as conn:
        conn.execute(early_receipt.insert().values(
            carrier_message_id="gone", carrier_id_folded="GONE", state="delivered", raw="",
            received_at=world.clock.now()))
    assert _held(world) == 1
    await world.run_until_idle(replace(SWEEPING, early_receipt_max_age_s=0.1), grace_s=1.0)
    assert _held(world) == 0
