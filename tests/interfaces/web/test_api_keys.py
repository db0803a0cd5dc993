"""The API keys page (admins): a key is created with its secret shown once, works against the
API at once, and a revoked key is refused at its next request; supervisors cannot open it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from playwright.sync_api import expect


def _registrations(console, secret: str) -> int:
    request = urllib.request.Request(console.url + "/v1/registrations",
                                     headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            json.load(answer)
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_an_admin_creates_a_key_that_works_and_revokes_it(browser, console, login, shoot):
    page = login(browser, console, "admin")
    page.get_by_role("link", name="API keys").click()
    expect(page.locator("h1")).to_have_text("API keys")
    page.fill("#f-name", "crm-sync")
    page.click("#new-key button[type=submit]")
    expect(page.locator(".flash-success")).to_have_text("API key crm-sync created.")
    secret = page.locator("#shown-secret .secret").inner_text()
    assert secret.startswith("psms_")
    expect(page.locator("#keys tr[data-name='crm-sync']")).to_contain_text("active")
    shoot(page, "api-keys")
    assert _registrations(console, secret) == 200

    page.goto(console.url + "/api-keys")
    expect(page.locator("#shown-secret")).to_have_count(0)  # shown once only
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#keys tr[data-name='crm-sync'] button").click()
    expect(page.locator(".flash-success")).to_contain_text("revoked")
    expect(page.locator("#keys tr[data-name='crm-sync']")).to_contain_text("revoked")
    assert _registrations(console, secret) == 401


def test_a_bad_key_name_is_refused_inline_and_supervisors_cannot_open_the_page(
        browser, console, login):
    page = login(browser, console, "admin")
    page.goto(console.url + "/api-keys")
    page.fill("#f-name", "a/b")
    page.click("#new-key button[type=submit]")
    expect(page.locator("#new-key .error").first).to_contain_text("contains '/'")
    supervisor = login(browser, console, "supervisor")
    assert supervisor.goto(console.url + "/api-keys").status == 403
