"""Finding records of a list and numbers on DNC lists in any spelling; lists with counts."""

from __future__ import annotations

import pytest

from proactive_sms.services import administration, listing
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.listing import PageRequest
from tests.factories import import_people, us_number


@pytest.fixture
def people(engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 30)


def _ids(page):
    return [r.external_id for r in page.items]


def test_a_record_is_found_by_its_number_in_any_spelling(engine, bu, people):
    national = us_number(7)  # 212200 0007
    for spelling in (national, f"+1{national}", f"({national[:3]}) {national[3:6]}-"
                                                f"{national[6:]}"):
        assert _ids(listing.find_records(engine, bu, "people", spelling,
                                         PageRequest())) == ["C000007"]


def test_a_record_is_found_by_external_id_and_by_part_of_a_name(engine, bu, people):
    assert _ids(listing.find_records(engine, bu, "people", "C000012", PageRequest())) == [
        "C000012"]
    assert _ids(listing.find_records(engine, bu, "people", "ann12 lee",
                                     PageRequest())) == ["C000012"]
    assert len(listing.find_records(engine, bu, "people", "LEE", PageRequest()).items) == 30


def test_a_search_pages_by_keyset_without_gap_or_repeat(engine, bu, people):
    seen, after = [], 0
    while True:
        page = listing.find_records(engine, bu, "people", "ann", PageRequest(after, 7))
        seen += _ids(page)
        if not page.more:
            break
        after = page.last_id
    assert seen == [f"C{i:06d}" for i in range(30)]


def test_lists_come_with_their_record_counts(engine, bu, clock, tmp_path, people):
    import_people(engine, bu, clock, tmp_path, 3, name="few")
    page = listing.calling_lists_counted(engine, bu, PageRequest())
    assert [(c.calling_list.name, c.records) for c in page.items] == [("people", 30),
                                                                      ("few", 3)]


def test_a_dnc_number_is_found_in_any_spelling_on_every_list(engine, bu, clock):
    administration.dnc_add(engine, bu, clock, ["2125550100"], note="asked by phone")
    administration.dnc_add(engine, bu, clock, ["+1 212 555 0100"], group="vip")
    number, hits = administration.dnc_lookup(engine, bu, "(212) 555-0100")
    assert number == "+12125550100"
    assert [(h.list_name, h.is_default, h.entry.note) for h in hits] == [
        ("default", True, "asked by phone"), ("vip", False, "")]
    with pytest.raises(InvalidRequest) as refused:
        administration.dnc_lookup(engine, bu, "12")
    assert refused.value.field == "number"


def test_a_spreadsheet_safe_export_imports_back_the_same_numbers(engine, bu, clock, tmp_path):
    from proactive_sms.services import dnc_export, dnc_import

    administration.dnc_add(engine, bu, clock, ["2125550100", "2125550101"], note="=cmd|' /C'")
    text = "".join(dnc_export.csv_chunks(engine, bu, "default"))
    lines = text.splitlines()
    assert lines[0] == "number,source,note,added_at"
    assert lines[1].startswith("+12125550100,manual,'=cmd")  # a number stays a number
    path = tmp_path / "export.csv"
    path.write_text(text)
    report = dnc_import.import_numbers(engine, bu, clock, path, "copy")
    assert (report.added, report.rejected) == (2, 0)
