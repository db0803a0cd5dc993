"""Prices of transport codes, spend kept per skill, and business units' monthly budgets.

Spend is read from `skill_spend`, which a trigger on `message` (migration 0033) keeps in the
transaction that records a text's result: a text counts once it moved from `submitting` to
`sent` or `uncertain`. Reading a skill's spend, or a unit's month, costs a few rows per skill
and quarter hour, never a row per text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, text

from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.prices import DEFAULT_COUNTRY, PriceList
from proactive_sms.store.dialect import insert, is_postgres
from proactive_sms.store.schema import (
    code_price,
    message,
    skill,
    skill_spend,
    sms_registration,
    unit_budget,
)

# --- prices ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    registration_id: int
    country: str  # DEFAULT_COUNTRY ('') for every destination without a price of its own
    currency: str
    price_micros: int


def prices(conn: Connection, registration_ids: Sequence[int]) -> list[Price]:
    """The prices of these codes, by code, then the code's own price before countries."""
    if not registration_ids:
        return []
    rows = conn.execute(select(code_price).where(
        code_price.c.registration_id.in_(list(registration_ids)))
        .order_by(code_price.c.registration_id, code_price.c.country))
    return [Price(r.registration_id, r.country, r.currency, int(r.price_micros)) for r in rows]


def price_list(conn: Connection, registration_id: int) -> PriceList | None:
    """The code's prices as one list (None when it has none at all)."""
    found = prices(conn, [registration_id])
    if not found:
        return None
    default = next((p.price_micros for p in found if p.country == DEFAULT_COUNTRY), None)
    return PriceList(found[0].currency, default,
                     {p.country: p.price_micros for p in found if p.country != DEFAULT_COUNTRY})


def set_price(conn: Connection, registration_id: int, country: str, currency: str,
              price_micros: int, now: datetime) -> None:
    conn.execute(
        insert(conn, code_price)
        .values(registration_id=registration_id, country=country, currency=currency,
                price_micros=price_micros, updated_at=now)
        .on_conflict_do_update(index_elements=["registration_id", "country"],
                               set_={"currency": currency, "price_micros": price_micros,
                                     "updated_at": now}))


def remove_price(conn: Connection, registration_id: int, country: str) -> bool:
    return conn.execute(delete(code_price).where(
        code_price.c.registration_id == registration_id,
        code_price.c.country == country)).rowcount > 0


def unit_price_currencies(conn: Connection, business_unit_id: int,
                          except_registration: int | None = None) -> dict[str, list[str]]:
    """currency -> the codes of the unit priced in it (leaving one code out, if asked)."""
    query = (select(code_price.c.currency, sms_registration.c.code).distinct()
             .join(sms_registration, sms_registration.c.id == code_price.c.registration_id)
             .where(sms_registration.c.business_unit_id == business_unit_id)
             .order_by(sms_registration.c.code))
    if except_registration is not None:
        query = query.where(code_price.c.registration_id != except_registration)
    found: dict[str, list[str]] = {}
    for currency, code in conn.execute(query):
        found.setdefault(currency, []).append(code)
    return found


# --- budgets of business units ------------------------------------------------------------------


@dataclass(frozen=True)
class UnitBudget:
    business_unit_id: int
    currency: str
    monthly_micros: int | None
    time_zone: str


def unit_budget_of(conn: Connection, business_unit_id: int) -> UnitBudget | None:
    row = conn.execute(select(unit_budget).where(
        unit_budget.c.business_unit_id == business_unit_id)).first()
    if row is None:
        return None
    return UnitBudget(row.business_unit_id, row.currency,
                      None if row.monthly_micros is None else int(row.monthly_micros),
                      row.time_zone)


def unit_budgets(conn: Connection, business_unit_ids: Sequence[int]) -> dict[int, UnitBudget]:
    if not business_unit_ids:
        return {}
    rows = conn.execute(select(unit_budget).where(
        unit_budget.c.business_unit_id.in_(list(business_unit_ids))))
    return {r.business_unit_id: UnitBudget(
        r.business_unit_id, r.currency,
        None if r.monthly_micros is None else int(r.monthly_micros), r.time_zone) for r in rows}


def set_unit_budget(conn: Connection, business_unit_id: int, currency: str,
                    monthly_micros: int | None, time_zone: str, now: datetime) -> None:
    values = {"currency": currency, "monthly_micros": monthly_micros, "time_zone": time_zone,
              "updated_at": now}
    conn.execute(
        insert(conn, unit_budget).values(business_unit_id=business_unit_id, **values)
        .on_conflict_do_update(index_elements=["business_unit_id"], set_=values))


# --- spend ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spent:
    texts: int = 0
    segments: int = 0
    cost_micros: int = 0


def spent_by_skill(conn: Connection, skill_ids: Sequence[int]) -> dict[int, Spent]:
    """Each skill's spend so far (skills that spent nothing: absent)."""
    if not skill_ids:
        return {}
    rows = conn.execute(
        select(skill_spend.c.skill_id, func.sum(skill_spend.c.texts),
               func.sum(skill_spend.c.segments), func.sum(skill_spend.c.cost_micros))
        .where(skill_spend.c.skill_id.in_(list(skill_ids)))
        .group_by(skill_spend.c.skill_id))
    return {skill_id: Spent(int(texts), int(segments), int(cost))
            for skill_id, texts, segments, cost in rows}


def spent_in_units(conn: Connection, periods: dict[int, tuple[datetime, datetime]]) -> dict[
        int, int]:
    """Each business unit's spend (micros) in its period [start, end), UTC moments on quarter
    hours: unit id -> (start, end). One statement per unit, over its skills' quarters."""
    found: dict[int, int] = {}
    for unit_id, (start, end) in periods.items():
        found[unit_id] = int(conn.scalar(
            select(func.coalesce(func.sum(skill_spend.c.cost_micros), 0))
            .select_from(skill_spend.join(skill, skill.c.id == skill_spend.c.skill_id))
            .where(skill.c.business_unit_id == unit_id, skill_spend.c.quarter >= start,
                   skill_spend.c.quarter < end)) or 0)
    return found


def unsent_cost(conn: Connection, skill_id: int) -> int:
    """What the skill's texts not sent yet (pending, or being submitted) will cost: for a resume
    (a read of its pending rows, not for the hot path)."""
    return int(conn.scalar(
        select(func.coalesce(func.sum(message.c.cost_micros), 0))
        .where(message.c.skill_id == skill_id,
               message.c.state.in_([MessageState.PENDING.value,
                                    MessageState.SUBMITTING.value]))) or 0)


def unpriced_texts(conn: Connection, skill_ids: Sequence[int]) -> int:
    """Texts of these skills that left (or will) without a cost: their code had no price when
    they were decided. Through the (skill, state) index."""
    if not skill_ids:
        return 0
    return int(conn.scalar(
        select(func.count()).select_from(message)
        .where(message.c.skill_id.in_(list(skill_ids)),
               message.c.state.in_([MessageState.PENDING.value, MessageState.SUBMITTING.value,
                                    MessageState.SENT.value, MessageState.DELIVERED.value,
                                    MessageState.UNDELIVERABLE.value,
                                    MessageState.EXPIRED.value, MessageState.UNCERTAIN.value]),
               message.c.cost_micros.is_(None))) or 0)


_FOLD_LOCK_KEY = 0x7053_5350  # "pSSP"


def fold(conn: Connection) -> int:
    """Fold the spend shards of PostgreSQL backends that ended into shard 0 (as
    skill_counters.fold does for the counters); nothing to do on SQLite."""
    if not is_postgres(conn):
        return 0
    if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _FOLD_LOCK_KEY}):
        return 0
    return int(conn.execute(text("""
        WITH gone AS (
            DELETE FROM skill_spend
            WHERE shard <> 0 AND shard NOT IN (SELECT pid FROM pg_stat_activity)
            RETURNING skill_id, quarter, texts, segments, cost_micros
        ), summed AS (
            SELECT skill_id, quarter, sum(texts) AS texts, sum(segments) AS segments,
                   sum(cost_micros) AS cost_micros, count(*) AS n
            FROM gone GROUP BY skill_id, quarter
        ), added AS (
            INSERT INTO skill_spend AS s (skill_id, quarter, shard, texts, segments, cost_micros)
            SELECT skill_id, quarter, 0, texts, segments, cost_micros FROM summed
            ORDER BY skill_id, quarter
            ON CONFLICT (skill_id, quarter, shard) DO UPDATE
            SET texts = s.texts + excluded.texts, segments = s.segments + excluded.segments,
                cost_micros = s.cost_micros + excluded.cost_micros
        )
        SELECT coalesce(sum(n), 0) FROM summed""")).scalar_one())
