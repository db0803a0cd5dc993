"""The mapping screen's preview reads a file's first rows as the import would."""

from __future__ import annotations

import pytest

from proactive_sms.services import importing
from proactive_sms.services.import_preview import preview_file
from proactive_sms.services.importing import ImportRefused
from tests.factories import write_csv

HEADER = ["Customer ID", "Nick", "Mobile", "Agency"]


def _file(tmp_path, rows):
    return write_csv(tmp_path / "in.csv", rows, header=HEADER)


def test_columns_are_guessed_by_alias_and_rows_read_as_stored(tmp_path):
    path = _file(tmp_path, [["C1", "Ann", "(212) 555-0101", "North"],
                            ["C2", "Bob", "not a number", "South"],
                            ["C1", "Cy", "212 555 0103", "East"]])
    preview = preview_file(path, "US")
    assert preview.guessed == ("ExternalId", "Nick", "SMSPhoneNumber", "Agency")
    first, bad, repeated = preview.rows
    assert first.line == 2 and first.error is None
    assert first.values["SMSPhoneNumber"] == "+12125550101"
    assert first.sms_destination == "+12125550101"
    assert bad.error is not None and bad.error.field == "SMSPhoneNumber"
    assert repeated.error is not None and "first seen on line 2" in repeated.error.message


def test_an_override_maps_a_column_and_an_ignored_column_is_not_read(tmp_path):
    path = _file(tmp_path, [["C1", "Ann", "2125550101", "North"]])
    preview = preview_file(path, "US", {"Nick": "FirstName", "Agency": "-"})
    assert preview.fields == ("ExternalId", "FirstName", "SMSPhoneNumber")
    assert preview.rows[0].values == {"ExternalId": "C1", "FirstName": "Ann",
                                      "SMSPhoneNumber": "+12125550101"}


def test_the_preview_and_the_import_agree_on_every_row(engine, bu, clock, tmp_path):
    path = _file(tmp_path, [["C1", "Ann", "2125550101", "N"], ["", "Bo", "2125550102", "S"],
                            ["C3", "Cy", "12", "E"], ["C4", "Di", "2125550104", "W"]])
    preview = preview_file(path, "US", {"Agency": "-"})
    summary = importing.import_calling_list(engine, bu, "people", path, clock, {"Agency": "-"})
    assert [r.line for r in preview.rows if r.error] == [e.line for e in summary.errors]
    assert [r.error.message for r in preview.rows if r.error] == [
        e.message for e in summary.errors]


def test_a_mapping_that_cannot_be_used_says_why_without_rows(tmp_path):
    path = _file(tmp_path, [["C1", "Ann", "2125550101", "North"]])
    preview = preview_file(path, "US", {"Nick": "SMSPhoneNumber"})
    assert preview.mapping is None and preview.rows == []
    assert "both map to field SMSPhoneNumber" in preview.mapping_error
    assert "no phone column" in preview_file(path, "US", {"Mobile": "-"}).mapping_error


def test_a_file_that_is_no_list_is_refused_by_its_given_name(tmp_path):
    path = tmp_path / "upload.csv"
    path.write_bytes(b"\x00\x01binary")
    with pytest.raises(ImportRefused, match="^people.xlsx: this is a binary file"):
        preview_file(path, "US", name="people.xlsx")
