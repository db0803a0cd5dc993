"""The broadcast page in Chromium against `psms serve` and the SMSC simulator: a text typed,
counted and checked as it is typed, its dry run, sent, and received by the simulator."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, audit
from tests.factories import person, us_number
from tests.interfaces.web.conftest import CODE, OTHER_BU, wait_until

TEXT = "Bonus shift tonight, {FirstName} — reply to take it"


def _people(console, name: str, count: int, start: int, bu: str = "sales") -> None:
    console.import_people(name, (person(i, FirstName=f"Sam{i}")
                                 for i in range(start, start + count)), bu=bu)


def test_a_typed_broadcast_is_counted_checked_dry_run_sent_and_received(
        browser, console, login, shoot):
    _people(console, "bonus", 5, start=100)
    unit = console.bu()
    administration.dnc_add(console.engine, unit, SystemClock(), ["+1" + us_number(102)])
    before = len(console.sim.submits())
    page = login(browser, console)
    page.goto(console.url + "/broadcast")
    expect(page.locator("h1")).to_have_text("Broadcast")
    page.select_option("#f-calling_list", "bonus")
    page.select_option("#f-registration", CODE)
    page.fill("#f-weekday", "00:00-24:00")  # whatever the hour of the run
    page.fill("#f-weekend", "00:00-24:00")
    page.locator("#f-message").press_sequentially(TEXT)

    counter = page.locator("#message-counter")
    expect(counter.locator("[data-encoding]")).to_have_text("UCS-2")  # the em dash
    expect(counter.locator(".ucs2-chars")).to_contain_text("—")
    # The box marks, where it stands, the one character the server named.
    expect(page.locator(".text-box-marks mark")).to_have_text(["—"])
    expect(counter.locator("[data-segments]")).to_have_text("1")
    rendered = "Bonus shift tonight, Sam100 — reply to take it"
    expect(counter.locator("[data-units]")).to_have_text(str(len(rendered)))
    expect(counter.locator("[data-remaining]")).to_have_text(str(70 - len(rendered)))
    expect(page.locator("#samples .bubble").first).to_have_text(rendered)
    expect(page.locator("#samples .bubble")).to_have_count(3)

    page.click("[data-dry-run]")
    facts = page.locator("[data-dry-run-facts]")
    expect(facts.locator("[data-records]")).to_have_text("5")
    expect(facts.locator("[data-recipients]")).to_have_text("4")  # all of them now
    expect(facts.locator("[data-reason=dnc]")).to_have_text("dnc: 1")
    expect(facts.locator("[data-segments]")).to_have_text("4")
    expect(facts.locator("[data-finish]")).to_contain_text("UTC")
    expect(facts.locator("[data-cost]")).to_contain_text("4 segments")
    shoot(page, "broadcast")

    # Changing the text drops the dry run: it was for another text.
    page.locator("#f-message").press("End")
    page.locator("#f-message").press_sequentially("!")
    expect(page.locator("[data-dry-run-result]")).to_have_count(0)
    page.locator("#f-message").press("Backspace")
    page.click("[data-dry-run]")
    with page.expect_navigation():
        page.click("[data-send]")
    expect(page).to_have_url(re.compile(r"/skills/broadcast-[0-9-]+/report$"))
    expect(page.locator(".flash-success")).to_contain_text("4 text(s) to send")
    skill_name = page.url.rsplit("/", 2)[-2]
    [entry] = audit.entries(console.engine, unit, username=page.username,
                            action="broadcast").entries
    assert (entry.action, entry.target) == ("broadcast.sent", skill_name)

    received = wait_until(lambda: [s for s in console.sim.submits(before)
                                   if "Bonus shift tonight" in (s.get("text") or "")]
                          if len(console.sim.submits(before)) >= 4 else None,
                          30, "the simulator to receive the broadcast: " + console.log("serve"))
    assert sorted(s["text"] for s in received) == sorted(
        f"Bonus shift tonight, Sam{i} — reply to take it" for i in (100, 101, 103, 104))


def test_an_unknown_field_shows_inline_with_did_you_mean_and_blocks_the_dry_run(
        browser, console, login):
    _people(console, "crew", 2, start=200)
    page = login(browser, console)
    page.goto(console.url + "/broadcast?calling_list=crew")
    expect(page.locator("#f-calling_list")).to_have_value("crew")
    page.select_option("#f-registration", CODE)
    page.locator("#f-message").press_sequentially("Hi {FirstNme}, shift at 6")
    issue = page.locator("#message-issues [data-issue]")
    expect(issue).to_contain_text(  # in the API's words
        "unknown field 'FirstNme' at position 3 (did you mean FirstName?)")
    expect(issue).to_have_class(re.compile(r"\berror\b"))
    expect(issue).to_have_css("color", "rgb(207, 34, 46)")  # red, under the field
    page.click("[data-dry-run]")
    expect(page.locator("[data-dry-run-result] .error")).to_contain_text(
        "unknown field 'FirstNme'")
    expect(page.locator("[data-send]")).to_have_count(0)  # nothing to send from a refusal

    page.click("#message-issues [data-replace-field]")  # "Use FirstName": the suggestion taken
    expect(page.locator("#f-message")).to_have_value("Hi {FirstName}, shift at 6")
    expect(page.locator("#message-issues [data-issue]")).to_have_count(0)
    expect(page.locator("#samples .bubble").first).to_have_text("Hi Sam200, shift at 6")


def test_a_gsm_text_counts_in_gsm7_and_a_long_one_warns_that_it_would_be_skipped(
        browser, console, login):
    _people(console, "short", 1, start=300)
    page = login(browser, console)
    page.goto(console.url + "/broadcast?calling_list=short")
    page.fill("#f-max_segments", "1")
    page.locator("#f-message").fill("x" * 161)
    counter = page.locator("#message-counter")
    expect(counter.locator("[data-encoding]")).to_have_text("GSM-7")
    expect(counter.locator("[data-segments]")).to_have_text("2")
    expect(counter.locator("[data-remaining]")).to_have_text(str(2 * 153 - 161))
    expect(page.locator(".text-box-marks mark")).to_have_count(0)
    expect(page.locator("#message-issues")).to_contain_text(
        "too long: 2 segments, more than the skill's 1; such texts are skipped")


def test_bad_input_is_answered_with_reasons_never_a_500(browser, console, login):
    _people(console, "theirs", 1, start=400, bu=OTHER_BU)
    page = login(browser, console)
    page.goto(console.url + "/broadcast")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    post = page.context.request.post

    def form(path: str, **fields: str):
        return post(console.url + path, form={"csrf_token": token, **fields},
                    max_redirects=0)

    answer = form("/broadcast/dry-run", calling_list="theirs", registration=CODE,
                  message="Hi", max_segments="many", direction="sideways")
    assert answer.status == 200
    assert "max segments must be a whole number, got &#39;many&#39;" in answer.text()
    assert "direction must be ltr, rtl or auto" in answer.text()
    answer = form("/broadcast/dry-run", calling_list="theirs", registration=CODE, message="Hi")
    assert "no calling list &#39;theirs&#39;" in answer.text()  # another unit's: not found
    answer = form("/broadcast/send", calling_list="", registration="", message="")
    assert answer.status == 422
    assert "choose a calling list" in answer.text()
    answer = form("/broadcast/send", calling_list="short", registration="99999", message="Hi")
    assert answer.status == 422 and "no registration &#39;99999&#39;" in answer.text()
    answer = form("/broadcast/check", message="Hi", calling_list="nope",
                  max_segments="x", direction="up")
    assert answer.status == 200 and "no calling list &#39;nope&#39;" in answer.text()
    answer = form("/broadcast/check", message="Hi {First", max_segments="")
    assert answer.status == 200 and "unclosed &#39;{&#39;" in answer.text()
    assert form("/broadcast/send", message="Hi").status == 422
    refused = post(console.url + "/broadcast/send", form={"message": "Hi"}, max_redirects=0)
    assert refused.status == 403  # no CSRF token


def test_agents_cannot_open_the_send_pages(browser, console, login):
    page = login(browser, console, role="agent")
    for path in ("/broadcast", "/notices", "/templates", "/templates/new",
                 "/notices/send?template=x"):
        assert page.goto(console.url + path).status == 403, path
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = page.context.request.post(console.url + "/broadcast/send", max_redirects=0,
                                        form={"csrf_token": token, "message": "Hi"})
    assert refused.status == 403
