"""Bidi marks only where needed: a right-to-left text never shows differently from the text with
every value fenced, and a fence that changes nothing is not paid for."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proactive_sms.domain import bidi_marks, encoding
from proactive_sms.domain import template as tpl
from proactive_sms.domain.direction import FSI, LRI, PDI

ARABIC_WORDS = ["مرحبا", "رصيدك", "ريال", "شكرا", "اتصل", "على", "الرمز", "موعدك", "يوم"]
HEBREW_WORDS = ["שלום", "כתבו", "תודה"]
PUNCTUATION = ["، ", ". ", ": ", " - ", " (", ") ", "! ", " ", "\n", " ", "؟ ", ", "]

_latin_name = st.sampled_from(["John", "Ann-Marie", "O'Neil", "Li Wei", "José", "DJ 3"])
_arabic_name = st.sampled_from(["محمد", "فاطمة الزهراء", "علي", "عبد الله"])
_hebrew_name = st.sampled_from(["דנה", "יוסי כהן"])
_number = st.sampled_from(["150.25", "-5", "1,000", "12%", "$40", "3/4", "2026-12-31", "10:30",
                           "٣٤٥", "+12025550143", "555-0100", "+1 (202) 555-0143", "#4"])
_other = st.sampled_from(["help@x.co", "https://x.co/a", "AB12CD", "(VIP)", "!", "A-1001",
                          "John 5", "5 John", "محمد 2", "Z", "x.co/a?b=1"])
_value = st.one_of(_latin_name, _arabic_name, _hebrew_name, _number, _other,
                   st.text(st.characters(blacklist_categories=("Cs",)), min_size=1,
                           max_size=6).filter(str.strip))
_literal = st.lists(st.one_of(st.sampled_from(ARABIC_WORDS), st.sampled_from(HEBREW_WORDS),
                              st.sampled_from(PUNCTUATION), st.sampled_from(["5", "Hi", "x"])),
                    max_size=4).map("".join)


def _reference(parsed: tpl.Template, record: dict[str, str]) -> str:
    """The text with every value fenced, as it was rendered before fences became optional."""
    merged = [piece if isinstance(piece, str) else record[piece.name] for piece in parsed.pieces]
    return bidi_marks.join_fenced(*tpl.fence_pieces(parsed, merged))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_literal, _value), min_size=1, max_size=4), _literal)
def test_a_right_to_left_text_shows_exactly_as_with_every_value_fenced(parts, tail) -> None:
    body = "".join(f"{literal.replace('{', '').replace('}', '')}{{F{i}}}"
                   for i, (literal, _) in enumerate(parts)) + tail
    parsed = tpl.parse(body)
    record = {f"F{i}": value for i, (_, value) in enumerate(parts)}
    rendered = tpl.render(parsed, record, "rtl")
    reference = _reference(parsed, record)
    assert bidi_marks.shown(rendered) == bidi_marks.shown(reference)
    assert len(rendered) <= len(reference)  # never more controls than fencing everything


def test_shown_reverses_a_number_after_arabic_when_it_is_not_fenced() -> None:
    # The oracle itself: the classic phone-number reorder, and the fence that prevents it.
    assert bidi_marks.shown("اتصل 555-0100") != bidi_marks.shown(f"اتصل {LRI}555-0100{PDI}")
    assert bidi_marks.shown("اتصل 555") == bidi_marks.shown(f"اتصل {LRI}555{PDI}")


def test_shown_finds_each_paragraphs_direction_on_its_own() -> None:
    assert bidi_marks.shown("Hi John\nمرحبا") == ["Hi John", "ابحرم"]


@pytest.mark.parametrize(("body", "values", "expected"), [
    # a name starting the text would turn the whole paragraph left-to-right
    ("{Name} مرحبا", {"Name": "John"}, f"{FSI}John{PDI} مرحبا"),
    ("{Name} مرحبا", {"Name": "محمد"}, "محمد مرحبا"),
    # a name followed by a digit: unfenced, the digit would join the name's run
    ("مرحبا {Name} 5 شكرا", {"Name": "John"}, f"مرحبا {FSI}John{PDI} 5 شكرا"),
    ("مرحبا {Name} شكرا", {"Name": "John Smith"}, "مرحبا John Smith شكرا"),
    # a sign or a separator that the digits' Arabic context would move
    ("المبلغ {Amount} ريال", {"Amount": "-150.25"}, f"المبلغ {LRI}-150.25{PDI} ريال"),
    ("اتصل {Phone}", {"Phone": "+12025550143"}, f"اتصل {LRI}+12025550143{PDI}"),
    ("الموعد {Date} الساعة {Time}", {"Date": "2026-12-31", "Time": "10:30"},
     f"الموعد {LRI}2026-12-31{PDI} الساعة 10:30"),
])
def test_fences_are_kept_exactly_where_the_order_would_change(body, values, expected) -> None:
    assert tpl.render(tpl.parse(body), values, "rtl") == expected


def test_a_text_of_one_segment_stays_one_segment() -> None:
    # The case: 67 units of Arabic with two Latin values became 71 (two segments) when
    # every value was fenced; here these values need no fence, so the text stays at 67.
    body = "مرحبا {FirstName}، لديك موعد مع الدكتور {Doctor} غدا. للإلغاء أرسل لا يا"
    values = {"FirstName": "Alexander", "Doctor": "Smith"}
    parsed = tpl.parse(body)
    rendered = tpl.render(parsed, values, "rtl")
    fenced = _reference(parsed, values)
    assert len(rendered) == 67 and len(fenced) == 71
    assert encoding.analyze(rendered).segments == 1
    assert encoding.analyze(fenced).segments == 2
    assert bidi_marks.shown(rendered) == bidi_marks.shown(fenced)


def test_more_runs_than_stand_ins_keeps_every_fence() -> None:
    # A text with more separate runs of Arabic-Indic digits than there are stand-ins for them
    # cannot be checked; it is sent fenced, as before.
    many = " ".join("١" for _ in range(60))
    parsed = tpl.parse("رقم {A} " + many)
    rendered = tpl.render(parsed, {"A": "555-0100"}, "rtl")
    assert rendered.startswith(f"رقم {LRI}555-0100{PDI}")


def test_a_hostile_value_loses_its_overrides_fenced_or_not() -> None:
    rendered = tpl.render(tpl.parse("مرحبا {Name}"), {"Name": "\u202eمحمد"}, "rtl")
    assert "\u202e" not in rendered
