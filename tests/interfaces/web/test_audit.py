"""The Audit page (admins): sign-ins, sign-outs and user changes, who and when, filtered by user
and action, a page at a time."""

from __future__ import annotations

from playwright.sync_api import expect

from proactive_sms.services import audit
from tests.interfaces.web.conftest import new_page, sign_in


def test_the_audit_shows_logins_and_user_changes_filtered_by_user_and_action(
        browser, console, login, shoot):
    password = console.make_user("audited", "supervisor")
    visitor = new_page(browser)
    try:
        visitor.goto(console.url + "/login")
        visitor.fill("#f-username", "audited")
        visitor.fill("#f-password", "a wrong password!")
        visitor.click("button[type=submit]")
        expect(visitor.locator("#login-error")).to_be_visible()
        sign_in(visitor, console, "audited", password)
        visitor.get_by_role("button", name="Log out").click()
        expect(visitor).to_have_url(console.url + "/login")
    finally:
        visitor.context.close()
    console.psms("user", "disable", "audited")

    page = login(browser, console, "admin")
    page.get_by_role("link", name="Audit").click()
    table = page.locator("#audit")
    expect(table).to_contain_text("user.disabled")
    page.select_option("#f-user", "audited")
    page.click("#audit-filters button[type=submit]")
    rows = table.locator("tbody tr")
    # newest first: the logout, the login, the failed login (user.disabled was by the CLI)
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("logout")
    expect(rows.nth(1)).to_contain_text("login")
    expect(rows.nth(2)).to_contain_text("login.failed")
    expect(rows.nth(2)).to_contain_text("wrong password")
    page.select_option("#f-user", "")
    page.select_option("#f-action", "user.disabled")
    page.click("#audit-filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text(audit.CLI_USERNAME)
    expect(rows.nth(0)).to_contain_text("audited")
    page.select_option("#f-action", "")
    page.click("#audit-filters button[type=submit]")
    shoot(page, "audit")


def test_the_audit_is_paginated_newest_first(browser, console, login):
    unit = console.bu()
    for number in range(audit.PAGE_SIZE + 5):
        audit.record(console.engine, None, "test.paged", f"item-{number:03d}", bu=unit)
    page = login(browser, console, "admin")
    page.goto(console.url + "/audit?action=test.paged")
    rows = page.locator("#audit tbody tr")
    expect(rows).to_have_count(audit.PAGE_SIZE)
    expect(rows.nth(0)).to_contain_text(f"item-{audit.PAGE_SIZE + 4:03d}")
    page.get_by_role("link", name="Older →").click()
    expect(rows).to_have_count(5)
    expect(rows.nth(4)).to_contain_text("item-000")
    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")
