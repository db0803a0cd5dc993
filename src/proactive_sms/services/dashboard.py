"""The dashboard's figures: a business unit's live skills and campaigns, from kept counters.

One `snapshot` reads the unit's running, paused and launching skills (a small table), their kept
counters and per-minute figures (store.skill_counters), and the next window opening of those
with texts held: a handful of queries whose cost does not grow with the skills' sizes, so the
console can take one every tick for every open dashboard.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageState
from proactive_sms.services import reply_status, reporting
from proactive_sms.store import registrations, skill_counters, skills
from proactive_sms.store.skills import SkillStatus
from proactive_sms.store.tenancy import BusinessUnit

# Skills with work ahead: running, paused, launching (deciding its records) and scheduled (to
# start at a moment: shown with nothing sent yet, so the day's plan is on the dashboard).
LIVE_STATUSES = (SkillStatus.RUNNING, SkillStatus.PAUSED, SkillStatus.LAUNCHING,
                 SkillStatus.SCHEDULED)
CHART_MINUTES = 60  # the chart shows the last hour, minute by minute


@dataclass(frozen=True)
class Figures:
    """The counters shown for a skill or a campaign."""

    pending: int  # decided, not yet sent, free to go (or being submitted)
    waiting: int  # held until its calling window opens (or a cap or a retry allows)
    sent: int  # accepted by the carrier, no receipt yet
    delivered: int
    undeliverable: int
    expired: int
    failed: int
    uncertain: int
    cancelled: int
    skipped: int
    skipped_by_reason: dict[str, int]
    segments_sent: int
    total: int

    @classmethod
    def of(cls, report: reporting.Report) -> Figures:
        by = report.by_state
        return cls(
            pending=report.pending - report.waiting, waiting=report.waiting,
            sent=by[MessageState.SENT], delivered=by[MessageState.DELIVERED],
            undeliverable=by[MessageState.UNDELIVERABLE], expired=by[MessageState.EXPIRED],
            failed=by[MessageState.FAILED], uncertain=by[MessageState.UNCERTAIN],
            cancelled=by[MessageState.CANCELLED], skipped=by[MessageState.SKIPPED],
            skipped_by_reason=dict(sorted(report.skipped_by_reason.items())),
            segments_sent=report.segments_sent, total=report.total)

    def __add__(self, other: Figures) -> Figures:
        reasons: dict[str, int] = defaultdict(int)
        for source in (self.skipped_by_reason, other.skipped_by_reason):
            for reason, count in source.items():
                reasons[reason] += count
        return Figures(**{name: getattr(self, name) + getattr(other, name)
                          for name in self.__dataclass_fields__ if name != "skipped_by_reason"},
                       skipped_by_reason=dict(sorted(reasons.items())))


@dataclass(frozen=True)
class SkillLine:
    name: str
    status: str
    kind: str
    campaign: str | None
    code: str
    figures: Figures
    achieved_rate_per_s: float | None
    limit_per_s: float  # the code's limit, or the skill's own pacing when lower
    estimated_finish: datetime | None
    next_window_at: datetime | None
    started_at: datetime | None
    # What bounds its texts for the agents who answer them (None: its replies reach no agent).
    reply_pacing: str | None = None
    reply_waiting: bool = False  # its texts wait for an agent or a free place now


@dataclass(frozen=True)
class CampaignLine:
    name: str
    skills: list[str]
    figures: Figures


@dataclass(frozen=True)
class ChartPoint:
    minute: datetime  # UTC, the start of the minute
    sent: int
    delivered: int


@dataclass
class Snapshot:
    taken_at: datetime
    skills: list[SkillLine] = field(default_factory=list)
    campaigns: list[CampaignLine] = field(default_factory=list)
    chart: list[ChartPoint] = field(default_factory=list)  # every minute of the last hour


def snapshot(engine: Engine, bu: BusinessUnit, clock: Clock) -> Snapshot:
    """The unit's live skills and campaigns now, with their counters and the last hour's chart."""
    now = clock.now()
    taken = Snapshot(now)
    with engine.connect() as conn:
        live = skills.list_skills(conn, bu.id, statuses=LIVE_STATUSES)
        if not live:
            taken.chart = _chart([], now)
            return taken
        reports = reporting.skill_reports(conn, live, now)
        codes = {r.id: r for r in registrations.list_registrations(conn, bu.id)}
        campaign_names = skills.campaign_names(conn, [s.campaign_id for s in live])
        since = _minute(now) - timedelta(minutes=CHART_MINUTES - 1)
        minutes = skill_counters.minutes(conn, [s.id for s in live], since)
        pacing = reply_status.statuses(conn, live)
    by_campaign: dict[str, list[tuple[str, Figures]]] = defaultdict(list)
    for member in live:
        report = reports[member.id]
        figures = Figures.of(report)
        code = codes[member.registration_id]
        limit = code.throughput_per_s
        if member.pacing_per_s:
            limit = min(limit, member.pacing_per_s)
        campaign = campaign_names.get(member.campaign_id) if member.campaign_id else None
        taken.skills.append(SkillLine(
            name=member.name, status=member.status.value, kind=member.kind, campaign=campaign,
            code=code.code, figures=figures, achieved_rate_per_s=report.achieved_rate_per_s,
            limit_per_s=limit, estimated_finish=reporting.estimated_finish(report, clock),
            next_window_at=_aware(report.next_window_at), started_at=_aware(member.started_at),
            reply_pacing=(None if pacing[member.id].state is
                          reply_status.ReplyPacingState.NOT_APPLICABLE
                          else pacing[member.id].explain()),
            reply_waiting=bool(pacing[member.id].bound and pacing[member.id].bound.waiting)))
        if campaign:
            by_campaign[campaign].append((member.name, figures))
    for name in sorted(by_campaign):
        members = by_campaign[name]
        total = members[0][1]
        for _, figures in members[1:]:
            total = total + figures
        taken.campaigns.append(CampaignLine(name, [n for n, _ in members], total))
    taken.chart = _chart(minutes, now)
    return taken


def _chart(minutes: list[skill_counters.Minute], now: datetime) -> list[ChartPoint]:
    """Every minute of the last hour, those without texts at zero."""
    found = {_minute(m.minute): m for m in minutes}
    start = _minute(now) - timedelta(minutes=CHART_MINUTES - 1)
    points = []
    for n in range(CHART_MINUTES):
        moment = start + timedelta(minutes=n)
        m = found.get(moment)
        points.append(ChartPoint(moment, m.sent if m else 0, m.delivered if m else 0))
    return points


def _minute(moment: datetime) -> datetime:
    return _aware(moment).replace(second=0, microsecond=0)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    # SQLite gives back naive UTC
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
