"""Invisible characters in a template body: bidi controls and control characters are refused with
their position, zero-width and other format characters are warned about; every way in (the
service the API and CLI call, an ad-hoc text) gets the same answer from domain.template."""

from __future__ import annotations

import pytest

from proactive_sms.domain import template
from proactive_sms.domain.template import TemplateError


@pytest.mark.parametrize(("body", "position", "words"), [
    ("Pay \u202e0.01$ now", 4, "RIGHT-TO-LEFT OVERRIDE"),
    ("Hi \u202a{FirstName}", 3, "LEFT-TO-RIGHT EMBEDDING"),
    ("x\u202c", 1, "POP DIRECTIONAL FORMATTING"),
    ("Code \u2066{Code}\u2069", 5, "LEFT-TO-RIGHT ISOLATE"),
    ("\u2068name", 0, "FIRST STRONG ISOLATE"),
    ("Hi\tthere", 2, "U+0009 (TAB)"),
    ("Hi\x00", 2, "U+0000"),
    ("Hi\x1b[31m", 2, "U+001B"),
    ("line\rbreak", 4, "CARRIAGE RETURN"),
    ("DEL\x7f", 3, "U+007F"),
    ("C1\x85next", 2, "U+0085"),
    ("C1\x9b", 2, "U+009B"),
])
def test_dangerous_characters_are_refused_at_their_position(body, position, words):
    with pytest.raises(TemplateError) as refused:
        template.parse(body)
    assert refused.value.position == position
    assert words in refused.value.reason


@pytest.mark.parametrize("body", ["Hi {FirstName},\nsee you", "Windows\r\nline", "مرحبا {Name}",
                                  "emoji 👩\u200d💻 ok", "plain"])
def test_newlines_and_ordinary_text_are_accepted(body):
    template.parse(body)


def test_zero_width_and_format_characters_are_warned_about_with_positions():
    body = "Hi\u200b {FirstName}\u200d! \ufeff\u200f"
    template.parse(body)  # accepted
    assert [(w.position, w.reason.split(" (")[0]) for w in template.warnings(body)] == [
        (2, "invisible character U+200B"), (15, "invisible character U+200D"),
        (18, "invisible character U+FEFF"), (19, "invisible character U+200F")]
    assert "ZERO WIDTH SPACE" in str(template.warnings(body)[0])
    assert template.warnings("Hi {FirstName}\nbye") == []
