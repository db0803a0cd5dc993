"""The notices page in Chromium against `psms serve` and the SMSC simulator: a saved template
sent to a list chosen once, then again in one click, and the history of what became of each."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, audit
from tests.factories import person
from tests.interfaces.web.conftest import CODE, OTHER_BU, wait_until

TIP = "New tip received, {FirstName}. Check the case board."


@pytest.fixture(scope="module")
def investigators(console) -> str:
    """The list `investigators` (3 records), the template `new tip`, and another unit's
    template `their secret`."""
    console.import_people("investigators", (person(i, FirstName=f"Inv{i}")
                                            for i in range(500, 503)))
    administration.save_template(console.engine, console.bu(), SystemClock(), "new tip", TIP)
    administration.save_template(console.engine, console.bu(OTHER_BU), SystemClock(),
                                 "their secret", "x")
    return "investigators"


def _texts(console, since: int) -> list[str]:
    return [s["text"] for s in console.sim.submits(since) if "New tip" in (s.get("text") or "")]


def test_a_saved_notice_is_sent_once_chosen_then_in_one_click(browser, console, login, shoot,
                                                              investigators):
    before = len(console.sim.submits())
    page = login(browser, console)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations
    page.goto(console.url + "/notices")
    row = page.locator("[data-notice-templates] tr[data-template='new tip']")
    expect(row).to_contain_text("never sent")
    expect(row.locator("[data-send-again]")).to_have_count(0)

    row.locator("[data-send-to-list]").click()
    expect(page.locator("h1")).to_contain_text("new tip")
    page.select_option("#f-calling_list", "investigators")
    page.select_option("#f-registration", CODE)
    page.fill("#f-weekday", "00:00-24:00")  # whatever the hour of the run
    page.fill("#f-weekend", "00:00-24:00")
    expect(page.locator("#samples .bubble").first).to_have_text(
        "New tip received, Inv500. Check the case board.")
    page.click("[data-dry-run]")
    expect(page.locator("[data-recipients]")).to_have_text("3")
    with page.expect_navigation():
        page.click("[data-send]")
    expect(page).to_have_url(console.url + "/notices")
    expect(page.locator(".flash-success")).to_contain_text("3 text(s) to send")
    wait_until(lambda: len(_texts(console, before)) >= 3, 30, "the first notice's texts")

    # From now on: one click (and the confirmation) on the notices page.
    row = page.locator("[data-notice-templates] tr[data-template='new tip']")
    expect(row).to_contain_text("investigators · from " + CODE)
    with page.expect_navigation():
        row.locator("[data-send-again]").click()
    expect(page.locator(".flash-success")).to_contain_text("3 text(s) to send")
    wait_until(lambda: len(_texts(console, before)) >= 6, 30, "the second notice's texts")
    assert sorted(_texts(console, before)) == sorted(
        f"New tip received, Inv{i}. Check the case board." for i in (500, 501, 502)
        for _ in range(2))

    history = page.locator("[data-notice-history] tbody tr")

    def delivered_everywhere() -> bool:
        page.reload()
        cells = history.locator("[data-delivered]").all_inner_texts()
        return len(cells) == 2 and cells == ["3", "3"]

    wait_until(delivered_everywhere, 30, "the receipts of both notices", interval_s=0.5)
    latest = history.first
    expect(latest).to_contain_text("new tip")
    expect(latest).to_contain_text("100.0 %")
    link = latest.locator("a").first
    expect(link).to_have_attribute("href", re.compile(r"^/skills/notice-[0-9-]+/report$"))
    shoot(page, "notices")
    unit = console.bu()
    logged = audit.entries(console.engine, unit, username=page.username, action="notice")
    assert [e.action for e in logged.entries] == ["notice.sent", "notice.sent"]


def test_a_notice_of_another_unit_or_unknown_answers_404_and_bad_choices_say_why(
        browser, console, login, investigators):
    page = login(browser, console)
    page.goto(console.url + "/notices")
    assert page.goto(console.url + "/notices/send?template=their+secret").status == 404
    assert page.goto(console.url + "/notices/send?template=").status == 404
    page.goto(console.url + "/notices")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")

    def form(path: str, **fields: str):
        return page.context.request.post(console.url + path,
                                          form={"csrf_token": token, **fields}, max_redirects=0)

    answer = form("/notices/send", template="new tip", calling_list="", registration=CODE)
    assert answer.status == 422 and "choose a calling list" in answer.text()
    answer = form("/notices/send", template="new tip", calling_list="investigators",
                  registration=CODE, weekday="9 to 5")
    assert answer.status == 422
    # under the weekday field, in the domain's words
    assert re.search(r'class="field has-error">\s*<label for="f-weekday">.*?<div class="error">'
                     r"skill window: &#39;weekday&#39;: &#39;9&#39; is not a time such as "
                     r"&#39;08:00&#39;</div>", answer.text(), re.S)
    answer = form("/notices/send", template="their secret", calling_list="investigators",
                  registration=CODE)
    assert answer.status == 303  # back to the notices, saying there is no such template
    answer = form("/notices/dry-run", template="nope", calling_list="investigators",
                  registration=CODE)
    assert answer.status == 200 and "no template &#39;nope&#39;" in answer.text()
    answer = form("/notices/preview", template="nope")
    assert answer.status == 200 and "no template &#39;nope&#39;" in answer.text()
