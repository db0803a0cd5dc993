"""Cells that a spreadsheet would run as formulas are written as text; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from proactive_sms.domain.spreadsheet_cells import csv_writer, neutral

SRC = Path(__file__).resolve().parents[2] / "src" / "proactive_sms"


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("+1 (212) 555-0100", "'+1 (212) 555-0100"),  # not a plain number: text
    ("+15551234567", "+15551234567"),  # E.164: validated digits, kept usable
    ("-12.50", "-12.50"),
    ("Ann = Lee", "Ann = Lee"),
    ("", ""),
    (42, 42),
    (None, None),
])
def test_formula_cells_become_text_and_numbers_stay(cell, written):
    assert neutral(cell) == written


def test_the_writer_neutralizes_every_cell_of_every_row():
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["number", "note"])
    writer.writerows([["+12125550100", "=1+2"], ["+12125550101", "@x"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["number", "note"], ["+12125550100", "'=1+2"], ["+12125550101", "'@x"]]


def test_every_csv_the_project_writes_goes_through_the_one_writer():
    writers = [str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
               if "csv.writer(" in path.read_text() or "DictWriter(" in path.read_text()]
    assert writers == ["domain/spreadsheet_cells.py"]
