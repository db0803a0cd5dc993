"""DNC lists and the review queue in the console, in Chromium against `psms serve` and the SMSC
simulator: add a number, find it in any spelling, remove it with a note; import a file with bad
lines and export a list; accept a possible opt-out that a customer texted."""

from __future__ import annotations

import csv

from playwright.sync_api import expect

from proactive_sms.services import audit
from tests.interfaces.api.worlds import POSSIBLE_OPT_OUT
from tests.interfaces.web.conftest import wait_until


def _confirm_all(page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def test_a_number_is_added_found_in_any_spelling_and_removed_with_a_note(
        browser, console, login, shoot):
    page = login(browser, console)
    _confirm_all(page)
    page.goto(console.url + "/dnc")
    page.fill("#f-numbers", "(212) 555-0177\nnot a number")
    page.fill("#f-note", "asked by phone")
    page.click("#add-button")
    expect(page.locator(".flash-info")).to_contain_text("1 added to default")
    expect(page.locator(".flash-info")).to_contain_text("not phone numbers: 'not a number'")
    for spelling in ("+1 212 555 0177", "2125550177", "1-212-555-0177"):
        page.fill("#f-q", spelling)
        page.click("button:has-text('Find')")
        hit = page.locator("#hits tbody tr")
        expect(hit).to_have_count(1)
        expect(hit).to_contain_text("default")
        expect(hit).to_contain_text("asked by phone")
    expect(page.locator("#search-result")).to_contain_text("+1******0177")
    shoot(page, "dnc")
    page.fill("#hits .note-input", "added by mistake")
    page.click("#hits button:has-text('Remove')")
    expect(page.locator(".flash-success")).to_have_text("Removed from default.")
    expect(page.locator("#not-listed")).to_contain_text("is on no DNC list")
    unit = console.bu()
    removed = audit.entries(console.engine, unit, action="dnc.removed").entries[0]
    assert "added by mistake" in removed.detail and "0177" in removed.detail
    # Nothing typed, or only bad values: said under the field, nothing added.
    page.fill("#f-numbers", "12")
    page.click("#add-button")
    expect(page.locator("#e-numbers")).to_contain_text("not phone numbers: '12'")
    page.fill("#f-q", "12")
    page.click("button:has-text('Find')")
    expect(page.locator("#e-q")).to_contain_text("'12' is not a phone number")


def test_a_group_is_imported_with_its_bad_lines_reported_and_exported(
        browser, console, login, tmp_path):
    page = login(browser, console)
    page.goto(console.url + "/dnc")
    page.fill("#f-numbers", "2125550200")
    page.fill("#f-new_group", "vip")
    page.click("#add-button")
    expect(page.locator(".flash-success")).to_contain_text("1 added to vip")
    page.goto(console.url + "/dnc/lists/vip")
    data = "number,note\n2125550201,by mail\n12,typo\n=2125550202,\"=cmd|' /C calc'!A0\"\n"
    page.set_input_files("#f-dnc-file", files=[{"name": "vip.csv", "mimeType": "text/csv",
                                                "buffer": data.encode()}])
    page.click("#dnc-import-form button")
    expect(page.locator("#dnc-added")).to_have_text("2")
    expect(page.locator("#dnc-rejected")).to_have_text("1")
    bad = page.locator("#dnc-bad-lines tbody tr")
    expect(bad).to_have_count(1)
    expect(bad.nth(0)).to_contain_text("3")
    expect(bad.nth(0)).to_contain_text("number")
    expect(page.locator("#entries tbody tr")).to_have_count(3)
    with page.expect_download() as download:
        page.click("#export-link")
    with open(download.value.path(), encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["number"] for r in rows] == ["+12125550200", "+12125550201",
                                           "+12125550202"]  # numbers stay numbers
    assert rows[2]["note"] == "'=cmd|' /C calc'!A0"  # a spreadsheet shows it, runs nothing
    assert page.goto(console.url + "/dnc/lists/nope").status == 404
    assert page.goto(console.url + "/dnc/lists/nope/export").status == 404


def test_a_possible_opt_out_waits_in_the_queue_and_is_accepted(browser, console, login, shoot):
    sender = "12125550333"
    console.sim.inject(sender, "55501", POSSIBLE_OPT_OUT)
    page = login(browser, console)
    _confirm_all(page)

    def queued() -> bool:
        page.goto(console.url + "/dnc/reviews")
        return page.locator("#reviews tbody tr", has_text="+1******0333").count() == 1

    wait_until(queued, 30, "the reply to reach the review queue", interval_s=0.5)
    row = page.locator("#reviews tbody tr", has_text="+1******0333")
    expect(row.locator(".review-text")).to_have_attribute("dir", "auto")
    shoot(page, "review")
    row.locator(".accept-button").click()
    expect(page.locator(".flash-success")).to_contain_text("Accepted as an opt-out")
    expect(page.locator("#reviews tbody tr", has_text="+1******0333")).to_have_count(0)
    page.goto(console.url + "/dnc?q=" + sender)
    expect(page.locator("#hits")).to_contain_text("opt out")
    unit = console.bu()
    assert audit.entries(console.engine, unit, action="review.accepted").total == 1
    assert page.goto(console.url + "/dnc/reviews/999999/accept").status in (404, 405)


def test_bad_input_to_every_dnc_form_is_answered_without_a_500(browser, console, login):
    page = login(browser, console)
    page.goto(console.url + "/dnc")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")

    def post(path: str, form: dict | None = None, multipart: dict | None = None):
        if multipart is not None:
            return page.request.post(console.url + path,
                                     multipart={"csrf_token": token, **multipart})
        return page.request.post(console.url + path, form={"csrf_token": token, **(form or {})})

    answers = {
        "too many": post("/dnc/numbers", {"numbers": "\n".join(["2125550100"] * 10_001)}),
        "nothing": post("/dnc/numbers", {"numbers": "  "}),
        "bad group": post("/dnc/numbers", {"numbers": "2125550100", "new_group": "a/b"}),
        "remove from nothing": post("/dnc/removals", {"number": "2125550100", "list": "nope"}),
        "remove no number": post("/dnc/removals", {"number": "", "list": "default"}),
        "review not a number": post("/dnc/reviews/abc/accept"),
        "review of nothing": post("/dnc/reviews/999999/accept"),
        "odd decision": post("/dnc/reviews/1/maybe"),
        "import to nothing": post("/dnc/lists/nope/imports", multipart={}),
        "import no file": post("/dnc/lists/default/imports", multipart={"x": "y"}),
        "import binary": post("/dnc/lists/default/imports", multipart={"file": {
            "name": "x.bin", "mimeType": "application/octet-stream", "buffer": b"\x00\x01"}}),
    }
    for what, answer in answers.items():
        assert answer.status < 500, (what, answer.status, answer.text()[:300])
    assert answers["too many"].status == 422 and "import a file" in answers["too many"].text()
    assert answers["bad group"].status == 422
    assert answers["remove from nothing"].status == 404
    assert answers["review of nothing"].status == 404
    assert answers["import binary"].status == 422
    assert "x.bin: this is a binary file" in answers["import binary"].text()
