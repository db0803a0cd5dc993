"""Who opens what: roles nest (admin > supervisor > agent); another business unit's objects
answer 404 as if they did not exist, also to an admin typing their URL."""

from __future__ import annotations

from playwright.sync_api import expect

from proactive_sms.services import console_users


def test_an_agent_opening_a_supervisor_or_admin_page_gets_403(browser, console, login):
    page = login(browser, console, "agent")
    expect(page).to_have_url(console.url + "/workspace")  # an agent's home
    expect(page.locator("nav.nav").get_by_role("link", name="Dashboard")).to_have_count(0)
    for path in ("/users", "/audit"):
        answer = page.goto(console.url + path)
        assert answer.status == 403
        expect(page.locator("h1")).to_have_text("Not allowed")
        expect(page.locator("main")).to_contain_text("Your role (agent) does not open this page")


def test_a_supervisor_opening_an_admin_page_gets_403_and_an_admin_opens_supervisor_pages(
        browser, console, login):
    supervisor = login(browser, console, "supervisor")
    assert supervisor.goto(console.url + "/users").status == 403
    admin = login(browser, console, "admin")
    assert admin.goto(console.url + "/").status == 200
    expect(admin.locator("h1")).to_have_text("Dashboard")


def test_a_user_of_one_unit_requesting_another_units_url_gets_404_and_changes_nothing(
        browser, console, login):
    console.make_user("support-lead", "admin", bu="support")
    page = login(browser, console, "admin")  # an admin of sales
    answer = page.goto(console.url + "/users/support-lead")
    assert answer.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    for action in ("disable", "password"):
        refused = page.request.post(f"{console.url}/users/support-lead/{action}",
                                    form={"csrf_token": token}, max_redirects=0)
        assert refused.status == 404
    support = console_users.get_user(console.engine, console.bu("support"), "support-lead")
    assert support.disabled_at is None and support.password_changed_at == support.created_at
    # The same URL of one's own unit opens.
    assert page.goto(f"{console.url}/users/{page.username}").status == 200


def test_an_unknown_page_answers_the_404_page_while_the_api_keeps_problem_json(
        browser, console, login):
    page = login(browser, console, "supervisor")
    answer = page.goto(console.url + "/no-such-page")
    assert answer.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator(".who-name")).to_have_text(page.username)  # in the layout
    api = page.request.get(console.url + "/v1/registrations")
    assert api.status == 401 and api.headers["content-type"] == "application/problem+json"
    headers = answer.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"
    assert "script-src 'self'" in headers["content-security-policy"]
