"""Spend: prices in the dry run and the report, budgets that refuse a start and pause a running
skill, a unit's month across skills: through the real dispatcher and the SMSC simulator."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from proactive_sms.services import (
    administration,
    code_prices,
    launching,
    lifecycle,
    reporting,
    spend,
)
from proactive_sms.services.dry_run import dry_run
from proactive_sms.services.skill_settings import update_skill
from proactive_sms.store import audit as audit_store
from proactive_sms.store import skills as skill_store
from proactive_sms.store.schema import message
from proactive_sms.store.skills import SkillStatus
from tests.services.dispatch_world import DaytimeClock, World, simulator

TEXT = "Shift open tonight."  # one GSM-7 segment


@pytest.fixture
def world(engine, bu, tmp_path):
    sim = simulator()
    made = World(engine, bu, sim, tmp_path, DaytimeClock())
    made.connection()
    yield made
    sim.stop_in_thread()


def _skill(world: World, name: str, people: str, **options) -> int:
    return administration.create_skill(world.engine, world.bu, world.clock, name=name,
                                       registration="55501", calling_list=people,
                                       **options).id


def _status(world: World, skill_id: int) -> skill_store.Skill:
    with world.engine.connect() as conn:
        return skill_store.skill_by_id(conn, skill_id)


async def test_the_dry_run_and_the_report_say_what_a_skill_costs_per_destination(world):
    engine, bu, clock = world.engine, world.bu, world.clock
    world.code("55501", rate=500)
    code_prices.set_price(engine, bu, clock, "55501", "0.0079", "USD")
    code_prices.set_price(engine, bu, clock, "55501", "0.011", "usd", country="ca")
    world.people("people", 30)  # New York
    world.people("people", 10, start=30, area="416")  # Toronto: Canada's price
    created = _skill(world, "notice", "people")
    long_text = "x" * 200  # two GSM-7 segments (153 each)

    predicted = dry_run(engine, created, clock, message_text=long_text)
    assert predicted.currency == "USD"
    assert predicted.cost_micros == 30 * 2 * 7_900 + 10 * 2 * 11_000
    assert predicted.as_dict()["cost"] == "0.694"
    assert predicted.unpriced == 0 and predicted.budget_refusal is None

    launching.start_skill(engine, created, clock, message_text=long_text)
    await world.run_until_idle()
    report = reporting.skill_report(engine, bu, "notice")
    assert report.sent == 40
    assert report.spend.spent.cost_micros == predicted.cost_micros  # before == after
    assert report.as_dict()["spend"]["spent"] == "0.694"
    assert report.as_dict()["spend"]["spent_segments"] == 80
    # The cost of every text is fixed when it is decided: segments x its destination's price.
    with engine.connect() as conn:
        assert conn.scalar(select(func.sum(message.c.cost_micros))) == predicted.cost_micros


async def test_a_start_whose_dry_run_exceeds_the_budget_is_refused_naming_the_figures(world):
    engine, bu, clock = world.engine, world.bu, world.clock
    world.code("55501")
    code_prices.set_price(engine, bu, clock, "55501", "0.01", "USD")
    world.people("people", 20)
    created = _skill(world, "notice", "people", budget="0.15")
    with pytest.raises(spend.BudgetExceeded) as refused:
        launching.start_skill(engine, created, clock, message_text=TEXT)
    assert str(refused.value) == ("starting skill 'notice' would cost 0.20 USD, more than its "
                                  "budget of 0.15 USD")
    assert _status(world, created).status is SkillStatus.DRAFT  # nothing written
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(message)) == 0
    assert dry_run(engine, created, clock, message_text=TEXT).budget_refusal == str(refused.value)

    update_skill(engine, bu, clock, "notice", {"budget": "0.20"})  # exactly the cost: allowed
    launching.start_skill(engine, created, clock, message_text=TEXT)
    await world.run_until_idle()
    done = _status(world, created)
    assert done.status is SkillStatus.FINISHED  # a budget met exactly is not a pause
    assert world.states(created)["delivered"] == 20


async def test_a_budget_needs_a_price(world):
    world.code("55501")
    world.people("people", 3)
    created = _skill(world, "notice", "people", budget="5")
    with pytest.raises(spend.BudgetExceeded, match="its code 55501 has no price"):
        launching.start_skill(world.engine, created, world.clock, message_text=TEXT)


def overrun_bound(rate_per_s: float, window: int) -> int:
    """What a skill may send past its budget (docs/spend.md): the texts its code releases
    between two refreshes (at most a second's worth: the pacer's window is a second) and those
    in flight on the connection when the pause is written."""
    return math.ceil(rate_per_s) + window


async def test_a_running_skill_is_paused_at_its_budget_within_one_refresh(world):
    engine, bu, clock = world.engine, world.bu, world.clock
    rate, window = 20, 10
    world.code("55501", rate=rate)
    code_prices.set_price(engine, bu, clock, "55501", "0.01", "USD")
    world.people("people", 200)
    created = _skill(world, "notice", "people")
    launching.start_skill(engine, created, clock, message_text=TEXT)
    # A budget of 50 texts, set while it runs (a budget lowered mid-run, or texts launched
    # before prices changed): the dispatcher pauses it when its spend reaches it.
    update_skill(engine, bu, clock, "notice", {"budget": "0.50"})
    await world.run_until_idle(grace_s=0.5)

    paused = _status(world, created)
    assert paused.status is SkillStatus.PAUSED
    # What it had spent when it was paused (texts in flight then are counted after).
    assert re.fullmatch(r"budget reached: spent 0\.\d\d USD of its budget of 0\.50 USD",
                        paused.pause_reason), paused.pause_reason
    states = world.states(created)
    sent = states["delivered"] + states["sent"]
    assert 50 <= sent <= 50 + overrun_bound(rate, window), sent
    assert states["pending"] == 200 - sent  # the rest waits, none lost
    report = reporting.skill_report(engine, bu, "notice")
    assert report.spend.spent.cost_micros == sent * 10_000  # every sent text counted, once
    with engine.connect() as conn:
        entries = [e for e in audit_store.page(conn, bu.id, action="skill.paused",
                                               limit=10, offset=0)]
    assert [(e.username, e.target) for e in entries] == [("(system)", "notice")]

    # Resuming is refused while its budget is spent; raised, it resumes and finishes.
    with pytest.raises(spend.BudgetExceeded, match="raise the budget first"):
        lifecycle.resume(engine, created, clock)
    update_skill(engine, bu, clock, "notice", {"budget": "2.00"})
    lifecycle.resume(engine, created, clock)
    assert _status(world, created).pause_reason is None
    await world.run_until_idle()
    assert world.states(created)["delivered"] == 200


async def test_a_units_month_is_shared_by_its_skills(world):
    engine, bu, clock = world.engine, world.bu, world.clock
    rate, window = 20, 10
    world.code("55501", rate=rate)
    code_prices.set_price(engine, bu, clock, "55501", "0.01", "USD")
    spend.set_unit_budget(engine, bu, clock, monthly="0.60", time_zone="America/Chicago")
    world.people("first", 50)
    world.people("second", 50, start=100)
    one = _skill(world, "one", "first")
    two = _skill(world, "two", "second")
    # Each fits what is left of the month on its own (0.50 of 0.60): both start.
    launching.start_skill(engine, one, clock, message_text=TEXT)
    launching.start_skill(engine, two, clock, message_text=TEXT)
    await world.run_until_idle(grace_s=0.5)

    month = spend.unit_spend(engine, bu, clock)
    sent = sum(world.states(s)["delivered"] + world.states(s)["sent"] for s in (one, two))
    assert month.spent_micros == sent * 10_000
    assert 60 <= sent <= 60 + overrun_bound(rate, window), sent
    # The code sends the first skill's texts first: it may finish within the month; the
    # other, with texts left, is paused, and so is every skill of the unit that has some.
    paused = [_status(world, s) for s in (one, two) if world.states(s)["pending"]]
    assert [p.name for p in paused] in (["two"], ["one", "two"])
    for skill in paused:
        assert skill.status is SkillStatus.PAUSED
        assert skill.pause_reason.startswith("business unit sales's budget for 2026-01 is "
                                             "used up: spent ")
    # A third skill cannot start: the month has nothing left.
    world.people("third", 5, start=300)
    three = _skill(world, "three", "third")
    with pytest.raises(spend.BudgetExceeded, match=r"more than is left of business unit "
                                                   r"sales's budget for 2026-01: 0.00 USD left"):
        launching.start_skill(engine, three, clock, message_text=TEXT)


def test_a_unit_has_one_currency(engine, bu, clock):
    administration.add_registration(engine, bu, clock, code="55501", kind="short",
                                    throughput_per_s=10, connection=None, dnc_group=None)
    administration.add_registration(engine, bu, clock, code="55502", kind="short",
                                    throughput_per_s=10, connection=None, dnc_group=None)
    code_prices.set_price(engine, bu, clock, "55501", "0.0079", "USD")
    with pytest.raises(administration.InvalidRequest, match="prices in USD"):
        code_prices.set_price(engine, bu, clock, "55502", "0.0079", "EUR")
    with pytest.raises(administration.InvalidRequest, match="more than six decimal places"):
        code_prices.set_price(engine, bu, clock, "55502", "0.00000001", "USD")
    with pytest.raises(administration.InvalidRequest, match="cannot be negative"):
        code_prices.set_price(engine, bu, clock, "55502", "-1", "USD")
    with pytest.raises(administration.InvalidRequest, match="prices in USD"):
        spend.set_unit_budget(engine, bu, clock, monthly="100", currency="EUR")
    month = spend.set_unit_budget(engine, bu, clock, monthly="100")
    assert (month.currency, month.as_dict()["monthly_budget"]) == ("USD", "100.00")
    # The unit's only price may change currency only with its budget's.
    with pytest.raises(administration.InvalidRequest, match="budget is in USD"):
        code_prices.set_price(engine, bu, clock, "55501", "0.01", "GBP")
    assert code_prices.code_prices(engine, bu, "55501").summary() == "0.0079 USD a segment"


def test_month_of_a_unit_follows_its_zone():
    from proactive_sms.domain.money import calendar_month

    start, end, name = calendar_month(datetime(2026, 3, 1, 3, 0, tzinfo=UTC), "America/Chicago")
    assert name == "2026-02"  # 21:00 on 28 February in Chicago
    assert (start, end) == (datetime(2026, 2, 1, 6, 0, tzinfo=UTC),
                            datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    start, end, name = calendar_month(datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
                                      "Asia/Kathmandu")  # +05:45
    assert name == "2027-01"
    assert start == datetime(2026, 12, 31, 18, 15, tzinfo=UTC)


def test_a_budget_that_is_not_an_amount_is_refused_naming_the_field(engine, bu, clock,
                                                                   tmp_path):
    from tests.factories import import_people, registration, skill

    import_people(engine, bu, clock, tmp_path, 2)
    registration(engine, bu, clock)
    skill(engine, bu, clock, budget="12.5")
    for bad in ("1.2.3", "-5", "0.0000001", "ten"):
        with pytest.raises(administration.InvalidRequest) as refused:
            update_skill(engine, bu, clock, "notice", {"budget": bad})
        assert refused.value.field == "budget", bad
    assert update_skill(engine, bu, clock, "notice", {"budget": "12.50"}).settings()[
        "budget"] == "12.50"
    assert update_skill(engine, bu, clock, "notice", {"budget": None}).skill.budget_micros is None
