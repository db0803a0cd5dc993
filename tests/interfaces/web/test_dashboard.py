"""The dashboard and a skill's report page, in Chromium against `psms serve` and the simulator:
counters that move by themselves while a skill sends, the report showing it delivered with its
CSV export, and pause/resume/stop asked for and confirmed (and audited)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, audit
from tests.factories import person, us_number
from tests.interfaces.web.conftest import wait_until

SLOW_CODES = {8: "55508", 1: "55511"}  # texts per second -> a code of that limit


def _skill(console, name: str, count: int, start: int, rate_per_s: int,
           skipped: int = 0) -> None:
    """A launched skill of `count` records (the last `skipped` of them on the DNC list), sending
    through the console's dispatcher on a code of `rate_per_s`, at any hour."""
    unit = console.bu()
    code = SLOW_CODES[rate_per_s]
    if code not in {r.code for r in administration.list_registrations(console.engine, unit)}:
        console.add_code(code, rate_per_s)
    console.import_people(name, [person(i, PhoneNumber=us_number(i, "646"))
                                 for i in range(start, start + count)])
    if skipped:
        administration.dnc_add(console.engine, unit, SystemClock(),
                               ["+1" + us_number(i, "646")
                                for i in range(start + count - skipped, start + count)])
    console.start_skill(name, name, "Hi {FirstName}, a bonus shift is open tonight.",
                        registration=code,
                        calling_window={"weekday": "00:00-24:00", "weekend": "00:00-24:00"})


def _number(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text.split("\n")[0]) or 0)


def test_the_counters_move_while_a_skill_sends_and_the_report_shows_it_delivered(
        browser, console, login, shoot):
    page = login(browser, console)
    _skill(console, "bonus-shift", 120, start=0, rate_per_s=8, skipped=3)
    page.goto(console.url + "/")
    row = page.locator("tr[data-skill='bonus-shift']")
    expect(row).to_be_visible()
    expect(page.locator("#live-state.on")).to_be_visible()  # the event stream is open
    # A marker that a reload would lose: the figures below change without one.
    page.evaluate("window.__not_reloaded = true")
    delivered = row.locator("[data-field=delivered]")
    first = _number(delivered.inner_text())
    wait_until(lambda: _number(delivered.inner_text()) > first + 10, 30,
               "the delivered counter to move")
    assert page.evaluate("window.__not_reloaded") is True
    expect(row.locator("[data-field=skipped]")).to_contain_text("dnc 3")
    expect(row.locator("[data-field=rate]")).to_contain_text("/ 8 per s")
    assert _number(row.locator("[data-field=pending]").inner_text()) > 0
    page.wait_for_function(  # the chart got the minute's texts
        "() => JSON.parse(document.getElementById('chart-data').dataset.chart)"
        ".sent.some(n => n > 0)")
    expect(page.locator("#chart canvas")).to_be_visible()
    shoot(page, "dashboard")

    # Once every text is delivered the skill is finished, and leaves the dashboard.
    expect(row).to_have_count(0, timeout=60_000)
    page.click("text=Dashboard")
    page.goto(console.url + "/skills/bonus-shift/report")
    expect(page.locator("#status")).to_have_text("finished")
    funnel = page.locator("#funnel")
    expect(funnel.locator("[data-stage=records]")).to_have_text("120")
    expect(funnel.locator("[data-stage=decided]")).to_have_text("120")
    expect(funnel.locator("[data-stage=skipped]")).to_have_text("3")
    expect(funnel.locator("[data-stage=sent]")).to_have_text("117")
    expect(funnel.locator("[data-stage=delivered]")).to_have_text("117")
    expect(page.locator("#delivery-rate")).to_have_text("100.0%")
    expect(page.locator("#skips")).to_contain_text("dnc")
    expect(page.locator("#throughput")).to_contain_text("/s")
    shoot(page, "report")
    with page.expect_download() as download:
        page.click("text=Export CSV")
    csv_text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "state,skip_reason,messages" in csv_text
    assert "delivered,,117" in csv_text and "skipped,dnc,3" in csv_text


def test_pause_resume_and_stop_are_confirmed_first_and_audited(browser, console, login):
    page = login(browser, console)
    _skill(console, "slow-notice", 60, start=1000, rate_per_s=1)
    page.goto(console.url + "/")
    row = page.locator("tr[data-skill='slow-notice']")
    expect(row.locator(".badge")).to_have_text("running")

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="Pause").click()
    wait_until(lambda: questions, 10, "the confirmation")
    assert "Pause skill slow-notice?" in questions[0]
    page.wait_for_timeout(500)  # a refused confirmation sends nothing
    expect(row.locator(".badge")).to_have_text("running")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Pause").click()
    expect(page.locator(".flash-success")).to_have_text("Skill slow-notice paused.")
    expect(row.locator(".badge")).to_have_text("paused")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Resume").click()
    expect(page.locator(".flash-success")).to_have_text("Skill slow-notice resumed.")
    expect(row.locator(".badge")).to_have_text("running")

    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Stop").click()
    expect(page.locator(".flash-success")).to_contain_text("Skill slow-notice stopped.")
    assert "pending text(s) will be cancelled" in questions[-1]
    expect(row).to_have_count(0)  # a stopped skill is no longer live

    unit = console.bu()
    logged = [(e.username, e.action, e.target)
              for e in audit.entries(console.engine, unit, action="skill").entries]
    for action in ("skill.paused", "skill.resumed", "skill.stopped"):
        assert (page.username, action, "slow-notice") in logged


def test_another_units_or_an_unknown_skill_has_no_report_and_actions_need_the_token(
        browser, console, login):
    page = login(browser, console)
    page.goto(console.url + "/skills/no-such-skill/report")
    expect(page.locator("h1")).to_have_text("Not found")
    other = login(browser, console, bu="support")
    _skill(console, "sales-only", 2, start=2000, rate_per_s=1)
    other.goto(console.url + "/skills/sales-only/report")
    expect(other.locator("h1")).to_have_text("Not found")
    refused = page.request.post(console.url + "/dashboard/skills/sales-only/stop")
    assert refused.status == 403  # no CSRF token
    answer = other.request.post(console.url + "/dashboard/skills/sales-only/stop",
                                headers={"X-CSRF-Token": other.locator(
                                    "meta[name=csrf-token]").get_attribute("content")})
    assert answer.status == 404  # another unit's skill, even with the token
