"""Transport codes and carrier connections, as an admin sees them in a real browser: the
simulator's connection reads bound (as `psms serve`'s dispatcher reports it), a code's keyword
answers are edited with the API's reasons shown inline, a toll-free code says its answers are
the carrier's, and a connection is added and edited with its password never shown."""

from __future__ import annotations

from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration
from tests.interfaces.web.conftest import CODE


def test_an_admin_sees_the_simulators_connection_bound_and_a_refused_ones_error(
        console, browser, login, shoot):
    page = login(browser, console, "admin")
    page.goto(f"{console.url}/connections")
    row = page.locator("tr[data-connection=sim]")
    expect(row.locator("[data-state]")).to_have_text("bound", timeout=30_000)
    expect(row).to_contain_text(CODE)

    page.get_by_role("link", name="Add connection").click()
    page.fill("#name", "backup")
    page.fill("#host", "127.0.0.1")
    page.fill("#port", "27x5")
    page.fill("#system_id", "psms2")
    page.fill("#password", "toolongpassword")
    page.get_by_role("button", name="Add connection").click()
    expect(page.locator("#port ~ .error")).to_contain_text("whole number")
    unit = console.bu()
    sim_port = administration.find_connection(console.engine, unit, "sim").port
    page.fill("#port", str(sim_port))
    page.fill("#system_id", "psms")
    page.fill("#password", "toolongpassword")
    page.get_by_role("button", name="Add connection").click()
    expect(page.locator("#password ~ .error")).to_contain_text("at most 8 characters")
    page.fill("#password", "wrong1")  # the simulator's account is psms/secret
    page.get_by_role("button", name="Add connection").click()
    expect(page.locator(".flash-success")).to_contain_text("Connection backup added")
    backup = page.locator("tr[data-connection=backup]")
    expect(backup.locator("[data-state]")).to_have_text("no report")  # no code uses it yet

    # A code that sends through it: the dispatcher tries, the SMSC refuses the bind.
    console.add_code("55502", 10, connection="backup")
    expect(backup).to_contain_text("ESME_RINVPASWD", timeout=30_000)  # refreshed live
    expect(backup.locator("[data-state]")).to_have_text("unbound")
    page.goto(f"{console.url}/connections")
    expect(backup).to_contain_text("ESME_RINVPASWD")
    shoot(page, "connections")

    backup.get_by_role("link", name="Edit").click()
    expect(page.locator("#password")).to_have_value("")  # write-only
    assert "wrong1" not in page.content()
    page.fill("#window_size", "20")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-connection=backup]")).to_contain_text("20")
    kept = administration.find_connection(console.engine, unit, "backup")
    assert (kept.window_size, kept.password) == (20, "wrong1")  # empty kept the password


def test_an_admin_edits_a_codes_keyword_answers_and_sees_toll_free_ones_are_the_carriers(
        console, browser, login, shoot):
    unit = console.bu()
    administration.add_registration(console.engine, unit, SystemClock(), code="8005550123",
                                    kind="toll_free", throughput_per_s=3, connection="sim",
                                    dnc_group="tollfree-optouts")
    page = login(browser, console, "admin")
    page.goto(f"{console.url}/registrations")
    row = page.locator(f"tr[data-code='{CODE}']")
    expect(row).to_contain_text("short")
    expect(row).to_contain_text("100 segments/s")
    expect(row).to_contain_text("sim")
    expect(row).to_contain_text("sms messaging")
    toll_free = page.locator("tr[data-code='+18005550123']")
    expect(toll_free).to_contain_text("tollfree-optouts")
    expect(toll_free).to_contain_text("carrier's own")

    row.get_by_role("link", name="Keywords & answers").click()
    page.fill("#sender_name", "Acme Sales")
    page.fill("#contact", "800-555-0100")
    page.fill("#help_text", "Acme: call 800-555-0100 for help.")
    page.fill("#extra_opt_out", "توقف, ARRET")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#help_text ~ .error")).to_contain_text("must say how to stop")
    page.fill("#help_text", "Acme: call 800-555-0100 for help. Reply STOP to opt out.")
    page.fill("#extra_opt_in", "stop")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#extra_opt_in ~ .error")).to_contain_text("already reads as opt_out")
    page.fill("#extra_opt_in", "")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("saved")
    expect(page.locator("#extra_opt_out")).to_have_value("توقف, ARRET")
    assert page.locator("#extra_opt_out").get_attribute("dir") == "auto"
    page.goto(f"{console.url}/registrations")
    expect(row).to_contain_text("Reply STOP to opt out")
    expect(row).to_contain_text("توقف")
    shoot(page, "registrations")

    page.goto(f"{console.url}/registrations/+18005550123")
    expect(page.locator("#toll-free-note")).to_contain_text("cannot be set")
    expect(page.locator("#help_text")).to_have_count(0)


def test_an_admin_sees_a_codes_connections_in_order_the_carrying_one_and_an_open_breaker(
        console, browser, login):
    # A code whose fallback refuses our bind: the dispatcher of `psms serve` carries its texts
    # through the simulator and opens the fallback's breaker.
    unit = console.bu()
    console.add_refusing_connection("refusing")
    administration.add_registration(console.engine, unit, SystemClock(), code="55509",
                                    kind="short", throughput_per_s=10, connection=None,
                                    dnc_group=None, connections=["sim", "refusing"])
    page = login(browser, console, "admin")
    row = page.locator("tr[data-code='55509']")
    for _ in range(60):  # the list is drawn once: look again until the dispatcher has said
        page.goto(f"{console.url}/registrations")
        if "breaker open" in (row.text_content() or ""):
            break
        page.wait_for_timeout(500)
    expect(row.locator("li[data-connection=sim]")).to_contain_text("carrying")
    expect(row.locator("li[data-connection=refusing]")).to_contain_text(
        "breaker open: bind refused")
    assert row.locator("li").all_text_contents()[0].strip().startswith("sim")

    page.goto(f"{console.url}/registrations/55509")
    legs = page.locator("#route-legs tbody tr")
    expect(legs).to_have_count(2)
    expect(legs.nth(0)).to_contain_text("carrying")
    expect(legs.nth(1)).to_contain_text("bind refused")
    page.goto(f"{console.url}/connections")
    expect(page.locator("tr[data-connection=refusing] [data-breaker]")).to_have_text(
        "breaker open")
