"""Direction detection and bidi isolates (domain.direction)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain import direction as bidi
from proactive_sms.domain.direction import FSI, LRI, LRM, PDI, RLI, RLM

ARABIC = "مرحبا بك"
HEBREW = "שלום לך"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ARABIC, "rtl"),
        (HEBREW, "rtl"),
        ("Hello", "ltr"),
        ("Bonjour à tous", "ltr"),
        ("123 456", "neutral"),
        ("", "neutral"),
        ("!?, 12.50 $ - ()", "neutral"),
        ("١٢٣", "neutral"),  # Arabic-Indic digits are weak (AN), not strong
        (f"123 {ARABIC} Hello", "rtl"),  # digits skipped, Arabic comes first
        (f"Hi {ARABIC}", "ltr"),
        (f"{HEBREW} Hello", "rtl"),
        (f"{FSI}John{PDI} {ARABIC}", "rtl"),  # isolated content is skipped (UAX #9 P2)
        (f"{LRI}John{PDI} 42", "neutral"),
        (f"{FSI}{LRI}a{PDI}b{PDI} Hello", "ltr"),  # nested isolates skipped as a whole
        (f"{FSI}John", "neutral"),  # an unclosed isolate runs to the end
        (f"{RLM}Hello", "rtl"),  # RLM is itself a strong R character
        (f"{LRM}{ARABIC}", "ltr"),
    ],
)
def test_detect_direction_uses_first_strong_character(text: str, expected: str) -> None:
    assert bidi.detect_direction(text) == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("12345", "ltr"),
        ("1,250.00", "ltr"),
        ("$5", "ltr"),
        ("2024-05-01", "ltr"),
        ("+1 212 555 0100", "ltr"),
        ("١٢٣", "ltr"),  # a number in Arabic-Indic digits is still a number
        ("john@example.com", "ltr"),
        ("https://x.co/abc", "ltr"),
        ("www.example.com", "ltr"),
        ("bit.ly/3xYz", "ltr"),
        ("AB12CD", "ltr"),
        ("INV-2024-001", "ltr"),
        ("John", "auto"),  # names are unknown direction even when this one is Latin
        ("Mary Ann", "auto"),
        ("محمد", "auto"),
        ("محمد1", "auto"),
        ("John 3", "auto"),
        ("-", "auto"),
        ("مثال@example.com", "auto"),
    ],
)
def test_value_kind_marks_only_clearly_ltr_values(value: str, kind: str) -> None:
    assert bidi.value_kind(value) == kind


@pytest.mark.parametrize(
    ("kind", "opener"), [("ltr", LRI), ("rtl", RLI), ("auto", FSI)]
)
def test_isolate_wraps_value_in_opener_and_pdi(kind: str, opener: str) -> None:
    assert bidi.isolate("abc", kind) == f"{opener}abc{PDI}"  # type: ignore[arg-type]


def test_isolate_value_picks_lri_for_numbers_and_fsi_for_names() -> None:
    assert bidi.isolate_value("150") == f"{LRI}150{PDI}"
    assert bidi.isolate_value("John") == f"{FSI}John{PDI}"


def test_isolate_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown isolate kind 'sideways'"):
        bidi.isolate("x", "sideways")  # type: ignore[arg-type]


def test_isolate_drops_scope_controls_inside_value_but_keeps_marks() -> None:
    hostile = f"a{PDI}b\u202ec{LRI}d{LRM}"
    assert bidi.isolate(hostile, "auto") == f"{FSI}abcd{LRM}{PDI}"


@given(st.text(), st.sampled_from(["ltr", "rtl", "auto"]))
def test_isolate_is_always_balanced(value: str, kind: str) -> None:
    wrapped = bidi.isolate(value, kind)  # type: ignore[arg-type]
    inner = wrapped[1:-1]
    assert wrapped[0] in (LRI, RLI, FSI) and wrapped[-1] == PDI
    assert not any(ch in inner for ch in (LRI, RLI, FSI, PDI, "\u202a", "\u202b", "\u202e"))


@given(st.text())
def test_an_isolated_value_never_decides_the_direction_of_rtl_text(value: str) -> None:
    assert bidi.detect_direction(bidi.isolate_value(value) + " " + ARABIC) == "rtl"


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("see https://x.co/abc now", ["https://x.co/abc"]),
        ("www.example.com/a?b=1", ["www.example.com/a?b=1"]),
        ("bit.ly/3xYz and more", ["bit.ly/3xYz"]),
        ("mailto:a@b.co", ["mailto:a@b.co"]),
        ("example.com?id=7", ["example.com?id=7"]),
        ("ends on x.co. Thanks", []),  # a bare domain needs a path to count
        ("1.5/day", []),
        ("no links here", []),
    ],
)
def test_url_pattern_finds_links_up_to_white_space(text: str, urls: list[str]) -> None:
    assert [m.group() for m in bidi.URL.finditer(text)] == urls


@given(st.text(alphabet=st.sampled_from("ab.:/?#w -Wx1"), max_size=30) | st.text(max_size=30))
def test_might_hold_url_never_misses_a_url(text: str) -> None:
    if bidi.URL.search(text):
        assert bidi.might_hold_url(text)
