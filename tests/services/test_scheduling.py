"""Scheduled starts and recurring notices, fired by dispatchers' ScheduleFiring on the real
store (SQLite, and PostgreSQL where configured) with a manual clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from proactive_sms.domain.clock import ManualClock
from proactive_sms.services import (
    administration,
    dashboard,
    notice_schedules,
    reporting,
    scheduled_starts,
    skill_settings,
)
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.launching import LaunchError, start_skill
from proactive_sms.services.lifecycle import LifecycleError
from proactive_sms.services.schedule_firing import FiringOptions, ScheduleFiring
from proactive_sms.store import skill_starts, skills
from proactive_sms.store.errors import StaleVersion
from proactive_sms.store.schema import message
from proactive_sms.store.skills import SkillStatus
from tests import factories

CHICAGO = "America/Chicago"
PEOPLE = 5


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))  # a Friday, 06:00 in Chicago


@pytest.fixture
def world(engine, bu, clock, tmp_path):
    factories.import_people(engine, bu, clock, tmp_path, PEOPLE)
    factories.registration(engine, bu, clock)
    administration.save_template(engine, bu, clock, "tip", "Hi {FirstName}, new tip received.")
    return engine


def firings(engine, clock, count=2, **options) -> list[ScheduleFiring]:
    return [ScheduleFiring(engine, clock, f"worker-{i}", FiringOptions(**options))
            for i in range(count)]


def fire_together(workers: list[ScheduleFiring]) -> list:
    """Every worker's run_due at the same moment, each in its own thread."""
    barrier = threading.Barrier(len(workers))
    results: list = [None] * len(workers)

    def run(i):
        barrier.wait()
        results[i] = workers[i].run_due()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [fired for result in results for fired in result]


def texts_of(engine, skill_id: int) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(message)
                           .where(message.c.skill_id == skill_id))


def status(engine, bu, name) -> SkillStatus:
    return administration.find_skill(engine, bu, name).status


def test_a_scheduled_skill_starts_at_its_moment_exactly_once_with_two_dispatchers(
        world, bu, clock):
    created = factories.skill(world, bu, clock, "tips", template_name="tip")
    done = scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-01T09:00", CHICAGO)
    assert done.start.start_at == datetime(2027, 1, 1, 15, 0, tzinfo=UTC)
    assert done.local_start.strftime("%H:%M") == "09:00"
    assert status(world, bu, "tips") is SkillStatus.SCHEDULED
    # Shown wherever statuses are: the skill's report and the dashboard's live skills.
    assert reporting.skill_report(world, bu, "tips", clock.now()).statuses == {
        "tips": "scheduled"}
    assert [(line.name, line.status) for line in dashboard.snapshot(world, bu, clock).skills] == [
        ("tips", "scheduled")]
    workers = firings(world, clock)

    clock.set(datetime(2027, 1, 1, 14, 59, 59, tzinfo=UTC))  # a second before: not yet
    assert fire_together(workers) == []
    assert status(world, bu, "tips") is SkillStatus.SCHEDULED
    assert texts_of(world, created.id) == 0

    clock.set(datetime(2027, 1, 1, 15, 0, tzinfo=UTC))
    fired = fire_together(workers)
    assert [(f.name, f.outcome) for f in fired] == [("tips", "started")]
    assert status(world, bu, "tips") is SkillStatus.RUNNING
    assert texts_of(world, created.id) == PEOPLE
    clock.advance(60)
    assert fire_together(workers) == []  # nothing fires twice
    assert texts_of(world, created.id) == PEOPLE
    assert scheduled_starts.show(world, bu, "tips").start.state == "started"


def test_a_manual_start_of_a_scheduled_skill_is_refused(world, bu, clock):
    created = factories.skill(world, bu, clock, "tips", template_name="tip")
    scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-01T09:00", CHICAGO)
    with pytest.raises(LaunchError, match="scheduled to start later"):
        start_skill(world, created.id, clock)


def test_a_start_is_moved_with_its_version_and_cancelled_back_to_draft(world, bu, clock):
    created = factories.skill(world, bu, clock, "tips", template_name="tip")
    first = scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-01T09:00", CHICAGO)
    moved = scheduled_starts.move(world, bu, clock, "tips", "2027-01-01T10:30", CHICAGO,
                                  expected_version=first.start.version)
    assert moved.start.start_at == datetime(2027, 1, 1, 16, 30, tzinfo=UTC)
    # Until it starts it is edited like a draft (and checked again at its moment).
    changed = skill_settings.update_skill(world, bu, clock, "tips", {"max_segments": 2})
    assert (changed.skill.max_segments, changed.skill.status) == (2, SkillStatus.SCHEDULED)
    with pytest.raises(StaleVersion):  # a second move from the same read loses
        scheduled_starts.move(world, bu, clock, "tips", "2027-01-01T11:00", CHICAGO,
                              expected_version=first.start.version)
    workers = firings(world, clock)
    clock.set(datetime(2027, 1, 1, 15, 5, tzinfo=UTC))  # the old moment: nothing
    assert fire_together(workers) == []
    assert status(world, bu, "tips") is SkillStatus.SCHEDULED

    cancelled = scheduled_starts.cancel(world, bu, clock, "tips")
    assert cancelled.status is SkillStatus.DRAFT
    clock.set(datetime(2027, 1, 1, 16, 31, tzinfo=UTC))
    assert fire_together(workers) == []
    assert texts_of(world, created.id) == 0
    assert scheduled_starts.show(world, bu, "tips").start.state == "cancelled"
    with pytest.raises(LifecycleError, match="no start waiting"):
        scheduled_starts.cancel(world, bu, clock, "tips")
    with pytest.raises(LifecycleError, match="no start waiting"):
        scheduled_starts.move(world, bu, clock, "tips", "2027-01-02T09:00", CHICAGO)


def test_a_past_moment_a_gap_moment_and_a_started_skill_are_refused(world, bu, clock):
    factories.skill(world, bu, clock, "tips", template_name="tip")
    with pytest.raises(InvalidRequest, match="in the past") as caught:
        scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-01T05:00", CHICAGO)
    assert caught.value.field == "start_at"
    with pytest.raises(InvalidRequest, match="does not exist in America/Chicago"):
        scheduled_starts.schedule(world, bu, clock, "tips", "2027-03-14T02:30", CHICAGO)
    with pytest.raises(InvalidRequest, match="unknown time zone") as caught:
        scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-02T09:00", "Chicago")
    assert caught.value.field == "time_zone"
    assert status(world, bu, "tips") is SkillStatus.DRAFT
    scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-02T09:00", CHICAGO)
    with pytest.raises(LifecycleError, match="only a draft can be scheduled"):
        scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-03T09:00", CHICAGO)


def test_scheduling_refuses_what_the_start_would_refuse(world, bu, clock):
    factories.skill(world, bu, clock, "bare")  # no text at all
    with pytest.raises(LaunchError, match="has no text"):
        scheduled_starts.schedule(world, bu, clock, "bare", "2027-01-02T09:00", CHICAGO)
    with pytest.raises(LaunchError, match="does not fit calling list fields"):
        scheduled_starts.schedule(world, bu, clock, "bare", "2027-01-02T09:00", CHICAGO,
                                  message_text="Hi {Nickname}")
    assert status(world, bu, "bare") is SkillStatus.DRAFT
    done = scheduled_starts.schedule(world, bu, clock, "bare", "2027-01-02T09:00", CHICAGO,
                                     message_text="Bonus shift tonight")
    assert done.skill.message_text == "Bonus shift tonight"


def test_the_start_is_checked_again_at_its_moment(world, bu, clock):
    factories.skill(world, bu, clock, "tips", template_name="tip")
    scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-01T09:00", CHICAGO)
    administration.save_template(world, bu, clock, "tip", "Hi {Nickname}, new tip.")
    clock.set(datetime(2027, 1, 1, 15, 0, tzinfo=UTC))
    fired = fire_together(firings(world, clock))
    assert [(f.outcome, "Nickname" in f.detail) for f in fired] == [("failed", True)]
    assert status(world, bu, "tips") is SkillStatus.DRAFT
    assert scheduled_starts.show(world, bu, "tips").start.state == "failed"


def test_a_moment_missed_while_no_dispatcher_ran(world, bu, clock):
    factories.skill(world, bu, clock, "late", template_name="tip")
    factories.skill(world, bu, clock, "lost", template_name="tip")
    scheduled_starts.schedule(world, bu, clock, "late", "2027-01-01T09:00", CHICAGO)
    scheduled_starts.schedule(world, bu, clock, "lost", "2027-01-01T08:00", CHICAGO)
    # Back at 09:10 Chicago: 10 minutes late is within the grace, 70 is not.
    clock.set(datetime(2027, 1, 1, 15, 10, tzinfo=UTC))
    fired = {f.name: f for f in fire_together(firings(world, clock))}
    assert fired["late"].outcome == "started"
    assert fired["lost"].outcome == "missed" and "15 min grace" in fired["lost"].detail
    assert status(world, bu, "late") is SkillStatus.RUNNING
    assert status(world, bu, "lost") is SkillStatus.DRAFT
    assert scheduled_starts.show(world, bu, "lost").start.state == "missed"


def test_a_firing_whose_process_died_is_taken_over_and_finished(world, bu, clock):
    created = factories.skill(world, bu, clock, "tips", template_name="tip")
    scheduled_starts.schedule(world, bu, clock, "tips", "2027-01-01T09:00", CHICAGO)
    clock.set(datetime(2027, 1, 1, 15, 0, tzinfo=UTC))
    with world.begin() as conn:  # a worker claimed it, then died before launching
        assert skill_starts.claim(conn, created.id, "dead", clock.now(), clock.now())
    survivor = firings(world, clock, count=1)[0]
    assert survivor.run_due() == []  # its heartbeat is fresh: still the dead one's
    clock.advance(61)
    fired = survivor.run_due()
    assert [(f.name, f.outcome) for f in fired] == [("tips", "started")]
    assert texts_of(world, created.id) == PEOPLE


def test_a_recurring_notice_runs_three_times_and_its_history_shows_each(world, bu, clock):
    notice_schedules.set_business_unit_zone(world, bu, CHICAGO)
    bu = administration.business_unit(world, bu.name)
    view = notice_schedules.create(world, bu, clock, name="tips", template="tip",
                                   calling_list="people", registration="55501",
                                   every="weekday", at="09:00")
    assert view.describe == "every weekday at 09:00 (America/Chicago)"
    assert view.schedule.next_run_at == datetime(2027, 1, 1, 15, 0, tzinfo=UTC)
    workers = firings(world, clock)
    moments = [datetime(2027, 1, d, 15, 0, tzinfo=UTC) for d in (1, 4, 5)]  # Fri, Mon, Tue
    for moment in moments:
        clock.set(moment - timedelta(seconds=1))
        assert fire_together(workers) == []
        clock.set(moment)
        fired = fire_together(workers)
        assert [f.outcome for f in fired] == ["started"]
        clock.set(moment + timedelta(hours=20))  # the weekend and evenings: nothing
        assert fire_together(workers) == []
    runs = notice_schedules.history(world, bu, "tips").items
    assert [(r.run.due_at, r.run.state, r.skill) for r in runs] == [
        (moments[0], "started", "tips-20270101-0900"),
        (moments[1], "started", "tips-20270104-0900"),
        (moments[2], "started", "tips-20270105-0900")]
    with world.connect() as conn:
        for run in runs:
            started = skills.find_skill(conn, bu.id, run.skill)
            assert started.status is SkillStatus.RUNNING
            assert texts_of(world, started.id) == PEOPLE
    assert notice_schedules.show(world, bu, "tips").schedule.next_run_at == datetime(
        2027, 1, 6, 15, 0, tzinfo=UTC)


def test_a_paused_schedule_fires_nothing_and_resumes_from_the_next_occurrence(
        world, bu, clock):
    view = notice_schedules.create(world, bu, clock, name="tips", template="tip",
                                   calling_list="people", registration="55501",
                                   cron="0 9 * * *", time_zone=CHICAGO)
    paused = notice_schedules.pause(world, bu, clock, "tips",
                                    expected_version=view.schedule.version)
    with pytest.raises(StaleVersion):
        notice_schedules.resume(world, bu, clock, "tips", expected_version=view.schedule.version)
    clock.set(datetime(2027, 1, 2, 15, 5, tzinfo=UTC))
    assert fire_together(firings(world, clock)) == []
    resumed = notice_schedules.resume(world, bu, clock, "tips",
                                      expected_version=paused.schedule.version)
    assert resumed.schedule.next_run_at == datetime(2027, 1, 3, 15, 0, tzinfo=UTC)
    assert notice_schedules.history(world, bu, "tips").items == []
    notice_schedules.remove(world, bu, clock, "tips")
    assert notice_schedules.page(world, bu, notice_schedules.PageRequest()).items == []


def test_an_outage_is_one_missed_run_then_the_schedule_goes_on(world, bu, clock):
    notice_schedules.create(world, bu, clock, name="tips", template="tip",
                            calling_list="people", registration="55501",
                            cron="0 9 * * *", time_zone=CHICAGO)
    clock.set(datetime(2027, 1, 4, 15, 5, tzinfo=UTC))  # down from Friday until Monday 09:05
    fired = fire_together(firings(world, clock))
    assert sorted(f.outcome for f in fired) == ["missed", "started"]
    runs = notice_schedules.history(world, bu, "tips").items
    assert [(r.run.due_at.day, r.run.state) for r in runs] == [(1, "missed"), (4, "started")]
    assert "2 later occurrence(s) missed too" in runs[0].run.detail


def test_a_recurring_notice_is_refused_with_a_clear_error(world, bu, clock):
    def create(**kwargs):
        settings = dict(name="tips", template="tip", calling_list="people",
                        registration="55501", time_zone=CHICAGO, every="weekday", at="09:00")
        settings.update(kwargs)
        return notice_schedules.create(world, bu, clock, **settings)

    with pytest.raises(InvalidRequest, match="not valid") as caught:
        create(every=None, at=None, cron="0 9 * * mon-fry")
    assert caught.value.field == "cron"
    with pytest.raises(InvalidRequest, match="business unit has none") as caught:
        create(time_zone=None)
    assert caught.value.field == "time_zone"
    administration.save_template(world, bu, clock, "odd", "Hi {Nickname}")
    with pytest.raises(LaunchError, match="Nickname"):
        create(template="odd")
    assert notice_schedules.page(world, bu, notice_schedules.PageRequest()).items == []


def test_after_a_short_outage_only_the_latest_occurrence_starts_a_skill(world, bu, clock):
    notice_schedules.create(world, bu, clock, name="minutely", template="tip",
                            calling_list="people", registration="55501",
                            cron="* * * * *", time_zone="UTC")
    clock.set(datetime(2027, 1, 1, 12, 5, 30, tzinfo=UTC))  # 12:01 .. 12:05 all came, in grace
    fired = fire_together(firings(world, clock))
    assert sorted(f.outcome for f in fired) == ["missed", "started"]
    runs = notice_schedules.history(world, bu, "minutely").items
    assert [(r.run.due_at.minute, r.run.state, r.skill) for r in runs] == [
        (1, "missed", None), (5, "started", "minutely-20270101-1205")]
    assert "3 later occurrence(s) missed too" in runs[0].run.detail
    assert notice_schedules.show(world, bu, "minutely").schedule.next_run_at == datetime(
        2027, 1, 1, 12, 6, tzinfo=UTC)


def test_stopping_a_scheduled_skill_cancels_its_start_and_a_draft_with_a_past_start_is_deleted(
        world, bu, clock):
    from proactive_sms.services import lifecycle, skill_removal
    from proactive_sms.store.errors import InUse

    stopped = factories.skill(world, bu, clock, "stopped", template_name="tip")
    scheduled_starts.schedule(world, bu, clock, "stopped", "2027-01-01T09:00", CHICAGO)
    lifecycle.stop(world, stopped.id, clock)
    assert scheduled_starts.show(world, bu, "stopped").start.state == "cancelled"

    factories.skill(world, bu, clock, "gone", template_name="tip")
    scheduled_starts.schedule(world, bu, clock, "gone", "2027-01-01T09:00", CHICAGO)
    with pytest.raises(InUse, match="cancel its scheduled start"):
        skill_removal.remove_skill(world, bu, clock, "gone")
    scheduled_starts.cancel(world, bu, clock, "gone")
    assert skill_removal.remove_skill(world, bu, clock, "gone") == "deleted"

    clock.set(datetime(2027, 1, 1, 15, 0, tzinfo=UTC))
    assert fire_together(firings(world, clock)) == []
    assert status(world, bu, "stopped") is SkillStatus.STOPPED
    assert texts_of(world, stopped.id) == 0
