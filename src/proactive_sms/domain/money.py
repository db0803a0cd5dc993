"""Amounts of money: prices per segment, costs and budgets, exact (never a float).

An amount is kept as an integer number of micro-units of its currency (a millionth of a dollar,
of a euro...): a carrier's price of 0.0079 USD per segment is 7,900 micros, and a million of
them add up to exactly 7,900.000000 USD. People and the API write amounts as decimal text
("0.0079", "120", "1,250.50" is refused: no thousands separators); at most six decimal places.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

MICROS = 1_000_000  # micro-units per unit of a currency
_MAX_MICROS = 10**12 * MICROS  # a trillion: far above any budget, and inside a 64-bit column
_CURRENCY = re.compile(r"[A-Z]{3}")


class AmountError(ValueError):
    """An amount or a currency that cannot be used: says what is wrong with it."""


def parse_amount(text: str | int | Decimal, what: str = "amount") -> int:
    """The micros of a decimal amount ("0.0079" -> 7900). Refuses a negative amount, more than
    six decimal places, and anything that is not a plain decimal number (floats included: a
    float has already lost the exact value)."""
    if isinstance(text, float):
        raise AmountError(f"{what} must be given as decimal text, not a float ({text!r})")
    raw = str(text).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise AmountError(f"{what} {raw!r} is not a decimal number (e.g. 0.0079)") from None
    if not value.is_finite():
        raise AmountError(f"{what} {raw!r} is not a decimal number (e.g. 0.0079)")
    if value < 0:
        raise AmountError(f"{what} cannot be negative, got {raw}")
    micros = value * MICROS
    if micros != micros.to_integral_value():
        raise AmountError(f"{what} {raw} has more than six decimal places")
    if micros > _MAX_MICROS:
        raise AmountError(f"{what} {raw} is too large")
    return int(micros)


def check_currency(code: str) -> str:
    """An ISO 4217 code in capitals ("usd" -> "USD"); AmountError for anything else."""
    upper = (code or "").strip().upper()
    if not _CURRENCY.fullmatch(upper):
        raise AmountError(f"currency must be a three-letter ISO 4217 code such as USD, "
                          f"got {code!r}")
    return upper


def decimal_of(micros: int) -> Decimal:
    """The exact decimal value of an amount in micros."""
    return Decimal(micros) / MICROS


def amount_text(micros: int) -> str:
    """An amount as people read it: at least two decimal places, more only where they count
    (7900 -> "0.0079", 12_500_000 -> "12.50")."""
    value = decimal_of(micros).quantize(Decimal("0.000001"))
    text = f"{value:f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def money_text(micros: int | None, currency: str | None) -> str:
    """"12.50 USD", or "-" for no amount."""
    if micros is None:
        return "-"
    return f"{amount_text(micros)} {currency or ''}".strip()


def cost_of(segments: int, price_micros: int) -> int:
    """What `segments` segments cost at `price_micros` a segment."""
    return segments * price_micros


def share(part: int, whole: int) -> Decimal:
    """part / whole as a percentage with one decimal (for "80.0% of the budget")."""
    if whole <= 0:
        return Decimal(0)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def calendar_month(now: datetime, zone: str) -> tuple[datetime, datetime, str]:
    """The calendar month `now` falls in, in `zone`: (its first moment, the next month's first
    moment, both in UTC, and its name "2026-03"). Months begin at local midnight, whatever the
    zone's offset that day."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    start = datetime(local.year, local.month, 1, tzinfo=tz)
    following = (datetime(local.year + 1, 1, 1, tzinfo=tz) if local.month == 12
                 else datetime(local.year, local.month + 1, 1, tzinfo=tz))
    return start.astimezone(UTC), following.astimezone(UTC), f"{local.year}-{local.month:02d}"
