"""The unit's settings page, in Chromium against `psms serve`: an admin reaches it from the
navigation and sets the short link domain with the API's checks and messages (a refused domain
changes nothing); a supervisor neither sees nor opens it, nor can post to it."""

from __future__ import annotations

from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, api_keys, audit


def link_domain(console) -> str | None:
    return administration.business_unit(console.engine, "sales").link_domain


def test_an_admin_sets_and_clears_the_link_domain_with_the_apis_messages(
        browser, console, login, shoot):
    page = login(browser, console, "admin")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("nav.nav").get_by_role("link", name="Unit settings").click()
    expect(page).to_have_url(console.url + "/business-unit")
    expect(page.locator("#link-domain-now")).to_contain_text("off")

    page.fill("#f-link_domain", "https://go.example.com/offers")
    page.click("#save-link-domain")
    expect(page.locator("#e-link_domain")).to_be_visible()
    shown = page.locator("#e-link_domain").inner_text()
    key = api_keys.create(console.engine, console.bu(), SystemClock(), "settings-check").secret
    api = page.request.patch(console.url + "/v1/business-unit",
                             headers={"Authorization": f"Bearer {key}"},
                             data={"link_domain": "https://go.example.com/offers"})
    assert api.status == 422
    assert api.json()["errors"] == [{"field": "link_domain", "reason": shown}]
    assert "host name only" in shown
    expect(page.locator("#f-link_domain")).to_have_value("https://go.example.com/offers")
    assert link_domain(console) is None  # refused: nothing changed

    page.fill("#f-link_domain", "Go.Example.com")
    page.click("#save-link-domain")
    expect(page.locator(".flash-success")).to_contain_text(
        "Link domain set to https://go.example.com")
    expect(page.locator("#link-domain-now")).to_contain_text("https://go.example.com")
    assert link_domain(console) == "https://go.example.com"
    (entry,) = audit.entries(console.engine, console.bu(),
                             action="business_unit.link_domain").entries
    assert entry.username == page.username
    shoot(page, "business-unit")

    page.click("#clear-link-domain")
    expect(page.locator("#link-domain-now")).to_contain_text("off")
    assert link_domain(console) is None


def test_a_supervisor_has_no_settings_page(browser, console, login):
    page = login(browser, console, "supervisor")
    nav = page.locator("nav.nav")
    expect(nav.get_by_role("link", name="Dashboard")).to_have_count(1)
    expect(nav.get_by_role("link", name="Unit settings")).to_have_count(0)
    assert page.goto(console.url + "/business-unit").status == 403
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = page.request.post(console.url + "/business-unit/link-domain",
                                form={"csrf_token": token, "link_domain": "go.evil.example"},
                                max_redirects=0)
    assert refused.status == 403
    assert link_domain(console) is None
