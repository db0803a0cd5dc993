"""Transport codes' prices per segment, and the amounts and codes people give for money.

A code has one price per segment for every destination, and may have prices per destination
country that override it (domain/prices.py). A business unit prices in one currency: its codes'
prices and its budgets are all in it, and a price or budget in another is refused naming what
is already priced in the one it has. What the prices are used for: services/spend.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from proactive_sms.domain import money
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.money import AmountError
from proactive_sms.domain.prices import DEFAULT_COUNTRY, PriceList
from proactive_sms.services.administration import InvalidRequest, code_key
from proactive_sms.store import registrations
from proactive_sms.store import spend as store
from proactive_sms.store.tenancy import BusinessUnit


def amount(value, field: str) -> int:
    """A decimal amount from a person or a request, as micros (InvalidRequest naming `field`)."""
    try:
        return money.parse_amount(value, field.replace("_", " "))
    except AmountError as exc:
        raise InvalidRequest(str(exc), field) from exc


def currency_code(value: str, field: str = "currency") -> str:
    try:
        return money.check_currency(value)
    except AmountError as exc:
        raise InvalidRequest(str(exc), field) from exc


def country_code(value: str | None) -> str:
    """An ISO 3166 region ("ca" -> "CA"), or DEFAULT_COUNTRY for none."""
    if not value:
        return DEFAULT_COUNTRY
    upper = value.strip().upper()
    import phonenumbers

    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidRequest(f"country must be an ISO 3166 code such as US or CA, got "
                             f"{value!r}", "country")
    return upper




@dataclass(frozen=True)
class CodePrices:
    code: str
    currency: str | None
    default_micros: int | None
    by_country: dict[str, int]

    def as_dict(self) -> dict:
        return {"code": self.code, "currency": self.currency,
                "price_per_segment": amount_or_none(self.default_micros),
                "by_country": {c: money.amount_text(m) for c, m in sorted(self.by_country.items())}}

    def summary(self) -> str:
        """"0.0079 USD a segment; CA 0.0110" or "not priced"."""
        if self.currency is None:
            return "not priced"
        parts = [f"{money.amount_text(self.default_micros)} {self.currency} a segment"
                 if self.default_micros is not None else f"{self.currency}, no default price"]
        parts += [f"{c} {money.amount_text(m)}" for c, m in sorted(self.by_country.items())]
        return "; ".join(parts)


def amount_or_none(micros: int | None) -> str | None:
    return None if micros is None else money.amount_text(micros)


def code_prices(engine: Engine, bu: BusinessUnit, code: str) -> CodePrices:
    with engine.connect() as conn:
        reg = registrations.find_registration(conn, bu.id, code_key(code, bu))
        return _code_prices(conn, reg.id, reg.code)


def prices_of_codes(conn: Connection, regs) -> dict[int, CodePrices]:
    """CodePrices of each registration (for lists: one query)."""
    found: dict[int, CodePrices] = {r.id: CodePrices(r.code, None, None, {}) for r in regs}
    for p in store.prices(conn, [r.id for r in regs]):
        current = found[p.registration_id]
        if p.country == DEFAULT_COUNTRY:
            found[p.registration_id] = CodePrices(current.code, p.currency, p.price_micros,
                                                  current.by_country)
        else:
            current.by_country[p.country] = p.price_micros
            found[p.registration_id] = CodePrices(current.code, p.currency,
                                                  current.default_micros, current.by_country)
    return found


def prices_of(engine: Engine, reg) -> CodePrices:
    """The prices of a registration already found (within its unit)."""
    with engine.connect() as conn:
        return _code_prices(conn, reg.id, reg.code)


def prices_by_code(engine: Engine, bu: BusinessUnit) -> dict[str, CodePrices]:
    """Every code of the unit with its prices (the console's list of codes)."""
    with engine.connect() as conn:
        regs = registrations.list_registrations(conn, bu.id)
        return {p.code: p for p in prices_of_codes(conn, regs).values()}


def _code_prices(conn: Connection, registration_id: int, code: str) -> CodePrices:
    listed = store.price_list(conn, registration_id)
    if listed is None:
        return CodePrices(code, None, None, {})
    return CodePrices(code, listed.currency, listed.default_micros, dict(listed.by_country))


def set_price(engine: Engine, bu: BusinessUnit, clock: Clock, code: str, price: str,
              currency: str, country: str | None = None) -> CodePrices:
    """Set the code's price per segment (for every destination, or for one country's, which
    overrides it). The unit has one currency: a price in another is refused, naming what is
    priced in the one it has."""
    micros = amount(price, "price")
    wanted = currency_code(currency)
    region = country_code(country)
    with engine.begin() as conn:
        reg = registrations.find_registration(conn, bu.id, code_key(code, bu))
        check_unit_currency(conn, bu, wanted, reg.id)
        own = store.price_list(conn, reg.id)
        if own is not None and own.currency != wanted and not _only_row(own, region):
            raise InvalidRequest(f"code {reg.code} is priced in {own.currency}: all of its "
                                 f"prices are in one currency", "currency")
        store.set_price(conn, reg.id, region, wanted, micros, clock.now())
        return _code_prices(conn, reg.id, reg.code)


def _only_row(prices: PriceList, country: str) -> bool:
    """Whether the price being replaced is the code's only one (so its currency may change)."""
    rows = set(prices.by_country) | ({DEFAULT_COUNTRY} if prices.default_micros is not None
                                     else set())
    return rows == {country}


def replace_prices(engine: Engine, bu: BusinessUnit, clock: Clock, code: str, currency: str,
                   price: str | None, by_country: dict[str, str]) -> CodePrices:
    """All of the code's prices at once (the API's PUT): those not given are removed."""
    wanted = currency_code(currency)
    rows = {DEFAULT_COUNTRY: amount(price, "price_per_segment")} if price is not None else {}
    for country, value in by_country.items():
        rows[country_code(country)] = amount(value, f"by_country.{country}")
    with engine.begin() as conn:
        reg = registrations.find_registration(conn, bu.id, code_key(code, bu))
        if rows:
            check_unit_currency(conn, bu, wanted, reg.id)
        for old in store.prices(conn, [reg.id]):
            if old.country not in rows:
                store.remove_price(conn, reg.id, old.country)
        for country, micros in rows.items():
            store.set_price(conn, reg.id, country, wanted, micros, clock.now())
        return _code_prices(conn, reg.id, reg.code)


def remove_price(engine: Engine, bu: BusinessUnit, code: str,
                 country: str | None = None) -> CodePrices:
    region = country_code(country)
    with engine.begin() as conn:
        reg = registrations.find_registration(conn, bu.id, code_key(code, bu))
        if not store.remove_price(conn, reg.id, region):
            what = f"for {region}" if region else "of its own"
            raise InvalidRequest(f"code {reg.code} has no price {what}", "country")
        return _code_prices(conn, reg.id, reg.code)


def check_unit_currency(conn: Connection, bu: BusinessUnit, currency: str,
                         registration_id: int | None = None, with_budget: bool = True) -> None:
    others = store.unit_price_currencies(conn, bu.id, except_registration=registration_id)
    for other, codes in others.items():
        if other != currency:
            raise InvalidRequest(
                f"business unit {bu.name} prices in {other} (codes {', '.join(codes[:5])}): "
                f"a unit's prices and budgets are in one currency, not {currency}", "currency")
    budget = store.unit_budget_of(conn, bu.id) if with_budget else None
    if budget is not None and budget.currency != currency:
        raise InvalidRequest(
            f"business unit {bu.name}'s budget is in {budget.currency}: a unit's prices and "
            f"budgets are in one currency, not {currency}", "currency")


def unit_currency(conn: Connection, bu: BusinessUnit) -> str | None:
    """The currency the unit's prices and budgets are in (None while it has none)."""
    budget = store.unit_budget_of(conn, bu.id)
    if budget is not None:
        return budget.currency
    found = store.unit_price_currencies(conn, bu.id)
    return next(iter(found), None)
