"""Scheduling in the console, in Chromium against `psms serve` (whose dispatcher fires what is
due): a skill started later, moved and cancelled from its page; a recurring notice created on
the Schedules page, run by the real dispatcher at its minute, paused and deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration
from tests.factories import person
from tests.interfaces.web.conftest import CODE, wait_until


@pytest.fixture(scope="module")
def unit(console):
    bu = console.bu()
    console.import_people("watch", [person(i + 700) for i in range(2)])
    administration.save_template(console.engine, bu, SystemClock(), "shift",
                                 "Hi {FirstName}, your shift starts soon.", calling_list="watch")
    return bu


def test_a_skill_is_started_later_moved_and_cancelled_from_its_page(
        browser, console, login, shoot, unit):
    administration.create_skill(console.engine, unit, SystemClock(), name="later",
                                registration=CODE, calling_list="watch", template_name="shift")
    page = login(browser, console)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(console.url + "/skills/later")
    page.click("#start-later summary")
    page.fill("#f-start_at", "2020-01-06T09:00")
    page.fill("#f-time_zone", "America/Chicago")
    page.click("#schedule-button")
    expect(page.locator("#schedule-error")).to_contain_text("in the past")
    expect(page.locator("#skill-status")).to_have_text("draft")

    page.fill("#f-start_at", "2031-01-06T09:00")
    page.fill("#f-time_zone", "America/Chicago")
    page.click("#schedule-button")
    expect(page.locator("#skill-status")).to_have_text("scheduled")
    expect(page.locator("#starts-at")).to_contain_text("2031-01-06 09:00 CST")
    shoot(page, "skill-scheduled")
    page.fill("#f-start_at", "2031-01-07T10:30")
    page.click("#reschedule-button")
    expect(page.locator("#starts-at")).to_contain_text("2031-01-07 10:30 CST")
    page.goto(console.url + "/skills?status=scheduled")
    expect(page.locator("#skills")).to_contain_text("2031-01-07 10:30 CST")
    page.goto(console.url + "/skills/later")
    page.click("#unschedule-button")
    expect(page.locator("#skill-status")).to_have_text("draft")


def test_a_recurring_notice_runs_at_its_minute_and_is_paused_and_deleted(
        browser, console, login, shoot, unit):
    page = login(browser, console)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(console.url + "/schedules")
    page.fill("#f-name", "bad")
    page.select_option("#f-template", "shift")
    page.select_option("#f-calling_list", "watch")
    page.select_option("#f-registration", CODE)
    page.select_option("#f-every", "")
    page.fill("#f-cron", "0 9 * *")
    page.fill("#f-time_zone", "America/Chicago")
    page.click("#create-schedule")
    expect(page.locator("#e-cron")).to_contain_text("5 fields")

    page.fill("#f-name", "minutely")
    page.fill("#f-cron", "* * * * *")
    page.fill("#f-time_zone", "Asia/Tokyo")
    page.click("#create-schedule")
    expect(page.locator("#schedule-status")).to_have_text("active")
    expect(page.locator("#schedule-when")).to_contain_text("cron '* * * * *' (Asia/Tokyo)")
    started_by = datetime.now(UTC) + timedelta(seconds=90)

    def a_run_started() -> bool:
        page.reload()
        return page.locator("#runs td", has_text="started").count() > 0

    wait_until(a_run_started, (started_by - datetime.now(UTC)).total_seconds(),
               "the dispatcher to start a run", interval_s=2.0)
    expect(page.locator("#runs")).to_contain_text("minutely-")
    # a run is shown in the schedule's zone, as its next run and its skill's name are
    expect(page.locator("#runs tbody td").first).to_contain_text("JST")
    shoot(page, "schedule")
    page.click("#pause-schedule")
    expect(page.locator("#schedule-status")).to_have_text("paused")
    page.click("#delete-schedule")
    expect(page.locator("#schedules")).to_have_count(0)
