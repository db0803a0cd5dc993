"""Signing in and out of the console, in Chromium against `psms serve`."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.interfaces.web.conftest import new_page, sign_in


def test_a_supervisor_signs_in_and_sees_the_layout_with_the_pages_of_their_role(
        browser, console, shoot):
    password = console.make_user("maria", "supervisor")
    page = new_page(browser)
    try:
        page.goto(console.url + "/")
        expect(page).to_have_url(console.url + "/login")  # not signed in: sent to sign in
        expect(page.locator("h1")).to_have_text("Sign in")
        page.fill("#f-username", "maria")
        shoot(page, "login")
        sign_in(page, console, "maria", password)
        expect(page).to_have_url(console.url + "/")
        expect(page.locator("h1")).to_have_text("Dashboard")
        expect(page.locator(".who-name")).to_have_text("maria")
        expect(page.locator(".badge-role")).to_have_text("supervisor")
        nav = page.locator("nav.nav")
        expect(nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current",
                                                                            "page")
        expect(nav.get_by_role("link", name="Users")).to_have_count(0)  # admins only
        expect(nav.get_by_role("link", name="Audit")).to_have_count(0)
    finally:
        page.context.close()
