"""`psms skill start --dry-run`: every check of a launch and of sending, nothing written or sent.

It decides each record as launch would (DNC, numbers, fields, length, duplicates, expiry), asks
the send-time rules what would happen now (calling window, frequency cap, validity), and plays the
texts through the code's pacer to predict when the last one would leave.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from proactive_sms.domain import money
from proactive_sms.domain.calling_windows import SkillWindow
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.pacing import SlidingWindowPacer
from proactive_sms.domain.phone import region_of
from proactive_sms.domain.send_timing import Recipient, TimingPolicy, Verdict, decide_send
from proactive_sms.services import spend
from proactive_sms.services.launching import LAUNCH_BATCH
from proactive_sms.services.record_decision import Decider, check_text, resolve_text
from proactive_sms.store import calling_lists, dnc, outbox, registrations, skills, tenancy
from proactive_sms.store import spend as spend_store
from proactive_sms.store.schema import calling_record
from proactive_sms.store.skills import Skill

# Between a text leaving the pacer and reaching the carrier (claim, submit): measured here at a
# few milliseconds; the prediction adds it once.
_SEND_LATENCY_S = 0.05


@dataclass
class DryRun:
    records: int = 0
    go_now: int = 0
    waiting: int = 0
    waiting_until: Counter = field(default_factory=Counter)  # hour (UTC) -> texts
    skipped: Counter = field(default_factory=Counter)  # reason -> records
    expired: Counter = field(default_factory=Counter)  # reason -> texts
    segments: int = 0
    rate_per_s: float = 0.0
    unit: str = "segments"
    started_at: datetime | None = None
    predicted_finish: datetime | None = None
    # Cost (services.spend): the texts that would go, at their destinations' prices; None when
    # the code has no price. `unpriced`: texts to countries the code has no price for.
    currency: str | None = None
    cost_micros: int | None = None
    unpriced: int = 0
    unpriced_countries: list[str] = field(default_factory=list)
    budget_refusal: str | None = None  # why starting now would be refused by a budget

    @property
    def cost(self) -> str | None:
        return None if self.cost_micros is None else money.amount_text(self.cost_micros)

    @property
    def predicted_duration_s(self) -> float | None:
        if self.predicted_finish is None or self.started_at is None:
            return None
        return (self.predicted_finish - self.started_at).total_seconds()

    def as_dict(self) -> dict:
        return {
            "records": self.records, "go_now": self.go_now, "waiting": self.waiting,
            "waiting_until": {k.isoformat(): v for k, v in sorted(self.waiting_until.items())},
            "skipped": dict(self.skipped), "expired": dict(self.expired),
            "segments": self.segments, "rate_per_s": self.rate_per_s, "unit": self.unit,
            "predicted_finish": self.predicted_finish.isoformat()
            if self.predicted_finish else None,
            "predicted_duration_s": self.predicted_duration_s,
            "cost": self.cost, "currency": self.currency, "unpriced_texts": self.unpriced,
            "unpriced_countries": self.unpriced_countries,
            "budget_refusal": self.budget_refusal,
        }


def dry_run(engine: Engine, skill_id: int, clock: Clock, *, template_id: int | None = None,
            message_text: str | None = None, direction: str = "auto",
            rules=None) -> DryRun:
    """The dry run of a saved skill, started with this text (or the one it has)."""
    with engine.connect() as conn:
        skill = skills.skill_by_id(conn, skill_id)
    if template_id is not None or message_text is not None:
        skill = dataclasses.replace(skill, template_id=template_id,
                                    message_text=message_text, direction=direction)
    return dry_run_skill(engine, skill, clock, rules=rules)


def dry_run_skill(engine: Engine, skill: Skill, clock: Clock, *, rules=None) -> DryRun:
    """The dry run of `skill` as given, saved or not (`administration.plan_skill`): the
    console shows it before the skill of a broadcast exists. Raises LaunchError when its text
    cannot start, as starting would."""
    from proactive_sms.services.dispatch import window_rules

    now = clock.now()
    report = DryRun(started_at=now)
    releases: list[tuple[datetime, int]] = []
    with engine.connect() as conn:
        text = resolve_text(conn, skill)
        check_text(conn, skill, text)
        registration = registrations.registration_by_id(conn, skill.registration_id)
        bu = tenancy.business_unit_by_id(conn, skill.business_unit_id)
        dnc_list_id = registration.dnc_list_id or dnc.find_list(conn, bu.tenant_id).id
        report.rate_per_s = min([registration.throughput_per_s,
                                 *([skill.pacing_per_s] if skill.pacing_per_s else [])])
        report.unit = registration.throughput_unit
        prices = spend_store.price_list(conn, registration.id)
        if prices is not None:
            report.currency, report.cost_micros = prices.currency, 0
        unpriced_countries: set[str] = set()
        policy = TimingPolicy(
            window=SkillWindow.from_config(skill.calling_window),
            rules=rules or window_rules(), skip_without_zone=skill.no_zone_policy != "default",
            default_zone=skill.default_time_zone,
            expires_at=now + timedelta(hours=skill.validity_hours)
            if skill.validity_hours else None,
            cap_per_24h=bu.frequency_cap_per_24h)
        decider = Decider(skill, text, set(), now.date())
        cursor = 0
        while True:
            batch = calling_lists.launch_batch(conn, skill.calling_list_id, cursor,
                                               LAUNCH_BATCH, dnc_list_id, decider.needs_fields)
            if not batch:
                break
            where = {row.id: row for row in conn.execute(
                select(calling_record.c.id, calling_record.c.time_zone,
                       calling_record.c.postal_code)
                .where(calling_record.c.id > cursor, calling_record.c.id <= batch[-1].id))}
            cursor = batch[-1].id
            decisions = [(record, decider.decide(record)) for record in batch]
            recent = outbox.recent_sends(conn, [d.destination for _, d in decisions
                                                if d.state is MessageState.PENDING], now)
            for record, decision in decisions:
                report.records += 1
                if decision.state is not MessageState.PENDING:
                    report.skipped[decision.skip_reason] += 1
                    continue
                place = where[record.id]
                timing = decide_send(now, Recipient(decision.destination, place.time_zone,
                                                    place.postal_code, record.expiration_date),
                                     policy, recent.get(decision.destination, []))
                weight = decision.segments if report.unit == "segments" else 1
                if timing.verdict is Verdict.SEND:
                    report.go_now += 1
                    releases.append((now, weight))
                elif timing.verdict is Verdict.WAIT:
                    report.waiting += 1
                    report.waiting_until[timing.until.replace(minute=0, second=0,
                                                              microsecond=0)] += 1
                    releases.append((timing.until, weight))
                elif timing.verdict is Verdict.EXPIRE:
                    report.expired[timing.reason] += 1
                    continue
                else:
                    report.skipped["no_time_zone"] += 1
                    continue
                report.segments += decision.segments
                if prices is not None:
                    cost = prices.cost(decision.destination, decision.segments)
                    if cost is None:
                        report.unpriced += 1
                        unpriced_countries.add(region_of(decision.destination) or "?")
                    else:
                        report.cost_micros += cost
        report.unpriced_countries = sorted(unpriced_countries)
        if report.cost_micros is not None:
            report.budget_refusal = spend.budget_refusal(
                conn, skill, report.cost_micros, now,
                already_spent=spend_store.spent_by_skill(conn, [skill.id]).get(
                    skill.id, spend_store.Spent()).cost_micros if skill.id else 0)
    report.predicted_finish = _play(releases, report.rate_per_s, now)
    return report


def _play(releases: list[tuple[datetime, int]], rate_per_s: float,
          start: datetime) -> datetime | None:
    """When the last text would leave, at the code's pace (the dispatcher's own pacer)."""
    if not releases:
        return None
    pacer = SlidingWindowPacer(rate_per_s)
    moment = 0.0
    for released, weight in sorted(releases, key=lambda r: r[0]):
        moment = max(moment, (released - start).total_seconds())
        moment = pacer.ready_at(weight, moment)
        pacer.consume(weight, moment)
    return start + timedelta(seconds=moment + _SEND_LATENCY_S)
