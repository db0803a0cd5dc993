"""Spend in the console, in Chromium against `psms serve`: an admin prices a transport code (a
bad price refused inline), a supervisor gives a skill a budget, sees the start refused with the
figures, sees what it spent, and sees why the system paused it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, code_prices
from proactive_sms.store import skills as skill_store
from tests.factories import person
from tests.interfaces.web.conftest import CODE

HELD_CODE = "55508"


@pytest.fixture(scope="module")
def unit(console):
    console.import_people("staff", [person(i + 40) for i in range(4)])
    return console.bu()


def test_an_admin_prices_a_code_per_segment_and_per_country(console, browser, login, unit):
    page = login(browser, console, "admin")
    page.goto(f"{console.url}/registrations/{CODE}")
    expect(page.locator("#price-summary")).to_contain_text("Not priced")
    page.fill("#price", "0.0000001")
    page.fill("#currency", "USD")
    page.get_by_role("button", name="Set price").click()
    expect(page.locator("#price-form .error")).to_contain_text("more than six decimal places")
    page.fill("#price", "0.0079")
    page.get_by_role("button", name="Set price").click()
    expect(page.locator(".flash-success")).to_contain_text("0.0079 USD a segment")
    page.fill("#price", "0.011")
    page.fill("#country", "ca")
    page.get_by_role("button", name="Set price").click()
    expect(page.locator("#country-prices tr[data-country=CA]")).to_contain_text("0.011 USD")
    page.goto(f"{console.url}/registrations")
    expect(page.locator(f"tr[data-code='{CODE}']")).to_contain_text(
        "0.0079 USD a segment; CA 0.011")


def test_a_skills_budget_refuses_a_start_and_its_pause_says_why(console, browser, login, unit):
    clock = SystemClock()
    page = login(browser, console)
    page.on("dialog", lambda dialog: dialog.accept())
    # Its code's only connection refuses our bind, so the skill's texts wait and it is still
    # running when the system pauses it below (through the simulator, `psms serve`'s dispatcher
    # could send all four and end it first).
    console.add_refusing_connection("refusing")
    console.add_code(HELD_CODE, 10, connection="refusing")
    administration.create_skill(console.engine, unit, clock, name="budgeted",
                                registration=HELD_CODE, calling_list="staff",
                                message_text="Lobby closed today.")
    code_prices.set_price(console.engine, unit, clock, HELD_CODE, "0.01", "USD")
    page.goto(f"{console.url}/skills/budgeted")
    page.fill("#f-budget", "0.03")
    page.click("#save-button")
    expect(page.locator(".flash-success")).to_contain_text("Settings saved")
    page.click("#start-button")
    expect(page.locator("#start-error")).to_have_text(
        "starting skill 'budgeted' would cost 0.04 USD, more than its budget of 0.03 USD")
    expect(page.locator("#skill-status")).to_have_text("draft")

    page.fill("#f-budget", "0.04")
    page.click("#save-button")
    page.click("#start-button")
    expect(page.locator("#skill-spend")).to_contain_text("of a budget of 0.04 USD")
    # The dispatcher pauses a skill whose budget is reached; the page says why.
    found = administration.find_skill(console.engine, unit, "budgeted")
    with console.engine.begin() as conn:
        assert skill_store.pause_with_reason(conn, found.id, "budget reached: spent 0.04 USD of "
                                                            "its budget of 0.04 USD")
    page.goto(f"{console.url}/skills/budgeted")
    expect(page.locator("#skill-status")).to_have_text("paused")
    expect(page.locator("#pause-reason")).to_contain_text("budget reached: spent 0.04 USD")
