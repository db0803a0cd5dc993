"""Spend: transport codes' prices, what skills cost before and after, and the budgets that cap it.

What counts as spent (docs/spend.md):
- a skill's text counts once it has left us: the carrier accepted it (`sent`, and whatever
  receipt came since), or its submit got no answer (`uncertain`: it may have reached the
  carrier, so it counts, and a text resent by `psms skill resend-uncertain` counts again when it
  leaves again). A text refused by the carrier (`failed`), skipped, cancelled or expired before
  it left costs nothing;
- its cost is its segments times its destination's price, fixed when the text was decided
  (launch, a cadence step): a price changed later applies to texts decided later;
- texts of no skill (keyword answers, agents' replies) are not counted against budgets.

A business unit has one currency: its codes' prices and its budgets are all in it. Prices are
set in services/code_prices.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from proactive_sms.domain import money
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.money import money_text
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.code_prices import (
    amount,
    amount_or_none,
    check_unit_currency,
    currency_code,
    unit_currency,
)
from proactive_sms.services.launching import LaunchError
from proactive_sms.store import registrations, tenancy
from proactive_sms.store import spend as store
from proactive_sms.store.skills import Skill
from proactive_sms.store.tenancy import BusinessUnit

DEFAULT_ZONE = "UTC"  # a unit's months begin at midnight UTC until it names its zone


class BudgetExceeded(LaunchError):
    """A start or resume refused because of a budget: the message names the figures."""


# --- the unit's monthly budget -------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpend:
    """A unit's budget and what it spent in the current month."""

    unit: str
    currency: str | None
    monthly_micros: int | None
    time_zone: str
    month: str  # "2026-03", in the unit's zone
    month_starts: datetime
    month_ends: datetime
    spent_micros: int

    @property
    def left_micros(self) -> int | None:
        if self.monthly_micros is None:
            return None
        return max(self.monthly_micros - self.spent_micros, 0)

    def as_dict(self) -> dict:
        return {"business_unit": self.unit, "currency": self.currency,
                "monthly_budget": amount_or_none(self.monthly_micros),
                "time_zone": self.time_zone, "month": self.month,
                "month_starts": self.month_starts.isoformat(),
                "month_ends": self.month_ends.isoformat(),
                "spent": money.amount_text(self.spent_micros),
                "left": amount_or_none(self.left_micros)}


def unit_spend(engine: Engine, bu: BusinessUnit, clock: Clock) -> UnitSpend:
    with engine.connect() as conn:
        return _unit_spend(conn, bu, clock.now())


def _unit_spend(conn: Connection, bu: BusinessUnit, now: datetime) -> UnitSpend:
    budget = store.unit_budget_of(conn, bu.id)
    zone = budget.time_zone if budget else DEFAULT_ZONE
    start, end, name = money.calendar_month(now, zone)
    spent = store.spent_in_units(conn, {bu.id: (start, end)})[bu.id]
    return UnitSpend(bu.name, unit_currency(conn, bu), budget.monthly_micros if budget else None,
                     zone, name, start, end, spent)


def set_unit_budget(engine: Engine, bu: BusinessUnit, clock: Clock, *,
                    monthly: str | None, currency: str | None = None,
                    time_zone: str | None = None) -> UnitSpend:
    """Set (or, with `monthly` None, lift) the unit's monthly budget; `time_zone` is where its
    calendar months begin (kept when not given; UTC at first)."""
    from proactive_sms.domain.time_zones import is_known_zone

    micros = None if monthly is None else amount(monthly, "monthly_budget")
    if time_zone is not None and not is_known_zone(time_zone):
        raise InvalidRequest(f"unknown time zone {time_zone!r} (an IANA name such as "
                             f"America/Chicago)", "time_zone")
    with engine.begin() as conn:
        current = store.unit_budget_of(conn, bu.id)
        wanted = (currency_code(currency) if currency
                  else (current.currency if current else unit_currency(conn, bu)))
        if wanted is None:
            raise InvalidRequest("give the budget's currency (no price of the unit names one "
                                 "yet)", "currency")
        # Its codes' prices must be in it (the budget being replaced may change currency).
        check_unit_currency(conn, bu, wanted, with_budget=False)
        zone = time_zone or (current.time_zone if current else DEFAULT_ZONE)
        store.set_unit_budget(conn, bu.id, wanted, micros, zone, clock.now())
        return _unit_spend(conn, bu, clock.now())


# --- a skill's spend -----------------------------------------------------------------------


@dataclass(frozen=True)
class SkillSpend:
    currency: str | None
    spent: store.Spent
    budget_micros: int | None
    unpriced_texts: int = 0  # texts that left or will without a price (code priced later)

    @property
    def left_micros(self) -> int | None:
        if self.budget_micros is None:
            return None
        return max(self.budget_micros - self.spent.cost_micros, 0)

    def as_dict(self) -> dict:
        return {"currency": self.currency, "spent": money.amount_text(self.spent.cost_micros),
                "spent_texts": self.spent.texts, "spent_segments": self.spent.segments,
                "budget": amount_or_none(self.budget_micros),
                "left": amount_or_none(self.left_micros),
                "unpriced_texts": self.unpriced_texts}


def skills_spend(conn: Connection, members: list[Skill]) -> SkillSpend:
    """What these skills spent together, in their codes' currency (a campaign's or a skill's)."""
    ids = [s.id for s in members]
    by_skill = store.spent_by_skill(conn, ids)
    total = store.Spent(sum(s.texts for s in by_skill.values()),
                        sum(s.segments for s in by_skill.values()),
                        sum(s.cost_micros for s in by_skill.values()))
    currencies = {p.currency for p in store.prices(conn, sorted({s.registration_id
                                                                 for s in members}))}
    budgets = [s.budget_micros for s in members]
    budget = (sum(b for b in budgets if b is not None)
              if members and all(b is not None for b in budgets) else None)
    return SkillSpend(next(iter(sorted(currencies)), None), total, budget,
                      store.unpriced_texts(conn, ids))


def budget_refusal(conn: Connection, skill: Skill, cost_micros: int, now: datetime, *,
                   verb: str = "starting", already_spent: int = 0) -> str | None:
    """Why `verb` the skill, whose texts still to send cost `cost_micros`, is refused by its
    budget or its unit's month (None: it is not)."""
    bu = tenancy.business_unit_by_id(conn, skill.business_unit_id)
    currency = unit_currency(conn, bu) or ""
    if skill.budget_micros is not None and already_spent + cost_micros > skill.budget_micros:
        spent = (f" ({money_text(already_spent, currency)} spent already)"
                 if already_spent else "")
        return (f"{verb} skill '{skill.name}' would cost {money_text(cost_micros, currency)}"
                f"{spent}, more than its budget of {money_text(skill.budget_micros, currency)}")
    month = _unit_spend(conn, bu, now)
    if month.monthly_micros is not None and cost_micros > (month.left_micros or 0):
        return (f"{verb} skill '{skill.name}' would cost {money_text(cost_micros, currency)}, "
                f"more than is left of business unit {bu.name}'s budget for {month.month}: "
                f"{money_text(month.left_micros, currency)} left of "
                f"{money_text(month.monthly_micros, currency)} "
                f"({money_text(month.spent_micros, currency)} spent)")
    return None


def _has_budget(conn: Connection, skill: Skill) -> bool:
    if skill.budget_micros is not None:
        return True
    budget = store.unit_budget_of(conn, skill.business_unit_id)
    return budget is not None and budget.monthly_micros is not None


def check_start(engine: Engine, skill: Skill, clock: Clock) -> None:
    """Refuse (BudgetExceeded) a start whose dry-run cost exceeds the skill's budget or what is
    left of its unit's month. Nothing to do (no dry run) when neither has a budget."""
    from proactive_sms.services.dry_run import dry_run_skill

    with engine.connect() as conn:
        if not _has_budget(conn, skill):
            return
        _check_priced(conn, skill)
    if skill.kind == "agent":
        # Its texts come step by step: nothing to estimate; it may start while its budgets
        # have something left, and is paused when they are used up.
        cost = 0
    else:
        predicted = dry_run_skill(engine, skill, clock)
        if predicted.unpriced:
            raise BudgetExceeded(
                f"skill '{skill.name}' has a budget but {predicted.unpriced} of its texts go "
                f"to countries its code has no price for "
                f"({', '.join(predicted.unpriced_countries)}): set a price for them, or for "
                f"every destination")
        cost = predicted.cost_micros or 0
    with engine.connect() as conn:
        refusal = budget_refusal(conn, skill, cost, clock.now(),
                                 already_spent=_spent(conn, skill.id))
        if refusal is None and skill.kind == "agent":
            refusal = _used_up(conn, skill, clock.now())
    if refusal:
        raise BudgetExceeded(refusal)


def check_resume(conn: Connection, skill: Skill, now: datetime) -> None:
    """Refuse (BudgetExceeded) resuming a skill whose texts not sent yet would take its spend
    past its budget, or cost more than is left of its unit's month."""
    if not _has_budget(conn, skill):
        return
    refusal = budget_refusal(conn, skill, store.unsent_cost(conn, skill.id), now,
                             verb="resuming", already_spent=_spent(conn, skill.id))
    if refusal is None:
        refusal = _used_up(conn, skill, now)
    if refusal:
        raise BudgetExceeded(refusal + ": raise the budget first")


def _spent(conn: Connection, skill_id: int) -> int:
    return store.spent_by_skill(conn, [skill_id]).get(skill_id, store.Spent()).cost_micros


def _used_up(conn: Connection, skill: Skill, now: datetime) -> str | None:
    """Why a budget of the skill has nothing left, if one has not."""
    bu = tenancy.business_unit_by_id(conn, skill.business_unit_id)
    currency = unit_currency(conn, bu) or ""
    spent = _spent(conn, skill.id)
    if skill.budget_micros is not None and spent >= skill.budget_micros:
        return (f"skill '{skill.name}' has spent {money_text(spent, currency)} of its budget "
                f"of {money_text(skill.budget_micros, currency)}")
    month = _unit_spend(conn, bu, now)
    if month.monthly_micros is not None and month.spent_micros >= month.monthly_micros:
        return (f"business unit {bu.name} has spent {money_text(month.spent_micros, currency)}"
                f" of its budget of {money_text(month.monthly_micros, currency)} for "
                f"{month.month}")
    return None


def _check_priced(conn: Connection, skill: Skill) -> None:
    """A budget needs prices: a skill whose code has none could spend without counting."""
    if store.price_list(conn, skill.registration_id) is None:
        code = registrations.registration_by_id(conn, skill.registration_id).code
        raise BudgetExceeded(
            f"skill '{skill.name}' has a budget (its own or its business unit's) but its code "
            f"{code} has no price: set one (psms registration price {code} AMOUNT "
            f"--currency XXX)")


def skill_spend(engine: Engine, skill: Skill) -> SkillSpend:
    """What one skill spent, against its budget (the console's skill page)."""
    with engine.connect() as conn:
        return skills_spend(conn, [skill])
