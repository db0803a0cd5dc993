"""Spend in the API: a code's prices (`/v1/registrations/{code}/prices`), the unit's monthly
budget (`/v1/budget`) and a skill's dry run with its cost (`/v1/skills/{name}/dry-run`).

Amounts are decimal text ("0.0079"), never JSON numbers: a float has already lost the exact
value. A skill's own budget is its `budget` setting (POST and PATCH /v1/skills).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import API_ACTOR
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import invalid
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.services import administration, audit, code_prices, spend
from proactive_sms.services.dry_run import dry_run

router = APIRouter(tags=["spend"])

Amount = Field(pattern=r"^\d+(\.\d+)?$", description="Decimal text, at most 6 decimals.")


class PricesOut(BaseModel):
    code: str
    currency: str | None = Field(description="ISO 4217; null while the code has no price.")
    price_per_segment: str | None = Field(description="For every destination without a "
                                                      "price of its own.")
    by_country: dict[str, str] = Field(description="ISO 3166 region -> price per segment.")


class PricesIn(RequestBody):
    """All of the code's prices: those not given are removed."""

    currency: str = Field(description="ISO 4217 (USD); a business unit prices in one.")
    price_per_segment: str | None = Field(None, pattern=r"^\d+(\.\d+)?$",
                                          description="Decimal text (0.0079); null: none.")
    by_country: dict[str, str] = Field(default_factory=dict,
                                       description="ISO 3166 region -> decimal text.")


@router.get("/registrations/{code}/prices")
def get_prices(code: str, bu: CurrentBu, engine: EngineDep) -> PricesOut:
    """The code's price per segment, and per destination country."""
    return PricesOut(**code_prices.code_prices(engine, bu, code).as_dict())


@router.put("/registrations/{code}/prices")
def put_prices(code: str, body: PricesIn, bu: CurrentBu, engine: EngineDep,
               clock: ClockDep) -> PricesOut:
    """Set all of the code's prices (texts decided from now on cost what these say)."""
    prices = code_prices.replace_prices(engine, bu, clock, code, body.currency,
                                  body.price_per_segment, body.by_country)
    audit.record(engine, None, "registration.priced", prices.code, prices.as_dict(), bu=bu,
                 now=clock.now(), username=API_ACTOR)
    return PricesOut(**prices.as_dict())


class BudgetOut(BaseModel):
    business_unit: str
    currency: str | None
    monthly_budget: str | None = Field(description="null: no monthly cap.")
    time_zone: str = Field(description="The zone the unit's calendar months begin in.")
    month: str = Field(description="The current month, e.g. 2026-03.")
    month_starts: str
    month_ends: str
    spent: str = Field(description="What the unit's skills spent this month.")
    left: str | None


class BudgetIn(RequestBody):
    monthly_budget: str | None = Field(pattern=r"^\d+(\.\d+)?$",
                                       description="Decimal text; null lifts the cap.")
    currency: str | None = Field(None, description="ISO 4217; by default its prices'.")
    time_zone: str | None = Field(None, description="IANA zone its months begin in "
                                                    "(unchanged when absent; UTC at first).")


@router.get("/budget")
def get_budget(bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> BudgetOut:
    """The unit's monthly budget and what it spent this calendar month."""
    return BudgetOut(**spend.unit_spend(engine, bu, clock).as_dict())


@router.put("/budget")
def put_budget(body: BudgetIn, bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> BudgetOut:
    """Set the unit's monthly budget: starts that would cost more than is left are refused
    (409), running skills are paused when the month is used up."""
    month = spend.set_unit_budget(engine, bu, clock, monthly=body.monthly_budget,
                                  currency=body.currency, time_zone=body.time_zone)
    audit.record(engine, None, "budget.changed", bu.name, month.as_dict(), bu=bu,
                 now=clock.now(), username=API_ACTOR)
    return BudgetOut(**month.as_dict())


class DryRunIn(RequestBody):
    template: str | None = Field(None, description="With this saved template.")
    message: str | None = Field(None, min_length=1, description="With this typed text.")
    direction: Literal["ltr", "rtl", "auto"] = "auto"


class DryRunOut(BaseModel):
    records: int
    go_now: int
    waiting: int
    waiting_until: dict[str, int]
    skipped: dict[str, int]
    expired: dict[str, int]
    segments: int
    rate_per_s: float
    unit: str
    predicted_finish: str | None
    predicted_duration_s: float | None
    cost: str | None = Field(description="What the texts would cost; null: not priced.")
    currency: str | None
    unpriced_texts: int = Field(description="Texts to countries the code has no price for.")
    unpriced_countries: list[str]
    budget_refusal: str | None = Field(description="Why a start now would be refused by a "
                                                   "budget (null: it would not).")


@router.post("/skills/{name}/dry-run")
def skill_dry_run(name: str, body: DryRunIn, bu: CurrentBu, engine: EngineDep,
                  clock: ClockDep) -> DryRunOut:
    """Every check of a start, nothing written or sent: what would go, wait or be skipped,
    when it would finish, what it would cost, and whether a budget would refuse it."""
    if body.template and body.message:
        raise invalid("message", "give template or message, not both")
    skill = administration.find_skill(engine, bu, name)
    template_id = (administration.find_template(engine, bu, body.template).id
                   if body.template else None)
    found = dry_run(engine, skill.id, clock, template_id=template_id, message_text=body.message,
                    direction=body.direction)
    return DryRunOut(**found.as_dict())
