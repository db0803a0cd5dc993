"""The dispatcher's budget check: at each refresh, pause the running skills whose spend reached
their budget, or whose business unit's month is used up.

It reads the kept spend (store.spend, updated in the transaction of each result), never the
message rows: two or three small statements per refresh, and none per text. Between two
refreshes a code may still send what its pacer lets through, so a skill can overrun its budget
by at most one refresh's texts (docs/spend.md gives the bound).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from proactive_sms.domain import money
from proactive_sms.domain.money import money_text
from proactive_sms.services import audit, webhook_emitters
from proactive_sms.store import skill_counters, skills, tenancy
from proactive_sms.store import spend as store
from proactive_sms.store.skills import Skill

SYSTEM_USERNAME = "(system)"  # who paused it, in the audit log
SKILL_BUDGET, UNIT_MONTHLY_BUDGET = "skill_budget", "unit_monthly_budget"


def hold_spent(conn: Connection, running: Sequence[Skill], now: datetime) -> list[Skill]:
    """Pause the running skills a budget stops (in this transaction, with a webhook event and an
    audit entry each); returns the skills still running."""
    if not running:
        return list(running)
    units = store.unit_budgets(conn, sorted({s.business_unit_id for s in running}))
    capped = {u: b for u, b in units.items() if b.monthly_micros is not None}
    budgeted = [s.id for s in running if s.budget_micros is not None]
    if not capped and not budgeted:
        return list(running)
    months = {u: money.calendar_month(now, b.time_zone) for u, b in capped.items()}
    month_spent = store.spent_in_units(conn, {u: (m[0], m[1]) for u, m in months.items()})
    by_skill = store.spent_by_skill(conn, budgeted)
    reached: dict[int, tuple[str, str, int, int, str]] = {}
    for s in running:
        spent = by_skill.get(s.id, store.Spent()).cost_micros
        if s.budget_micros is not None and spent >= s.budget_micros:
            reached[s.id] = (SKILL_BUDGET, "", spent, s.budget_micros,
                             units[s.business_unit_id].currency
                             if s.business_unit_id in units else "")
        elif s.business_unit_id in capped:
            budget = capped[s.business_unit_id]
            used = month_spent[s.business_unit_id]
            if used >= budget.monthly_micros:
                reached[s.id] = (UNIT_MONTHLY_BUDGET, months[s.business_unit_id][2], used,
                                 budget.monthly_micros, budget.currency)
    if not reached:
        return list(running)
    # A skill with nothing left to send is not paused: it finishes (a budget met exactly).
    left = skill_counters.counts(conn, list(reached))
    paused: set[int] = set()
    for s in running:
        if s.id not in reached or not _has_unsent(left.get(s.id, [])):
            continue
        kind, month, spent, budget, currency = reached[s.id]
        currency = currency or _currency(conn, s)
        detail = _reason(conn, s, kind, month, spent, budget, currency)
        if skills.pause_with_reason(conn, s.id, detail):
            paused.add(s.id)
            webhook_emitters.skill_paused(conn, s.id, kind, detail, money.amount_text(spent),
                                          money.amount_text(budget), currency or None, now)
            audit.record(conn, None, "skill.paused", s.name, detail, bu_id=s.business_unit_id,
                         username=SYSTEM_USERNAME, now=now)
    return [s for s in running if s.id not in paused]


def _has_unsent(counts: list[skill_counters.Count]) -> bool:
    return any(c.state in ("pending", "submitting", skill_counters.WAITING) and c.messages
               for c in counts)


def _currency(conn: Connection, s: Skill) -> str:
    listed = store.price_list(conn, s.registration_id)
    return listed.currency if listed else ""


def _reason(conn: Connection, s: Skill, kind: str, month: str, spent: int, budget: int,
            currency: str) -> str:
    if kind == SKILL_BUDGET:
        return (f"budget reached: spent {money_text(spent, currency)} of its budget of "
                f"{money_text(budget, currency)}")
    unit = tenancy.business_unit_by_id(conn, s.business_unit_id).name
    return (f"business unit {unit}'s budget for {month} is used up: spent "
            f"{money_text(spent, currency)} of {money_text(budget, currency)}")
