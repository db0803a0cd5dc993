"""Issue 16: a template's bidi marks setting (auto: only where needed; off: none) and what the
marks cost, through the CLI (the API: tests/interfaces/api/test_template_bidi_marks.py)."""

from __future__ import annotations

import json

import pytest

from tests.interfaces.cli_runner import sales_cli

NAME_FIRST = "{FirstName} " + "ب" * 64  # 69 units bare, 71 with the fence the name needs


@pytest.fixture
def psms(tmp_path, monkeypatch):
    return sales_cli(tmp_path, monkeypatch)


def test_cli_preview_says_the_marks_cost_a_segment_and_off_saves_it(psms):
    out = psms("template", "preview", "--text", NAME_FIRST, "--direction", "rtl",
               "--set", "FirstName=Mona")
    assert "bidi marks" in out and "2 units" in out and "+1 segment(s)" in out
    data = json.loads(psms("template", "preview", "--text", NAME_FIRST, "--direction", "rtl",
                           "--set", "FirstName=Mona", "--json"))
    assert (data["segments"], data["bidi_mark_units"], data["bidi_mark_segments"]) == (2, 2, 1)
    data = json.loads(psms("template", "preview", "--text", NAME_FIRST, "--direction", "rtl",
                           "--set", "FirstName=Mona", "--bidi-marks", "off", "--json"))
    assert (data["segments"], data["bidi_mark_units"]) == (1, 0)
    assert data["rendered"].startswith("Mona ")
    assert "auto or off" in psms("template", "preview", "--text", NAME_FIRST,
                                 "--bidi-marks", "some", code=2)


def test_cli_template_keeps_its_setting_and_changes_it(psms):
    psms("template", "add", "ar", "--text", NAME_FIRST, "--bidi-marks", "off")
    assert json.loads(psms("template", "show", "ar", "--json"))["bidi_marks"] == "off"
    psms("template", "change", "ar", "--bidi-marks", "auto")
    shown = json.loads(psms("template", "show", "ar", "--json"))
    assert shown["bidi_marks"] == "auto" and shown["preview"]["bidi_mark_units"] == 2
    out = psms("template", "add", "bad", "--text", "x", "--bidi-marks", "never", code=2)
    assert "bidi_marks must be auto" in out
