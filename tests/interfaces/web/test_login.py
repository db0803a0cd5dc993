"""Signing in and out of the console, sessions and their expiry, CSRF and throttling, in
Chromium against `psms serve`."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from proactive_sms.services import console_users
from tests.interfaces.web.conftest import new_page, sign_in


def _attempt(page, console, username: str, password: str) -> None:
    page.goto(f"{console.url}/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_a_supervisor_signs_in_and_sees_the_layout_with_the_pages_of_their_role(
        browser, console, shoot):
    password = console.make_user("maria", "supervisor")
    page = new_page(browser)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
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
        # htmx and its SSE extension loaded from /static under the CSP, configured by the meta
        # tag (no inline indicator styles, no eval), and nothing was refused by the CSP.
        assert page.evaluate("htmx.config.includeIndicatorStyles") is False
        assert page.evaluate("htmx.config.allowEval") is False
        assert page.evaluate("typeof htmx.ext === 'undefined' || true")
        assert not [p for p in problems if "Content Security Policy" in p], problems
    finally:
        page.context.close()


def test_a_wrong_password_is_refused_with_a_message_that_does_not_tell_if_the_user_exists(
        browser, console):
    console.make_user("wrong-pw", "supervisor")
    page = new_page(browser)
    try:
        _attempt(page, console, "wrong-pw", "not the password at all")
        expect(page.locator("#login-error")).to_have_text(console_users.WRONG_CREDENTIALS)
        expect(page.locator("#f-username")).to_have_value("wrong-pw")  # kept, for a retry
        _attempt(page, console, "nobody-by-that-name", "not the password at all")
        expect(page.locator("#login-error")).to_have_text(console_users.WRONG_CREDENTIALS)
        page.goto(console.url + "/")
        expect(page).to_have_url(console.url + "/login")
    finally:
        page.context.close()


def test_five_wrong_passwords_lock_the_account_even_against_the_right_password(
        browser, console):
    password = console.make_user("guessed", "supervisor")
    page = new_page(browser)
    try:
        for _ in range(4):
            _attempt(page, console, "guessed", "wrong password 123")
            expect(page.locator("#login-error")).to_have_text(console_users.WRONG_CREDENTIALS)
        _attempt(page, console, "guessed", "wrong password 123")  # the fifth locks it
        expect(page.locator("#login-error")).to_contain_text("Too many failed sign-ins")
        expect(page.locator("#login-error")).to_contain_text("Try again in 1 minute")
        _attempt(page, console, "guessed", password)  # the right one: still refused
        expect(page.locator("#login-error")).to_contain_text("Too many failed sign-ins")
        page.goto(console.url + "/")
        expect(page).to_have_url(console.url + "/login")
        # An unknown username answers the same, so the lock tells nothing about who exists.
        for _ in range(5):
            _attempt(page, console, "never-existed", "wrong password 123")
        expect(page.locator("#login-error")).to_contain_text("Too many failed sign-ins")
    finally:
        page.context.close()


def test_logging_out_ends_the_session_and_its_cookie_opens_nothing_after(browser, console,
                                                                        login):
    page = login(browser, console, "supervisor")
    cookie = next(c for c in page.context.cookies() if c["name"] == "psms_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(console.url + "/login")
    expect(page.locator(".flash-info")).to_have_text("You are signed out.")
    # The old token, replayed, is no session any more.
    replay = new_page(browser)
    try:
        replay.context.add_cookies([{**cookie}])
        replay.goto(console.url + "/")
        expect(replay).to_have_url(console.url + "/login")
    finally:
        replay.context.close()


def test_signing_in_rotates_the_token_and_ends_the_session_the_browser_held(browser, console):
    password = console.make_user("rotating", "supervisor")
    page = new_page(browser)
    try:
        # A token planted before signing in (session fixation) never becomes a session.
        page.context.add_cookies([{"name": "psms_session", "value": "planted-by-someone",
                                   "url": console.url}])
        sign_in(page, console, "rotating", password)
        first = next(c for c in page.context.cookies() if c["name"] == "psms_session")
        assert first["value"] != "planted-by-someone"
        # Signing in again from a browser that holds a session: a new token, the old one ends.
        token = page.locator("meta[name=csrf-token]").get_attribute("content")
        answer = page.request.post(console.url + "/login", max_redirects=0, form={
            "username": "rotating", "password": password, "csrf_token": token})
        assert answer.status == 303
        second = next(c for c in page.context.cookies() if c["name"] == "psms_session")
        assert second["value"] != first["value"]
        page.goto(console.url + "/")
        expect(page.locator("h1")).to_have_text("Dashboard")
        replay = new_page(browser)
        replay.context.add_cookies([first])
        replay.goto(console.url + "/")
        expect(replay).to_have_url(console.url + "/login")  # the first token opens nothing
        replay.context.close()
    finally:
        page.context.close()


def test_log_out_everywhere_ends_every_session_of_the_user(browser, console, login):
    password = console.make_user("everywhere", "supervisor")
    office = login(browser, console, username="everywhere", password=password)
    home = login(browser, console, username="everywhere", password=password)
    office.goto(console.url + "/account")
    expect(office.locator("table.table tbody tr")).to_have_count(2)
    office.once("dialog", lambda dialog: dialog.accept())
    office.get_by_role("button", name="Log out everywhere").click()
    expect(office).to_have_url(console.url + "/login")
    expect(office.locator(".flash-info")).to_contain_text("2 sessions ended")
    home.goto(console.url + "/")
    expect(home).to_have_url(console.url + "/login")


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(browser, console, login):
    page = login(browser, console, "admin")
    url = console.url + "/users"
    for headers, form in (({}, {"username": "forged-1", "role": "supervisor"}),
                          ({}, {"username": "forged-2", "role": "supervisor",
                                "csrf_token": "not-the-token"}),
                          ({"X-CSRF-Token": "not-the-token"},
                           {"username": "forged-3", "role": "supervisor"})):
        answer = page.request.post(url, form=form, headers=headers, max_redirects=0)
        assert answer.status == 403
        assert "security token" in answer.text()
    unit = console.bu()
    names = {user.username for user in console_users.list_users(console.engine, unit)}
    assert not names & {"forged-1", "forged-2", "forged-3"}
    # The session is untouched and the form, with its token, works.
    page.goto(url)
    page.fill("#f-username", "made-with-token")
    page.click("#new-user button[type=submit]")
    expect(page.locator("#users")).to_contain_text("made-with-token")


def test_a_disabled_user_is_signed_out_at_once_and_cannot_sign_in(browser, console, login):
    password = console.make_user("leaver", "supervisor")
    page = login(browser, console, username="leaver", password=password)
    console.psms("user", "disable", "leaver")
    page.goto(console.url + "/")
    expect(page).to_have_url(console.url + "/login")
    _attempt(page, console, "leaver", password)
    expect(page.locator("#login-error")).to_have_text(console_users.WRONG_CREDENTIALS)


def test_an_idle_session_expires_while_an_active_one_lives_on(browser, console, login):
    idle_url = console.serve("serve-idle", PSMS_CONSOLE_IDLE_MINUTES="0.1")  # 6 seconds
    password = console.make_user("idler", "supervisor")
    page = new_page(browser)
    try:
        page.goto(idle_url + "/login")
        page.fill("#f-username", "idler")
        page.fill("#f-password", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        expect(page).to_have_url(idle_url + "/")
        for _ in range(8):  # 8 s of activity, a request every second: longer than the idle time
            time.sleep(1)
            page.goto(idle_url + "/account")
            expect(page.locator("h1")).to_have_text("Your account")
        time.sleep(8)  # idle past 6 s
        page.goto(idle_url + "/account")
        expect(page).to_have_url(idle_url + "/login?next=/account")
    finally:
        page.context.close()


def test_a_user_changes_their_password_on_the_account_page_and_their_other_sessions_end(
        browser, console, login, shoot):
    password = console.make_user("changer", "agent", agent="changer")
    elsewhere = login(browser, console, username="changer", password=password)
    page = login(browser, console, username="changer", password=password)
    page.goto(console.url + "/account")
    page.fill("#f-current_password", "not my password")
    page.fill("#f-new_password", "a brand new password")
    page.fill("#f-repeat_password", "a brand new password")
    page.click("#change-password button[type=submit]")
    expect(page.locator("#e-current_password")).to_have_text("is not your password")
    page.fill("#f-current_password", password)
    page.fill("#f-new_password", "a brand new password")
    page.fill("#f-repeat_password", "a different one!!")
    page.click("#change-password button[type=submit]")
    expect(page.locator("#e-repeat_password")).to_have_text("does not match the new password")
    shoot(page, "account")
    page.fill("#f-current_password", password)
    page.fill("#f-new_password", "a brand new password")
    page.fill("#f-repeat_password", "a brand new password")
    page.click("#change-password button[type=submit]")
    expect(page.locator(".flash-success")).to_have_text(
        "Your password is changed; 1 other session(s) ended.")
    elsewhere.goto(console.url + "/account")
    expect(elsewhere).to_have_url(console.url + "/login?next=/account")
    sign_in(elsewhere, console, "changer", "a brand new password")
    expect(elsewhere.locator(".who-name")).to_have_text("changer")
