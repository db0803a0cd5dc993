"""Encoding choice, segment counts at every boundary, splitting, smart replacement, codecs."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from proactive_sms.domain import encoding as encoding_module
from proactive_sms.domain.encoding import (
    PART_LIMIT,
    SINGLE_LIMIT,
    Encoding,
    Gsm7EncodeError,
    analyze,
    basic_gsm7_segments,
    count_units,
    decode_gsm7,
    decode_ucs2,
    encode,
    encode_gsm7,
    encode_ucs2,
    is_gsm7,
    smart_replace,
    split_parts,
)
from proactive_sms.domain.gsm7 import BASIC_CHARS, EXTENSION_CHARS

ZH = "ж"  # Cyrillic zhe: a BMP character outside GSM-7, one UTF-16 unit, forces UCS-2
EMOJI = "😀"  # U+1F600: outside the BMP, two UTF-16 units (a surrogate pair)
EMOJI_AS_CODE_POINTS = "\ud83d\ude00"  # the same pair spelled as two code points
FSI, PDI, LRI = "\u2068", "\u2069", "\u2066"
ARABIC = "مرحبا بكم"  # "welcome"


def measure(part: str, encoding: Encoding) -> int:
    """Units of a part measured by encoding it, independently of the code under test's counting."""
    if encoding is Encoding.GSM7:
        return len(encode_gsm7(part))
    return len(part.encode("utf-16-be", "surrogatepass")) // 2


# --- analyze: encoding, units, segments, limit, remaining -------------------------------------

ANALYZE_CASES = [
    # id, text, encoding, units, segments, per_segment_limit, remaining_in_segment
    ("empty", "", Encoding.GSM7, 0, 1, 160, 160),
    ("gsm 1", "a", Encoding.GSM7, 1, 1, 160, 159),
    ("gsm 160", "a" * 160, Encoding.GSM7, 160, 1, 160, 0),
    ("gsm 161", "a" * 161, Encoding.GSM7, 161, 2, 153, 145),
    ("gsm 306", "a" * 306, Encoding.GSM7, 306, 2, 153, 0),
    ("gsm 307", "a" * 307, Encoding.GSM7, 307, 3, 153, 152),
    ("gsm 459", "a" * 459, Encoding.GSM7, 459, 3, 153, 0),
    ("gsm 460", "a" * 460, Encoding.GSM7, 460, 4, 153, 152),
    ("gsm accents", "é" * 161, Encoding.GSM7, 161, 2, 153, 145),
    ("158 + euro = 160", "a" * 158 + "€", Encoding.GSM7, 160, 1, 160, 0),
    ("159 + euro = 161", "a" * 159 + "€", Encoding.GSM7, 161, 2, 153, 145),
    ("80 euros = 160", "€" * 80, Encoding.GSM7, 160, 1, 160, 0),
    # 76 euros (152 septets) fill a part: the 77th would need septets 153-154
    ("80 euros + 1", "€" * 80 + "a", Encoding.GSM7, 161, 2, 153, 144),
    # 306 septets would be 2 parts by division, but escape pairs cannot be cut: 76 + 76 + 1
    ("153 euros", "€" * 153, Encoding.GSM7, 306, 3, 153, 151),
    ("brace at 153", "a" * 152 + "{" + "b" * 10, Encoding.GSM7, 164, 2, 153, 141),
    ("ucs2 70", ZH * 70, Encoding.UCS2, 70, 1, 70, 0),
    ("ucs2 71", ZH * 71, Encoding.UCS2, 71, 2, 67, 63),
    ("ucs2 134", ZH * 134, Encoding.UCS2, 134, 2, 67, 0),
    ("ucs2 135", ZH * 135, Encoding.UCS2, 135, 3, 67, 66),
    ("ucs2 201", ZH * 201, Encoding.UCS2, 201, 3, 67, 0),
    ("ucs2 202", ZH * 202, Encoding.UCS2, 202, 4, 67, 66),
    ("one non-gsm char", "a" * 69 + "ç", Encoding.UCS2, 70, 1, 70, 0),
    ("one non-gsm char, 71", "a" * 70 + "ç", Encoding.UCS2, 71, 2, 67, 63),
    ("extension char in ucs2 is 1 unit", "€" * 69 + "ç", Encoding.UCS2, 70, 1, 70, 0),
    ("emoji fills 69-70", ZH * 68 + EMOJI, Encoding.UCS2, 70, 1, 70, 0),
    ("emoji makes 71", ZH * 69 + EMOJI, Encoding.UCS2, 71, 2, 67, 63),
    # 134 units would be 2 parts by division, but a part holds 33 emoji (66 units): 33 + 33 + 1
    ("67 emoji", EMOJI * 67, Encoding.UCS2, 134, 3, 67, 65),
    ("35 emoji = 70", EMOJI * 35, Encoding.UCS2, 70, 1, 70, 0),
    ("emoji as code points", ZH * 68 + EMOJI_AS_CODE_POINTS, Encoding.UCS2, 70, 1, 70, 0),
    ("arabic", ARABIC, Encoding.UCS2, 9, 1, 70, 61),
    ("arabic 71", "ب" * 71, Encoding.UCS2, 71, 2, 67, 63),
    ("isolates", f"Hi {FSI}Ahmed{PDI}!", Encoding.UCS2, 11, 1, 70, 59),
    ("isolate fills 70", "a" * 68 + LRI + "b", Encoding.UCS2, 70, 1, 70, 0),
    ("isolate makes 71", "a" * 68 + LRI + "bc", Encoding.UCS2, 71, 2, 67, 63),
    (
        "rtl with merged ltr value",
        f"مرحبا {FSI}Sam{PDI} {LRI}42{PDI}",
        Encoding.UCS2,
        16,
        1,
        70,
        54,
    ),
]


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments", "limit", "remaining"),
    [case[1:] for case in ANALYZE_CASES],
    ids=[case[0] for case in ANALYZE_CASES],
)
def test_analyze_counts(
    text: str, encoding: Encoding, units: int, segments: int, limit: int, remaining: int
) -> None:
    report = analyze(text)
    assert report.text == text
    assert report.encoding is encoding
    assert report.units == units
    assert report.segments == segments
    assert report.per_segment_limit == limit
    assert report.remaining_in_segment == remaining
    assert len(split_parts(text, encoding)) == segments


UNICODE_CHARS_CASES = [
    ("Héllo, Ça va?", ()),  # é and Ç are GSM-7
    ("Price: 5€ [net] {ok} ~ ^ | \\", ()),  # extension characters are GSM-7 too
    ("Ça va? ça va.", ("ç",)),  # only the lower-case ç is missing from GSM-7
    ("naïve café ça naïve", ("ï", "ç")),
    (f"{EMOJI}{EMOJI}a😁", (EMOJI, "😁")),
    ("`quoted`", ("`",)),
    ("tab\there", ("\t",)),
    (f"Hi {FSI}أحمد{PDI}", (FSI, "أ", "ح", "م", "د", PDI)),
    ("\u201cHi\u201d \u2014 ok\u2026\u201c", ("\u201c", "\u201d", "\u2014", "\u2026")),
]


@pytest.mark.parametrize(("text", "expected"), UNICODE_CHARS_CASES)
def test_unicode_chars_are_exactly_the_offenders_in_first_seen_order(
    text: str, expected: tuple[str, ...]
) -> None:
    report = analyze(text)
    assert report.unicode_chars == expected
    assert report.encoding is (Encoding.UCS2 if expected else Encoding.GSM7)


# --- split_parts ------------------------------------------------------------------------------

SPLIT_CASES = [
    ("empty", "", Encoding.GSM7, [""]),
    ("fits", "a" * 160, Encoding.GSM7, ["a" * 160]),
    ("161", "a" * 161, Encoding.GSM7, ["a" * 153, "a" * 8]),
    (
        "brace at 153 moves on",
        "a" * 152 + "{" + "b" * 10,
        Encoding.GSM7,
        ["a" * 152, "{" + "b" * 10],
    ),
    (
        "brace at 152-153 stays",
        "a" * 151 + "{" + "b" * 10,
        Encoding.GSM7,
        ["a" * 151 + "{", "b" * 10],
    ),
    ("159 + euro", "a" * 159 + "€", Encoding.GSM7, ["a" * 153, "a" * 6 + "€"]),
    ("ucs2 71", ZH * 71, Encoding.UCS2, [ZH * 67, ZH * 4]),
    ("emoji at 67 moves on", ZH * 66 + EMOJI + ZH * 10, Encoding.UCS2, [ZH * 66, EMOJI + ZH * 10]),
    ("emoji at 66-67 stays", ZH * 65 + EMOJI + ZH * 10, Encoding.UCS2, [ZH * 65 + EMOJI, ZH * 10]),
    (
        "pair as code points moves on whole",
        ZH * 66 + EMOJI_AS_CODE_POINTS + ZH * 10,
        Encoding.UCS2,
        [ZH * 66, EMOJI_AS_CODE_POINTS + ZH * 10],
    ),
    # GSM text may be sent as UCS-2 on request; then '€' is one unit and limits are 70 / 67
    ("gsm text forced to ucs2", "a" * 70 + "€", Encoding.UCS2, ["a" * 67, "aaa€"]),
]


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [case[1:] for case in SPLIT_CASES],
    ids=[case[0] for case in SPLIT_CASES],
)
def test_split_parts(text: str, encoding: Encoding, parts: list[str]) -> None:
    assert split_parts(text, encoding) == parts


def test_split_parts_as_gsm7_rejects_non_gsm_text_naming_the_character() -> None:
    with pytest.raises(Gsm7EncodeError, match="'ç'.*index 2"):
        split_parts("a ç" * 100, Encoding.GSM7)


# --- smart replacement ------------------------------------------------------------------------

SMART_CASES = [
    ("\u201cHi\u201d", '"Hi"'),
    ("it\u2019s \u2018ok\u2019", "it's 'ok'"),
    ("\u201eGuten Tag\u201c, \u201aja\u2018", "\"Guten Tag\", 'ja'"),
    ("\u00abBonjour\u00bb", '"Bonjour"'),
    ("9\u201317 \u2014 open", "9-17 - open"),
    ("\u2212 5 \u2010 \u2011 \u2012 \u2015", "- 5 - - - -"),
    ("wait\u2026", "wait..."),
    ("10\u00a0€", "10 €"),
    ("a\u2009b\u202fc\u3000d", "a b c d"),
    ("line\u2028next\u2029", "line\nnext\n"),
    ("soft\u00adhyphen\u200b\ufeff", "softhyphen"),
    ("`tick\u00b4", "'tick'"),
    ("5\u2032 11\u2033", "5' 11\""),
    ("Cafe\u0301", "Café"),  # combining accent composed into GSM-7's precomposed é
    ("\u2126", "Ω"),  # OHM SIGN is canonically GREEK CAPITAL OMEGA
    ("e\u00ad\u0301", "é"),  # removing the soft hyphen lets the accent compose
    ("\u1ffd", "'"),  # GREEK OXIA normalizes to U+00B4, which the table then replaces
    # left alone: bidi isolates and marks, ZWJ/ZWNJ carry meaning; accents are spelling
    (f"{FSI}x{PDI}\u200f\u200e\u200d\u200c", f"{FSI}x{PDI}\u200f\u200e\u200d\u200c"),
    ("ça, ï, á", "ça, ï, á"),
    (ARABIC, ARABIC),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), SMART_CASES)
def test_smart_replace(text: str, expected: str) -> None:
    assert smart_replace(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "\u201cDon\u2019t\u201d \u2013 call us\u2026",
        "Shift open\u00a0\u2014 reply YES",
        "\u2018a\u2019 " * 60,  # 240 characters: 4 parts as UCS-2, 2 as GSM-7
    ],
)
def test_smart_analysis_turns_look_alike_only_text_into_gsm7(text: str) -> None:
    plain = analyze(text)
    smart = analyze(text, smart=True)
    assert plain.encoding is Encoding.UCS2
    assert plain.unicode_chars
    assert smart.encoding is Encoding.GSM7
    assert smart.unicode_chars == ()
    assert smart.text == smart_replace(text)
    assert smart.segments <= plain.segments


def test_smart_analysis_keeps_the_original_when_text_stays_ucs2() -> None:
    text = f"\u201c{ARABIC}\u201d\u2026"
    report = analyze(text, smart=True)
    assert report.encoding is Encoding.UCS2
    assert report.text == text  # typography kept: the replacement would not have saved a thing
    arabic_letters = tuple(dict.fromkeys(ARABIC.replace(" ", "")))
    assert report.unicode_chars == ("\u201c", *arabic_letters, "\u201d", "\u2026")


def test_smart_analysis_keeps_the_original_when_gsm7_would_cost_more_parts() -> None:
    text = "\u2026" * 60  # UCS-2: 60 units, 1 part; as "..." GSM-7: 180 septets, 2 parts
    report = analyze(text, smart=True)
    assert report.encoding is Encoding.UCS2
    assert report.text == text
    assert report.segments == 1


def test_smart_has_no_effect_on_gsm7_text() -> None:
    text = "Bonus shift open 18:00-22:00, reply YES (€5 extra)"
    assert analyze(text, smart=True) == analyze(text)


# --- codecs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "data"),
    [
        ("@$€", Encoding.GSM7, b"\x00\x02\x1b\x65"),
        ("Hi", Encoding.UCS2, b"\x00H\x00i"),
        ("ب", Encoding.UCS2, b"\x06\x28"),
        (EMOJI, Encoding.UCS2, b"\xd8\x3d\xde\x00"),
        (EMOJI_AS_CODE_POINTS, Encoding.UCS2, b"\xd8\x3d\xde\x00"),
        (FSI, Encoding.UCS2, b"\x20\x68"),
    ],
)
def test_encode_dispatches(text: str, encoding: Encoding, data: bytes) -> None:
    assert encode(text, encoding) == data


def test_data_coding_values_for_smpp() -> None:
    assert Encoding.GSM7.data_coding == 0x00
    assert Encoding.UCS2.data_coding == 0x08
    assert Encoding("gsm7") is Encoding.GSM7
    assert str(Encoding.UCS2) == "ucs2"


def test_encode_gsm7_refuses_ucs2_text_naming_character_and_index() -> None:
    with pytest.raises(ValueError, match=r"'ب' \(U\+0628\) at index 4"):
        encode("Hi, ب", Encoding.GSM7)


@pytest.mark.parametrize(("text", "index"), [("\ud83d", 0), ("ab\ude00", 2), ("\ude00\ud83d", 0)])
def test_encode_ucs2_refuses_a_lone_surrogate(text: str, index: int) -> None:
    with pytest.raises(ValueError, match=f"lone surrogate .* at index {index}"):
        encode_ucs2(text)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x00H\x00", "odd length"),
        (b"\xd8\x3d", "surrogate pair at octet 0"),
        (b"\x00a\xde\x00", "surrogate pair at octet 2"),
    ],
)
def test_decode_ucs2_rejects_broken_data(data: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        decode_ucs2(data)


def test_count_units() -> None:
    assert count_units("a€", Encoding.GSM7) == 3
    assert count_units("a€", Encoding.UCS2) == 2
    assert count_units(EMOJI + FSI, Encoding.UCS2) == 3
    with pytest.raises(Gsm7EncodeError):
        count_units("ç", Encoding.GSM7)


# --- properties -------------------------------------------------------------------------------

_gsm_char = st.one_of(
    st.sampled_from(sorted(BASIC_CHARS)), st.sampled_from(sorted(EXTENSION_CHARS))
)
_other_char = st.one_of(
    st.characters(min_codepoint=0xA0, max_codepoint=0xFF),  # Latin-1: some GSM, most not
    st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),  # Arabic
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji, outside the BMP
    st.sampled_from([FSI, PDI, LRI, "\u2067", "\u200f", "\u2019", "\u2026", "\u00a0"]),
)
_gsm_text = st.text(alphabet=_gsm_char, max_size=480)
# Sizes drawn around the 1/2/3-part boundaries, where the off-by-ones live.
_long_gsm_text = st.text(alphabet=_gsm_char, min_size=140, max_size=330)
# Mostly GSM with a few others sprinkled in, so a single offender decides the encoding.
_mixed_text = st.lists(st.one_of(_gsm_char, _gsm_char, _gsm_char, _other_char), max_size=300).map(
    "".join
)
_ucs2_heavy_text = st.text(alphabet=_other_char, min_size=30, max_size=300)
texts = st.one_of(_gsm_text, _long_gsm_text, _mixed_text, _ucs2_heavy_text)


def check_parts(text: str, encoding: Encoding) -> list[str]:
    parts = split_parts(text, encoding)
    assert "".join(parts) == text
    if len(parts) == 1:
        assert measure(parts[0], encoding) <= SINGLE_LIMIT[encoding]
    else:
        assert measure(text, encoding) > SINGLE_LIMIT[encoding]
        for part in parts:
            assert 0 < measure(part, encoding) <= PART_LIMIT[encoding]
        # tight packing: a cut only happens where the next piece (at most 2 units) did not fit
        for part in parts[:-1]:
            assert measure(part, encoding) >= PART_LIMIT[encoding] - 1
    for part in parts:
        units = part.encode("utf-16-be", "surrogatepass")
        if units:
            assert not 0xD800 <= int.from_bytes(units[-2:]) <= 0xDBFF, "ends with a high surrogate"
            assert not 0xDC00 <= int.from_bytes(units[:2]) <= 0xDFFF, "starts with a low surrogate"
    return parts


@settings(max_examples=400)
@given(texts)
@example("a" * 152 + "{" * 5)
@example("€" * 153)
@example(EMOJI * 67)
@example(ZH * 66 + EMOJI * 3)
def test_parts_rejoin_fit_their_limit_and_match_the_reported_segments(text: str) -> None:
    report = analyze(text)
    parts = check_parts(text, report.encoding)
    assert len(parts) == report.segments
    assert report.units == measure(text, report.encoding)
    assert report.remaining_in_segment == report.per_segment_limit - measure(
        parts[-1], report.encoding
    )
    if report.units <= SINGLE_LIMIT[report.encoding]:
        assert report.segments == 1
        assert report.per_segment_limit == SINGLE_LIMIT[report.encoding]
    else:
        assert report.segments >= max(2, math.ceil(report.units / PART_LIMIT[report.encoding]))
        assert report.per_segment_limit == PART_LIMIT[report.encoding]
    # the encoding is UCS-2 exactly when some character is outside GSM-7, and those are listed
    assert (report.encoding is Encoding.GSM7) == is_gsm7(text)
    assert set(report.unicode_chars) == {c for c in text if not is_gsm7(c)}
    assert len(set(report.unicode_chars)) == len(report.unicode_chars)


@given(texts)
def test_any_text_can_be_split_as_ucs2(text: str) -> None:
    check_parts(text, Encoding.UCS2)


# Text that went through a surrogatepass round trip holds pairs as two code points, which a naive
# str slice would cut; 40+ pieces make sure a part boundary falls among them.
_pieces = st.one_of(_other_char, st.just(EMOJI_AS_CODE_POINTS), st.just(ZH))


@given(st.lists(_pieces, min_size=40, max_size=200))
def test_surrogate_pairs_spelled_as_code_points_are_never_cut(pieces: list[str]) -> None:
    check_parts("".join(pieces), Encoding.UCS2)


@given(texts)
def test_encode_decode_round_trip(text: str) -> None:
    report = analyze(text)
    data = encode(text, report.encoding)
    if report.encoding is Encoding.GSM7:
        assert decode_gsm7(data) == text
        assert len(data) == report.units
    else:
        assert decode_ucs2(data) == text
        assert len(data) == 2 * report.units
    assert decode_ucs2(encode_ucs2(text)) == text  # any text can go as UCS-2


@given(texts)
def test_smart_never_costs_more_parts_and_is_idempotent(text: str) -> None:
    smart = analyze(text, smart=True)
    assert smart.segments <= analyze(text).segments
    assert smart.text in (text, smart_replace(text))
    assert smart_replace(smart_replace(text)) == smart_replace(text)


@given(st.text())
def test_smart_replace_is_idempotent_on_any_unicode(text: str) -> None:
    once = smart_replace(text)
    assert smart_replace(once) == once


@given(_gsm_text)
def test_smart_replace_leaves_gsm7_text_unchanged(text: str) -> None:
    assert smart_replace(text) == text


# The arithmetic fast path of the packing (every character one unit) against the piece-by-piece
# packing it stands in for, on the texts that take it and on the ones that must not.
_basic_text = st.text(alphabet=st.sampled_from(sorted(BASIC_CHARS)), max_size=480)
_bmp_text = st.text(alphabet=st.characters(max_codepoint=0xD7FF), max_size=300)


@settings(max_examples=300)
@given(st.one_of(_basic_text, _bmp_text, texts))
@example("a" * 160)
@example("a" * 161)
@example("a" * 306)
@example("a" * 307)
@example(ZH * 70)
@example(ZH * 71)
@example(ZH * 134)
@example(ZH * 135)
@example("\ue000" * 71)
def test_fast_packing_is_the_piece_by_piece_packing(text: str) -> None:
    for encoding in Encoding:
        if encoding is Encoding.GSM7 and not is_gsm7(text):
            continue
        assert encoding_module._pack(text, encoding) == encoding_module._pack_atoms(text, encoding)


@settings(max_examples=300)
@given(st.one_of(_basic_text, texts, st.text(max_size=400)))
@example("a" * 160)
@example("a" * 161)
@example("a" * 306)
@example("a" * 307)
@example("a{b")
@example("tab\there")
def test_basic_gsm7_segments_is_what_analyze_says_whenever_it_answers(text: str) -> None:
    segments = basic_gsm7_segments(text)
    if segments is None:
        assert not (text.isascii() and BASIC_CHARS.issuperset(text))
        return
    for smart in (False, True):
        report = analyze(text, smart=smart)
        assert (report.segments, report.encoding, report.text) == (segments, Encoding.GSM7, text)
