"""An HTTP provider connection from the console: added with its settings checked inline, its
token never shown, its callback URLs shown to give the provider, and bound (the provider took
its credentials) once a code sends through it."""

from __future__ import annotations

from playwright.sync_api import expect

from proactive_sms.carriers.provider_sim import ProviderSimConfig, ProviderSimulator
from proactive_sms.services import administration

SID, TOKEN = "AC" + "4" * 32, "console-token"


def test_an_admin_adds_an_http_provider_and_sees_it_bound(console, browser, login):
    sim = ProviderSimulator(ProviderSimConfig(account_sid=SID, auth_token=TOKEN))
    sim.start_in_thread()
    try:
        page = login(browser, console, "admin")
        page.goto(f"{console.url}/connections")
        page.get_by_role("link", name="Add HTTP provider").click()
        page.fill("#name", "twilio")
        page.fill("#account", SID)
        page.fill("#token", TOKEN)
        page.fill("#base_url", sim.base_url)
        page.fill("#callback_url", "ftp://psms.example.com")
        page.get_by_role("button", name="Add connection").click()
        expect(page.locator("#callback_url ~ .error")).to_contain_text("http(s) URL")
        page.fill("#callback_url", "https://psms.example.com")
        page.fill("#token", TOKEN)  # a password field is not sent back
        page.get_by_role("button", name="Add connection").click()
        expect(page.locator(".flash-success")).to_contain_text("Connection twilio added")
        row = page.locator("tr[data-connection=twilio]")
        expect(row).to_contain_text(SID)
        expect(row).to_contain_text(f"twilio at {sim.base_url}")

        row.get_by_role("link", name="Edit").click()
        expect(page.locator("#token")).to_have_value("")
        assert TOKEN not in page.content()
        connection_id = administration.find_connection(
            console.engine, console.bu(), "twilio").id
        expect(page.locator("#callback-urls")).to_contain_text(
            f"https://psms.example.com/carrier-callbacks/{connection_id}/inbound")
        page.fill("#window_size", "25")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".flash-success")).to_contain_text("Connection twilio saved")
        unit = console.bu()
        kept = administration.find_connection(console.engine, unit, "twilio")
        assert (kept.window_size, kept.password) == (25, TOKEN)  # empty kept the token

        # A code sends through it: psms serve's dispatcher checks the account with the provider.
        console.add_code("55509", 10, connection="twilio")
        page.goto(f"{console.url}/connections")
        expect(page.locator("tr[data-connection=twilio] [data-state]")).to_have_text(
            "bound", timeout=30_000)
    finally:
        sim.stop()


def test_an_admin_adds_a_vonage_connection_with_its_signature_secret(console, browser, login):
    from proactive_sms.carriers.http.vonage import split_secrets

    page = login(browser, console, "admin")
    page.goto(f"{console.url}/connections/new-http")
    page.select_option("#provider", "vonage")
    page.fill("#name", "vonage")
    page.fill("#account", "abcd1234")
    page.fill("#token", "api-secret")
    page.fill("#callback_url", "https://psms.example.com")
    page.get_by_role("button", name="Add connection").click()
    expect(page.locator("#signature_secret ~ .error")).to_contain_text("signature secret")
    page.fill("#token", "api-secret")
    page.fill("#signature_secret", "sig-secret")
    page.get_by_role("button", name="Add connection").click()
    expect(page.locator(".flash-success")).to_contain_text("Connection vonage added")
    expect(page.locator("tr[data-connection=vonage]")).to_contain_text(
        "vonage at https://rest.nexmo.com")
    unit = console.bu()
    found = administration.find_connection(console.engine, unit, "vonage")
    assert split_secrets(found.password) == ("api-secret", "sig-secret")

    page.locator("tr[data-connection=vonage]").get_by_role("link", name="Edit").click()
    assert "sig-secret" not in page.content() and "api-secret" not in page.content()
    page.fill("#signature_secret", "rotated")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Connection vonage saved")
    found = administration.find_connection(console.engine, unit, "vonage")
    assert split_secrets(found.password) == ("api-secret", "rotated")  # the API secret kept
