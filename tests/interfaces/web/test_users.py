"""The Users page (admins): create with a role and an agent, the password shown once, errors
inline, disable, reset a password."""

from __future__ import annotations

from playwright.sync_api import expect

from proactive_sms.services import console_users
from tests.interfaces.web.conftest import new_page, sign_in


def test_an_admin_creates_an_agent_user_who_then_signs_in_with_the_password_shown_once(
        browser, console, login, shoot):
    console.make_user("agent-owner", "agent", agent="lina")  # makes agent lina of the unit
    page = login(browser, console, "admin")
    page.get_by_role("link", name="Users").click()
    expect(page.locator("h1")).to_have_text("Users")
    page.fill("#f-username", "Lina.Haddad")
    page.select_option("#f-role", "agent")
    page.select_option("#f-agent", "lina")
    page.click("#new-user button[type=submit]")
    expect(page.locator(".flash-success")).to_have_text("User lina.haddad created.")
    password = page.locator("#shown-password .secret").inner_text()
    row = page.locator("#users tr[data-username='lina.haddad']")
    expect(row).to_contain_text("agent")
    expect(row).to_contain_text("lina")
    shoot(page, "users")
    page.goto(console.url + "/users")
    expect(page.locator("#shown-password")).to_have_count(0)  # shown once only

    agent_page = new_page(browser)
    try:
        sign_in(agent_page, console, "lina.haddad", password)
        expect(agent_page.locator(".who-name")).to_have_text("lina.haddad")
        expect(agent_page.locator(".badge-role")).to_have_text("agent")
    finally:
        agent_page.context.close()


def test_a_refused_user_shows_the_field_and_the_reason_inline(browser, console, login):
    page = login(browser, console, "admin")
    page.goto(console.url + "/users")
    page.fill("#f-username", "short-pw")
    page.fill("#f-password", "tooshort")
    page.click("#new-user button[type=submit]")
    expect(page.locator("#e-password")).to_have_text("must be at least 12 characters")
    expect(page.locator("#f-username")).to_have_value("short-pw")
    page.fill("#f-password", "")
    page.select_option("#f-role", "agent")
    page.click("#new-user button[type=submit]")
    expect(page.locator("#e-agent")).to_have_text("an agent user must name their agent")
    page.select_option("#f-role", "supervisor")
    page.fill("#f-username", page.username)  # the admin's own name: taken
    page.click("#new-user button[type=submit]")
    expect(page.locator("#e-username")).to_contain_text("is taken")


def test_disabling_a_user_from_the_page_signs_them_out_and_resetting_gives_a_new_password(
        browser, console, login):
    password = console.make_user("temp-worker", "supervisor")
    worker = login(browser, console, username="temp-worker", password=password)
    admin = login(browser, console, "admin")
    admin.goto(console.url + "/users")
    row = admin.locator("#users tr[data-username='temp-worker']")
    # htmx swaps the row in place: the page is not reloaded (the marker survives), and the
    # CSRF token travels in htmx's header alone (the form's own field is removed first).
    admin.evaluate("window.notReloaded = true")
    row.locator("input[name=csrf_token]").evaluate_all("inputs => inputs.forEach(i => i.remove())")
    admin.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disable").click()
    expect(row.locator(".badge-disabled")).to_have_text("disabled")
    assert admin.evaluate("window.notReloaded") is True
    worker.goto(console.url + "/")
    expect(worker).to_have_url(console.url + "/login")

    row.get_by_role("button", name="Enable").click()
    expect(row.locator(".badge-active")).to_have_text("active")
    admin.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Reset password").click()
    new_password = admin.locator("#shown-password .secret").inner_text()
    assert new_password != password
    sign_in(worker, console, "temp-worker", new_password)
    expect(worker.locator(".who-name")).to_have_text("temp-worker")


def test_an_htmx_action_after_the_session_ended_leads_to_the_sign_in_page(browser, console,
                                                                          login):
    console.make_user("some-worker", "supervisor")
    admin = login(browser, console, "admin")
    admin.goto(console.url + "/users")
    row = admin.locator("#users tr[data-username='some-worker']")
    expect(row).to_be_visible()
    other = login(browser, console, username=admin.username,
                  password=admin.password)
    other.goto(console.url + "/account")
    other.once("dialog", lambda dialog: dialog.accept())
    other.get_by_role("button", name="Log out everywhere").click()
    expect(other).to_have_url(console.url + "/login")
    admin.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disable").click()
    expect(admin).to_have_url(console.url + "/login")
    assert console_users.get_user(console.engine, console.bu(), "some-worker").disabled_at \
        is None
