"""Firing what is due: scheduled starts of skills and occurrences of recurring notices.

The dispatcher (`psms dispatch`, `psms serve`) calls `run_due` on its refresh, in a thread of
its own so that a launch never holds up sending. What a caller may rely on:

- *Once*: each start and each occurrence is claimed by a conditional UPDATE (services never
  compare-then-write), so with any number of dispatchers on one database exactly one fires it;
  the others see the claim taken and move on. Launching is itself idempotent (one message per
  record and skill), which is what makes taking over a dead worker's firing safe.
- *Not before*: only moments at or before the clock's `now` are claimed.
- *Survives restarts*: everything is in the database. A firing renews a heartbeat after each
  launch batch; one whose process died (no heartbeat for `stale_after`) or that a shutdown
  handed back is taken over and its launch resumed where it stopped.
- *Missed moments*: a moment that passed while no dispatcher ran still fires when one comes
  back within `grace` (15 min by default, $PSMS_SCHEDULE_GRACE_MINUTES); later, it is recorded
  as `missed` (a scheduled skill goes back to draft; a recurring notice records one missed run
  for the whole outage, naming how many occurrences it covered, and goes on from the next).
  Of several occurrences that came meanwhile only the latest may fire.
- *Checked again*: what a start refuses is checked at the moment too (the template may have
  changed since); a refusal is recorded as `failed` with its reason and the skill stays a draft.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from proactive_sms.domain import schedules
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.webhook_events import StartedBy, StartTrigger
from proactive_sms.services import launching
from proactive_sms.services.launching import LaunchError
from proactive_sms.store import notice_schedules, skill_starts, skills
from proactive_sms.store.errors import NotFound
from proactive_sms.store.notice_schedules import NoticeSchedule, Run
from proactive_sms.store.skills import SkillStatus

log = logging.getLogger(__name__)

_MAX_ROUNDS = 20  # recurring passes per call: a schedule due again at once fires next call
_MAX_MISSED_COUNTED = 10_000  # occurrences counted into one missed run's detail


def grace_from_env() -> timedelta:
    """$PSMS_SCHEDULE_GRACE_MINUTES, else 15 minutes."""
    raw = os.environ.get("PSMS_SCHEDULE_GRACE_MINUTES")
    if not raw:
        return schedules.DEFAULT_GRACE
    try:
        minutes = float(raw)
    except ValueError:
        minutes = -1.0
    if not 0 <= minutes < float("inf"):
        raise ValueError(f"PSMS_SCHEDULE_GRACE_MINUTES must be a number of minutes (0 or "
                         f"more), got {raw!r}")
    return timedelta(minutes=minutes)


@dataclass
class FiringOptions:
    grace: timedelta = field(default_factory=grace_from_env)
    # A firing without a heartbeat this long is taken over (its process died mid-launch).
    stale_after: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Fired:
    """What one call did with one due start or occurrence."""

    kind: str  # start | notice
    name: str  # the skill's name (a start) or the schedule's (a notice)
    outcome: str  # started | missed | failed
    skill: str | None = None
    detail: str | None = None


class _Interrupted(Exception):
    """The dispatcher is stopping, or another worker took the firing over: stop launching."""


class ScheduleFiring:
    def __init__(self, engine: Engine, clock: Clock, worker_id: str,
                 options: FiringOptions | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.worker_id = worker_id
        self.options = options or FiringOptions()
        self.stopping = False  # set from another thread: a launch under way hands back

    def run_due(self) -> list[Fired]:
        """Fire every start and occurrence due now (and take over abandoned firings)."""
        fired: list[Fired] = []
        now = self.clock.now()
        with self.engine.connect() as conn:
            starts = skill_starts.due(conn, now, now - self.options.stale_after)
        for skill_id in starts:
            if self.stopping:
                return fired
            outcome = self._fire_start(skill_id)
            if outcome is not None:
                fired.append(outcome)
        for _ in range(_MAX_ROUNDS):
            now = self.clock.now()
            with self.engine.connect() as conn:
                due = notice_schedules.due(conn, now)
                stale = notice_schedules.stale_runs(conn, now - self.options.stale_after)
            if not due and not stale:
                break
            for found in due:
                if self.stopping:
                    return fired
                outcome = self._fire_occurrence(found)
                if outcome is not None:
                    fired.append(outcome)
            for run in stale:
                if self.stopping:
                    return fired
                outcome = self._take_over_run(run)
                if outcome is not None:
                    fired.append(outcome)
        return fired

    # --- a skill's scheduled start -------------------------------------------------------------

    def _fire_start(self, skill_id: int) -> Fired | None:
        now = self.clock.now()
        with self.engine.begin() as conn:
            if not skill_starts.claim(conn, skill_id, self.worker_id, now,
                                      now - self.options.stale_after):
                return None  # another worker has it
            start = skill_starts.get(conn, skill_id)
            skill = skills.skill_by_id(conn, skill_id)
            if skill.status is SkillStatus.SCHEDULED:
                verdict = schedules.due(start.start_at, now, self.options.grace)
                if verdict is schedules.Due.MISSED:
                    detail = (f"missed: no dispatcher ran from {start.start_at:%Y-%m-%d %H:%M} "
                              f"UTC until {now:%Y-%m-%d %H:%M} UTC, longer than the "
                              f"{_minutes(self.options.grace)} grace")
                    return self._end_start(conn, skill, skill_starts.MISSED, now, detail)
                try:
                    launching.check_startable(conn, skill)
                except LaunchError as exc:
                    return self._end_start(conn, skill, skill_starts.FAILED, now, str(exc))
                # launching.start_skill takes a skill from draft; this claim keeps it ours.
                skills.change_status(conn, skill_id, SkillStatus.DRAFT,
                                     [SkillStatus.SCHEDULED], now)
            elif skill.status not in (SkillStatus.DRAFT, SkillStatus.LAUNCHING):
                skill_starts.settle(conn, skill_id, self.worker_id, skill_starts.STARTED, now)
                return Fired("start", skill.name, skill_starts.STARTED, skill.name)
        return self._launch_start(skill, StartedBy(StartTrigger.SCHEDULED_START, start.start_at,
                                                   start.time_zone))

    def _end_start(self, conn, skill: skills.Skill, state: str, now: datetime,
                   detail: str) -> Fired:
        skill_starts.settle(conn, skill.id, self.worker_id, state, now, detail)
        skills.change_status(conn, skill.id, SkillStatus.DRAFT, [SkillStatus.SCHEDULED], now)
        log.warning("scheduled start of skill %s %s: %s", skill.name, state, detail)
        return Fired("start", skill.name, state, skill.name, detail)

    def _launch_start(self, skill: skills.Skill, started_by: StartedBy) -> Fired | None:
        beat = self._beat(lambda conn, now: skill_starts.heartbeat(
            conn, skill.id, self.worker_id, now))
        try:
            summary = launching.start_skill(self.engine, skill.id, self.clock, after_batch=beat,
                                            started_by=started_by)
        except _Interrupted:
            self._hand_back(lambda conn: skill_starts.heartbeat(conn, skill.id,
                                                                 self.worker_id, None))
            return None
        except Exception as exc:  # noqa: BLE001 - recorded, not retried forever
            log.exception("scheduled start of skill %s failed", skill.name)
            with self.engine.begin() as conn:
                skill_starts.settle(conn, skill.id, self.worker_id, skill_starts.FAILED,
                                    self.clock.now(), str(exc))
            return Fired("start", skill.name, skill_starts.FAILED, skill.name, str(exc))
        detail = _summary(summary)
        with self.engine.begin() as conn:
            skill_starts.settle(conn, skill.id, self.worker_id, skill_starts.STARTED,
                                self.clock.now(), detail)
        log.info("scheduled start of skill %s: started (%s)", skill.name, detail)
        return Fired("start", skill.name, skill_starts.STARTED, skill.name, detail)

    # --- an occurrence of a recurring notice ---------------------------------------------------

    def _fire_occurrence(self, found: NoticeSchedule) -> Fired | None:
        now = self.clock.now()
        rule = schedules.Recurrence(found.cron, found.time_zone)
        verdict = schedules.due(found.next_run_at, now, self.options.grace)
        if verdict is schedules.Due.NOT_YET:
            return None
        # Only the latest occurrence that has come may fire: after an outage a minutely
        # notice must not start a skill for each minute it missed. Earlier ones (and any past
        # the grace) go into one missed run; the schedule goes on from the latest that can
        # still fire, or from the next one to come.
        following = rule.next_after(found.next_run_at)
        latest, later = None, 0
        while following <= now and later < _MAX_MISSED_COUNTED:
            latest, later = following, later + 1
            following = rule.next_after(following)
        state, detail = notice_schedules.FIRING, None
        if latest is not None:
            state = notice_schedules.MISSED
            if schedules.due(latest, now, self.options.grace) is schedules.Due.FIRE:
                following, later = latest, later - 1  # the latest fires at the next look
            detail = ("missed: no dispatcher ran within "
                      f"{_minutes(self.options.grace)} of its moment"
                      if verdict is schedules.Due.MISSED
                      else "missed: a later occurrence had come too when a dispatcher looked")
        elif verdict is schedules.Due.MISSED:
            state = notice_schedules.MISSED
            detail = f"missed: no dispatcher ran within {_minutes(self.options.grace)} of it"
        if detail and later:
            detail += f" ({later} later occurrence(s) missed too)"
        with self.engine.begin() as conn:
            run = notice_schedules.claim_occurrence(conn, found, following, state,
                                                    self.worker_id, now, detail)
        if run is None:
            return None  # another worker moved it on first
        if state == notice_schedules.MISSED:
            log.warning("recurring notice %s: %s", found.name, detail)
            return Fired("notice", found.name, state, None, detail)
        return self._launch_run(found, run)

    def _take_over_run(self, run: Run) -> Fired | None:
        now = self.clock.now()
        with self.engine.begin() as conn:
            if not notice_schedules.claim_stale_run(conn, run.id, self.worker_id, now,
                                                    now - self.options.stale_after):
                return None
            try:
                found = notice_schedules.by_id(conn, run.schedule_id)
            except NotFound:
                return None
        return self._launch_run(found, run)

    def _launch_run(self, found: NoticeSchedule, run: Run) -> Fired | None:
        name = schedules.run_name(found.name, run.due_at, found.time_zone)
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                try:
                    skill = skills.find_skill(conn, found.business_unit_id, name)
                except NotFound:
                    skill = skills.create_skill(
                        conn, business_unit_id=found.business_unit_id, name=name,
                        registration_id=found.registration_id,
                        calling_list_id=found.calling_list_id, template_id=found.template_id,
                        message_text=None, direction="auto", max_segments=found.max_segments,
                        pacing_per_s=None, validity_hours=None, campaign_id=found.campaign_id,
                        now=now, calling_window=found.calling_window)
                if skill.status is SkillStatus.DRAFT:
                    # Checked at the moment (the template may no longer fit the list): a
                    # refusal rolls back the skill this transaction created.
                    launching.check_startable(conn, skill)
                notice_schedules.heartbeat(conn, run.id, self.worker_id, now, skill.id)
        except LaunchError as exc:
            return self._end_run(run, notice_schedules.FAILED, None, str(exc))
        beat = self._beat(lambda conn, at: notice_schedules.heartbeat(
            conn, run.id, self.worker_id, at))
        try:
            summary = launching.start_skill(
                self.engine, skill.id, self.clock, after_batch=beat,
                started_by=StartedBy(StartTrigger.SCHEDULE, run.due_at, found.time_zone,
                                     found.name))
        except _Interrupted:
            self._hand_back(lambda conn: notice_schedules.heartbeat(conn, run.id,
                                                                      self.worker_id, None))
            return None
        except Exception as exc:  # noqa: BLE001 - recorded, not retried forever
            log.exception("recurring notice %s: starting %s failed", found.name, name)
            return self._end_run(run, notice_schedules.FAILED, skill, str(exc))
        return self._end_run(run, notice_schedules.STARTED, skill, _summary(summary))

    def _end_run(self, run: Run, state: str, skill: skills.Skill | None,
                 detail: str) -> Fired:
        with self.engine.begin() as conn:
            found = notice_schedules.by_id(conn, run.schedule_id)
            notice_schedules.settle(conn, run.id, self.worker_id, state, self.clock.now(),
                                    skill.id if skill else None, detail)
        (log.info if state == notice_schedules.STARTED else log.warning)(
            "recurring notice %s: %s %s (%s)", found.name, state,
            skill.name if skill else "", detail)
        return Fired("notice", found.name, state, skill.name if skill else None, detail)

    # --- claims while launching ----------------------------------------------------------------

    def _beat(self, renew: Callable) -> Callable[[int], None]:
        """After each launch batch: stop if the dispatcher is stopping, renew the claim, and
        stop if another worker took it over meanwhile (it launches; launching twice at once
        would be safe, but is waste)."""
        def beat(_decided: int) -> None:
            if self.stopping:
                raise _Interrupted()
            with self.engine.begin() as conn:
                if not renew(conn, self.clock.now()):
                    raise _Interrupted()
        return beat

    def _hand_back(self, release: Callable) -> None:
        """A launch interrupted by a shutdown: its claim is free for the next worker at once
        (the launch resumes from its cursor)."""
        try:
            with self.engine.begin() as conn:
                release(conn)
        except Exception:  # noqa: BLE001 - its heartbeat goes stale instead
            log.exception("handing back an interrupted scheduled launch failed")


def _summary(summary: launching.LaunchSummary) -> str:
    if summary.already_started:
        return f"already {summary.status.value}"
    skipped = sum(summary.skipped.values())
    return f"{summary.pending} text(s) pending, {skipped} skipped"


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:g} min"
