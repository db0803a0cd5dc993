"""Reply pacing in the console, in Chromium against `psms serve` (its own dispatcher) and the
simulator: the skill form turns it off and on with its prior, bad values refused under their
field; the dashboard says what bounds a running skill whose replies reach agents, and that its
texts wait when no agent is available."""

from __future__ import annotations

from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, agents, launching
from proactive_sms.services.skill_settings import skill_view
from tests.factories import person, us_number
from tests.interfaces.web.conftest import CODE

ALL_DAY = {"weekday": "00:00-24:00", "weekend": "00:00-24:00"}


def _list(console, name: str, start: int, count: int) -> None:
    console.import_people(name, [person(i, PhoneNumber=us_number(i, "917"))
                                 for i in range(start, start + count)])


def test_the_skill_form_turns_reply_pacing_off_and_on_with_its_prior(browser, console, login):
    _list(console, "rp-form", 0, 3)
    page = login(browser, console)
    page.goto(console.url + "/skills/+new")
    page.fill("#f-name", "rp-form")
    page.select_option("#f-calling_list", "rp-form")
    page.fill("#f-message_text", "Hi {FirstName}, reply to chat with us.")
    expect(page.locator("#f-reply_pacing")).to_have_value("on")  # on by default
    page.select_option("#f-reply_pacing", "off")
    page.fill("#f-reply_rate_prior", "lots")
    page.click("#skill-form button[type=submit]")
    expect(page.locator("#e-reply_rate_prior")).to_contain_text("must be a number")
    page.fill("#f-reply_rate_prior", "1.5")
    page.click("#skill-form button[type=submit]")
    expect(page.locator("#e-reply_rate_prior")).to_contain_text("at most 1 (0.05 for 5%)")
    page.fill("#f-reply_rate_prior", "0.2")
    page.click("#skill-form button[type=submit]")
    expect(page.locator("#skill-status")).to_have_text("draft")
    unit = console.bu()
    saved = skill_view(console.engine, unit, "rp-form").skill
    assert (saved.reply_pacing, saved.reply_rate_prior) == (False, 0.2)

    expect(page.locator("#f-reply_pacing")).to_have_value("off")
    page.select_option("#f-reply_pacing", "on")
    page.click("#save-button")
    expect(page.locator(".flash-success")).to_have_text("Settings saved.")
    expect(page.locator("#f-reply_pacing")).to_have_value("on")
    assert skill_view(console.engine, unit, "rp-form").skill.reply_pacing is True


def test_the_dashboard_says_what_bounds_a_skill_and_that_its_texts_wait(browser, console,
                                                                         login):
    _list(console, "rp-live", 100, 20)
    clock = SystemClock()
    unit = console.bu()
    created = administration.create_skill(console.engine, unit, clock, name="rp-live",
                                          registration=CODE, calling_list="rp-live",
                                          calling_window=ALL_DAY, reply_rate_prior=0.1)
    agents.create_agent(console.engine, unit, clock, "rp-ana", availability="available",
                        max_open_conversations=3, skill_names=["rp-live"])
    launching.start_skill(console.engine, created.id, clock,
                          message_text="Hi {FirstName}, reply to chat with us.")
    page = login(browser, console)
    page.goto(console.url + "/")
    line = page.locator("tr[data-skill='rp-live'] [data-field=reply-pacing]")
    # 3 places at 10% over the default 30 min reply window: 30 texts in 30 min, 1 a minute.
    expect(line).to_contain_text("reply pacing: 1 agent, 3 free places, reply rate 10% -> "
                                 "1 texts/min", timeout=30_000)
    agents.set_availability(console.engine, unit, clock, "rp-ana", "away")
    expect(line).to_contain_text("no agent available (reply rate 10%): texts wait",
                                 timeout=30_000)
    expect(line.locator(".badge")).to_have_text("waiting for agents")
