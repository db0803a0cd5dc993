"""Calling lists in the console, in Chromium against `psms serve`: upload, map the columns,
import, read the report and download the rejected rows; browse and search records; an upload
over the size limit is refused with a message."""

from __future__ import annotations

import csv
import dataclasses
import io

from playwright.sync_api import expect

from tests.factories import us_number
from tests.services.test_list_files import FIXTURES

HEADER = ["Customer", "Nick", "Surname", "Mobile", "Agency"]


def _file(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def _people() -> bytes:
    rows = [[f"K{i:03d}", f"Nia{i}", "Okafor", us_number(900 + i), "North"] for i in range(8)]
    rows[2][3] = "12"  # line 4: not a phone number
    rows[5][0] = "K000"  # line 7: the ExternalId of line 2 again
    rows[6][1] = '=HYPERLINK("http://x")'  # a formula, kept as text
    rows[6][3] = "nope"  # line 8: rejected too
    return _file(rows)


def _upload(page, console, list_name: str, data: bytes, filename: str = "people.csv") -> None:
    page.goto(console.url + "/calling-lists")
    page.fill("#f-list_name", list_name)
    page.set_input_files("#f-file", files=[{"name": filename, "mimeType": "text/csv",
                                            "buffer": data}])
    page.click("#upload-form button[type=submit]")


def test_a_list_with_bad_rows_is_mapped_imported_reported_and_its_rejects_downloaded(
        browser, console, login, shoot):
    page = login(browser, console)
    _upload(page, console, "customers", _people())
    expect(page.locator("h1")).to_contain_text("Map the columns of people.csv")
    # Guessed by name and alias: Customer and Surname are not aliases, Mobile is.
    expect(page.locator("#col-3 option:checked")).to_have_text("Auto: SMSPhoneNumber")
    expect(page.locator("#preview-table thead")).to_contain_text("Nick")
    # Override one column: Nick is the first name; the preview follows.
    page.select_option("#col-1", "FirstName")
    expect(page.locator("#preview-table thead")).to_contain_text("FirstName")
    expect(page.locator("#preview-table thead")).not_to_contain_text("Nick")
    page.select_option("#col-0", "ExternalId")
    # A custom field of another name: its input shows only for "Custom field…".
    expect(page.locator("#custom-4")).to_be_hidden()
    page.select_option("#col-4", "custom")
    page.fill("#custom-4", "Region")
    page.press("#custom-4", "Tab")
    expect(page.locator("#preview-table thead")).to_contain_text("Region")
    preview = page.locator("#preview-table tbody tr")
    expect(preview).to_have_count(8)
    expect(preview.nth(2)).to_contain_text("rejected")
    expect(preview.nth(2)).to_contain_text("SMSPhoneNumber")
    expect(preview.nth(5)).to_contain_text("duplicate ExternalId 'K000' (first seen on line 2)")
    expect(preview.nth(0)).to_contain_text("+1******")  # numbers as stored, masked
    shoot(page, "list-mapping")

    page.click("#import-button")
    expect(page.locator("h1")).to_contain_text("Import of people.csv into customers")
    expect(page.locator("#accepted")).to_have_text("5")
    expect(page.locator("#rejected")).to_have_text("3")
    rejected = page.locator("#rejected-rows tbody tr")
    expect(rejected).to_have_count(3)
    expect(rejected.nth(0)).to_contain_text("4")
    expect(rejected.nth(0)).to_contain_text("SMSPhoneNumber")
    expect(rejected.nth(1)).to_contain_text("ExternalId")
    expect(rejected.nth(1)).to_contain_text("first seen on line 2")
    shoot(page, "import-report")

    with page.expect_download() as download:
        page.click("#download-rejected")
    with open(download.value.path(), encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:4] == ["line", "field", "problem", "reason"]
    assert [r[0] for r in rows[1:]] == ["4", "7", "8"]
    assert rows[1][1] == "SMSPhoneNumber" and rows[1][2] == "bad_number"
    assert rows[3][5] == "'=HYPERLINK(\"http://x\")"  # the formula is neutralized
    assert rows[0][4:] == HEADER

    page.goto(console.url + "/calling-lists")
    row = page.locator("#lists tbody tr", has_text="customers")
    expect(row.locator("td.num")).to_have_text("5")
    expect(row).to_contain_text("Region")
    shoot(page, "lists")


def test_records_are_found_by_number_in_any_spelling_by_name_and_by_external_id(
        browser, console, login):
    page = login(browser, console)
    _upload(page, console, "finders", _people())
    page.select_option("#col-0", "ExternalId")
    page.select_option("#col-1", "FirstName")
    expect(page.locator("#preview-table thead")).to_contain_text("FirstName")
    page.click("#import-button")
    expect(page.locator("#accepted")).to_have_text("5")
    page.goto(console.url + "/calling-lists/finders")
    expect(page.locator("#records tbody tr")).to_have_count(5)
    national = us_number(901)
    for spelling in (f"({national[:3]}) {national[3:6]}-{national[6:]}", "+1" + national):
        page.fill("#f-q", spelling)
        page.click("button:has-text('Search')")
        expect(page.locator("#records tbody tr")).to_have_count(1)
        expect(page.locator("#records tbody tr")).to_contain_text("K001")
    page.fill("#f-q", "nia4")
    page.click("button:has-text('Search')")
    expect(page.locator("#records tbody tr")).to_have_count(1)
    expect(page.locator("#records tbody tr")).to_contain_text("Nia4")
    page.goto(console.url + "/calling-lists/finders?q=K004")
    expect(page.locator("#records tbody tr")).to_contain_text("K004")
    page.goto(console.url + "/calling-lists/finders?q=zzz&after=notanumber")
    expect(page.locator(".panel")).to_contain_text("No record matches")


def test_a_mapping_that_cannot_be_used_is_said_inline_and_nothing_is_imported(
        browser, console, login):
    page = login(browser, console)
    _upload(page, console, "unmapped", _people())
    page.select_option("#col-3", "-")  # no phone column left
    expect(page.locator("#mapping-error")).to_contain_text("no phone column")
    page.click("#import-button")
    expect(page.locator("#mapping-error")).to_contain_text("no phone column")
    page.goto(console.url + "/calling-lists")
    expect(page.locator("#lists")).not_to_contain_text("unmapped")


def test_bad_uploads_are_refused_inline_never_with_a_500(browser, console, login):
    page = login(browser, console)
    _upload(page, console, "a/b", _people())
    expect(page.locator("#upload-form .error").first).to_contain_text("contains '/'")
    _upload(page, console, "binary", b"\x00\x01\x02 not a list", "list.xlsx")
    expect(page.locator("#e-file")).to_contain_text("list.xlsx: this is a binary file")
    for path in ("/calling-lists/nope", "/calling-lists/uploads/not-a-token",
                 "/calling-lists/imports/AAAAAAAAAAAAAAAAAAAAAAAA",
                 "/calling-lists/imports/AAAAAAAAAAAAAAAAAAAAAAAA/rejected.csv"):
        assert page.goto(console.url + path).status == 404, path


def test_an_upload_over_the_size_limit_is_refused_with_a_message(browser, console, login):
    small = dataclasses.replace(console, url=console.serve(
        "serve-small-uploads", PSMS_CONSOLE_UPLOAD_MAX_MB="0.002"))  # about 2 KB
    page = login(browser, small)
    big = _file([[f"K{i:04d}", "Ann", "Lee", us_number(i), "North"] for i in range(200)])
    assert len(big) > 4096
    # The browser refuses before sending a byte...
    _upload(page, small, "big", big)
    expect(page.locator("#e-file")).to_contain_text(
        "the file is larger than the upload limit of 2.048 KB")
    expect(page).to_have_url(small.url + "/calling-lists")
    # ...and the server refuses whatever a client sends, with the same words.
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    answer = page.request.post(small.url + "/calling-lists/uploads", multipart={
        "csrf_token": token, "list_name": "big",
        "file": {"name": "big.csv", "mimeType": "text/csv", "buffer": big}})
    assert answer.status == 413
    assert "the file is larger than the upload limit of 2.048 KB" in answer.text()
    page.goto(small.url + "/calling-lists")
    expect(page.locator("body")).not_to_contain_text("big.csv")


def test_bad_input_to_the_upload_and_mapping_forms_is_answered_without_a_500(
        browser, console, login):
    page = login(browser, console)
    page.goto(console.url + "/calling-lists")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    answers = {
        "no file": page.request.post(console.url + "/calling-lists/uploads",
                                     multipart={"csrf_token": token, "list_name": "x"}),
        "empty file": page.request.post(console.url + "/calling-lists/uploads", multipart={
            "csrf_token": token, "list_name": "x",
            "file": {"name": "e.csv", "mimeType": "text/csv", "buffer": b""}}),
        "not utf-8": page.request.post(console.url + "/calling-lists/uploads", multipart={
            "csrf_token": token, "list_name": "x",
            "file": {"name": "l.csv", "mimeType": "text/csv",
                     "buffer": b"Phone,Name\n2125550100,Ren\x81e\n"}}),  # 0x81: no text
        "preview of nothing": page.request.post(
            console.url + "/calling-lists/uploads/AAAAAAAAAAAAAAAAAAAAAAAA/preview",
            form={"csrf_token": token}),
        "import of nothing": page.request.post(
            console.url + "/calling-lists/uploads/../../etc/import", form={"csrf_token": token}),
    }
    for what, answer in answers.items():
        assert answer.status < 500, (what, answer.status, answer.text()[:300])
    assert answers["no file"].status == 422
    assert "choose a CSV or tab-separated file" in answers["no file"].text()
    assert "e.csv: the file is empty" in answers["empty file"].text()
    assert "not UTF-8, UTF-16 or Windows-1252 (byte 0x81 at line 2)" in answers[
        "not utf-8"].text()
    assert answers["preview of nothing"].status == 404


def test_an_excel_semicolon_file_in_windows_1252_is_read_as_it_is_and_so_reported(
        browser, console, login):
    page = login(browser, console)
    data = (FIXTURES / "excel_fr_semicolon_ansi.csv").read_bytes()
    _upload(page, console, "clients", data, "clients.csv")
    expect(page.locator("#file-format")).to_have_text(
        "Read as Windows-1252, semicolon-separated.")
    expect(page.locator("#preview-table thead")).to_contain_text("Prénom")
    expect(page.locator("#preview-table tbody")).to_contain_text("Hélène")
    page.click("#import-button")
    expect(page.locator("#file-format")).to_have_text("Windows-1252, semicolon-separated")
    expect(page.locator("#accepted")).to_have_text("4")
    expect(page.locator("#rejected")).to_have_text("1")
    expect(page.locator("#rejected-rows tbody tr").nth(0)).to_contain_text("5")


def test_a_chosen_encoding_reads_a_file_detection_refuses_through_preview_and_import(
        browser, console, login):
    page = login(browser, console)
    # "RenÃ©e" beside "Zoé" in Windows-1252: refused as mixed unless the encoding is named.
    data = "Id,FirstName,PhoneNumber\r\n1,RenÃ©e,2125550100\r\n2,Zoé,2125550101\r\n".encode(
        "cp1252")
    _upload(page, console, "odd", data, "odd.csv")
    expect(page.locator("#e-file")).to_contain_text("odd.csv: cannot read the file: it mixes "
                                                    "encodings")
    page.set_input_files("#f-file", files=[{"name": "odd.csv", "mimeType": "text/csv",
                                            "buffer": data}])
    page.click("#upload-form summary")
    page.select_option("#f-encoding", "windows-1252")
    page.select_option("#f-delimiter", ",")
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#file-format")).to_have_text("Read as Windows-1252, comma-separated.")
    expect(page.locator("#preview-table tbody")).to_contain_text("RenÃ©e")
    page.click("#import-button")
    expect(page.locator("#accepted")).to_have_text("2")
    expect(page.locator("#file-format")).to_have_text("Windows-1252, comma-separated")
