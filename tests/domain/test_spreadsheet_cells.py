"""CSV cells a spreadsheet would run as formulas get a leading apostrophe; others stay."""

from __future__ import annotations

import pytest

from proactive_sms.domain.spreadsheet_cells import neutral, neutral_row


@pytest.mark.parametrize("cell", ["=1+1", "+12125550100", "-2", "@SUM(A1)", "\tx", "\rx",
                                  '=HYPERLINK("http://x")'])
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(cell):
    assert neutral(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Ann", "", "12 = 12", " =x", "'quoted", "مرحبا"])
def test_any_other_cell_is_left_as_it_is(cell):
    assert neutral(cell) == cell


def test_a_row_of_values_becomes_text():
    assert neutral_row([3, None, "=x"]) == ["3", "", "'=x"]
