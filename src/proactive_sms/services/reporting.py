"""Reports per skill and per campaign: counts by state and skip reason, segments, rates."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageState
from proactive_sms.services.spend import SkillSpend, skills_spend
from proactive_sms.store import inbound, links, skill_counters, skills
from proactive_sms.store.tenancy import BusinessUnit

INBOUND_KINDS = ("opt_out", "opt_in", "help", "reply", "possible_opt_out")

# States a text reaches once it has left us.
_LEFT = (MessageState.SENT, MessageState.DELIVERED, MessageState.UNDELIVERABLE,
         MessageState.EXPIRED)


@dataclass
class Report:
    title: str
    skills: list[str]
    statuses: dict[str, str]
    total: int = 0
    by_state: Counter = field(default_factory=Counter)
    skipped_by_reason: Counter = field(default_factory=Counter)
    segments_sent: int = 0
    delivery_rate: float | None = None  # delivered / (texts that left us and got a receipt)
    achieved_rate_per_s: float | None = None
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Inbound texts from the people these skills texted, by classification.
    inbound: Counter = field(default_factory=Counter)
    waiting: int = 0  # pending texts held until their window opens (or a cap or retry allows)
    next_window_at: datetime | None = None
    sent: int = 0  # texts the carrier accepted, whatever became of them after
    # What the texts that left cost, against the skills' budgets (services.spend); None for the
    # dashboard's per-skill figures, which leave it out.
    spend: SkillSpend | None = None
    # Tracked links (docs/links.md): counted clicks (bots never), recipients who clicked, and
    # unique clickers / delivered texts (/ sent texts while no receipt says delivered).
    clicks: int = 0
    unique_clickers: int = 0
    click_through_rate: float | None = None

    @property
    def skipped(self) -> int:
        return self.by_state[MessageState.SKIPPED]

    @property
    def decided(self) -> int:
        """Records decided at launch or in a cadence: a text to send, or a skip."""
        return self.total

    @property
    def pending(self) -> int:
        return self.by_state[MessageState.PENDING] + self.by_state[MessageState.SUBMITTING]

    def as_dict(self) -> dict:
        return {
            "title": self.title, "skills": self.skills, "statuses": self.statuses,
            "total": self.total,
            "by_state": {s.value: self.by_state.get(s.value, 0) for s in MessageState},
            "skipped_by_reason": dict(sorted(self.skipped_by_reason.items())),
            "segments_sent": self.segments_sent, "delivery_rate": self.delivery_rate,
            "achieved_rate_per_s": self.achieved_rate_per_s,
            "first_sent_at": _iso(self.first_sent_at), "last_sent_at": _iso(self.last_sent_at),
            "started_at": _iso(self.started_at), "finished_at": _iso(self.finished_at),
            "inbound": {kind: self.inbound.get(kind, 0) for kind in INBOUND_KINDS},
            "waiting": self.waiting, "next_window_at": _iso(self.next_window_at),
            "spend": self.spend.as_dict() if self.spend is not None else None,
            "clicks": self.clicks, "unique_clickers": self.unique_clickers,
            "click_through_rate": self.click_through_rate,
        }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # SQLite gives back naive UTC: say the zone, as PostgreSQL's values do.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def skill_report(engine: Engine, bu: BusinessUnit, skill_name: str,
                 now: datetime | None = None) -> Report:
    with engine.connect() as conn:
        skill = skills.find_skill(conn, bu.id, skill_name)
    return _report(engine, f"skill {skill.name}", [skill], now)


def campaign_report(engine: Engine, bu: BusinessUnit, campaign_name: str,
                    now: datetime | None = None) -> Report:
    with engine.connect() as conn:
        campaign = skills.find_campaign(conn, bu.id, campaign_name)
        members = skills.list_skills(conn, bu.id, campaign_id=campaign.id)
    return _report(engine, f"campaign {campaign.name}", members, now)


def _report(engine: Engine, title: str, members: list[skills.Skill],
            now: datetime | None = None) -> Report:
    now = now or datetime.now(UTC)
    ids = [s.id for s in members]
    report = Report(title, [s.name for s in members], {s.name: s.status.value for s in members})
    with engine.connect() as conn:
        # Kept counters: the same cost for a skill of ten texts or of a million.
        for counts in skill_counters.counts(conn, ids).values():
            for row in counts:
                _add(report, row)
        window = skill_counters.sent_window(conn, ids)
        report.inbound = inbound.counts_by_skill(conn, ids)
        report.spend = skills_spend(conn, members)
        clicked = links.click_counts(conn, ids)
        report.clicks, report.unique_clickers = clicked.clicks, clicked.unique_clickers
        if report.waiting:
            report.next_window_at = skill_counters.next_due(conn, ids, now)
    _finish(report, members, window)
    return report


def skill_reports(conn: Connection, members: list[skills.Skill],
                  now: datetime) -> dict[int, Report]:
    """A report of each skill on its own, from a few queries for all of them (the dashboard's
    figures; inbound counts are left out)."""
    ids = [s.id for s in members]
    counts = skill_counters.counts(conn, ids)
    windows = skill_counters.sent_windows(conn, ids)
    clicked = links.clicks_by_skill(conn, ids)
    found: dict[int, Report] = {}
    for member in members:
        report = Report(f"skill {member.name}", [member.name],
                        {member.name: member.status.value})
        for row in counts.get(member.id, []):
            _add(report, row)
        if member.id in clicked:
            report.clicks = clicked[member.id].clicks
            report.unique_clickers = clicked[member.id].unique_clickers
        if report.waiting:
            report.next_window_at = skill_counters.next_due(conn, [member.id], now)
        _finish(report, [member], windows.get(member.id, skill_counters.SentWindow(None, None, 0)))
        found[member.id] = report
    return found


def _finish(report: Report, members: list[skills.Skill],
            window: skill_counters.SentWindow) -> None:
    """The figures computed from the counts: delivery rate, achieved rate, start and end."""
    final = sum(report.by_state[s] for s in ("delivered", "undeliverable", "expired"))
    if final:
        report.delivery_rate = report.by_state["delivered"] / final
    first, last, sent = window.first_sent_at, window.last_sent_at, window.sent
    report.first_sent_at, report.last_sent_at, report.sent = first, last, sent
    if first and last and sent > 1:
        # Texts per second over the one-second windows in which texts left: a paced code sends
        # its second's worth at the start of each window, so first-to-last alone overstates it.
        windows = math.floor((last - first).total_seconds()) + 1
        report.achieved_rate_per_s = sent / windows
    report.click_through_rate = click_through_rate(report.unique_clickers,
                                                   report.by_state["delivered"], sent)
    starts = [s.started_at for s in members if s.started_at]
    ends = [s.finished_at for s in members if s.finished_at]
    report.started_at = min(starts) if starts else None
    if ends and len(ends) == len(members):
        report.finished_at = max(ends)


def _add(report: Report, row: skill_counters.Count) -> None:
    """Add one kept count to the report: a held text is pending, and also counted as waiting."""
    state = row.state
    if state == skill_counters.WAITING:
        report.waiting += row.messages
        state = MessageState.PENDING.value
    report.total += row.messages
    report.by_state[state] += row.messages
    if state == MessageState.SKIPPED.value:
        report.skipped_by_reason[row.skip_reason or "unknown"] += row.messages
    if MessageState(state) in _LEFT:
        report.segments_sent += row.segments


def estimated_finish(report: Report, clock: Clock) -> datetime | None:
    """When the pending texts will have left at the rate achieved so far.

    Texts held for their calling window go only once it opens: they count from `next_window_at`
    (the earliest opening), never from now, so that the estimate is not a moment the texts
    cannot meet. None before any rate is known, or when nothing is pending."""
    if not report.pending or not report.achieved_rate_per_s:
        return None
    now = clock.now()
    rate = report.achieved_rate_per_s
    finish = now + timedelta(seconds=(report.pending - report.waiting) / rate)
    if report.waiting:
        opens = _aware(report.next_window_at) if report.next_window_at else now
        finish = max(finish, opens) + timedelta(seconds=report.waiting / rate)
    return finish


def resumes_at(report: Report, clock: Clock) -> datetime | None:
    """When sending resumes, while every pending text waits for a calling window to open (or a
    cap or a retry to allow it); None while some text may go now."""
    if not report.pending or report.waiting < report.pending or report.next_window_at is None:
        return None
    opens = _aware(report.next_window_at)
    return opens if opens > clock.now() else None


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive UTC; the clock is aware.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def texts_sent(by_state: Mapping[str, int]) -> int:
    """The texts that left us: sent, and those with a receipt since (a report's by_state)."""
    return sum(by_state.get(state, 0) for state in _LEFT)


def click_through_rate(unique_clickers: int, delivered: int, sent: int) -> float | None:
    """Recipients who clicked / texts delivered; / texts sent where no receipt says delivered
    (a carrier without receipts); None before any text left."""
    base = delivered or sent
    if not base:
        return None
    return unique_clickers / base
