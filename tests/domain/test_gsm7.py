"""The GSM 03.38 tables and the unpacked codec, checked against the standard's code points."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain.gsm7 import (
    BASIC_TO_CHAR,
    ESCAPE,
    EXTENSION_TO_CHAR,
    GSM7_CHARS,
    Gsm7EncodeError,
    count_septets,
    decode_gsm7,
    encode_gsm7,
    is_gsm7,
    septet_cost,
)

# TS 23.038 default alphabet as (septet, Unicode code point), written as numbers rather than
# glyphs so that a look-alike in the implementation (Latin 'A' for Greek Alpha, OHM SIGN for
# OMEGA, a different "ß") cannot hide behind an identical-looking test.
STANDARD_BASIC: dict[int, int] = {
    0x00: 0x0040, 0x01: 0x00A3, 0x02: 0x0024, 0x03: 0x00A5,
    0x04: 0x00E8, 0x05: 0x00E9, 0x06: 0x00F9, 0x07: 0x00EC,
    0x08: 0x00F2, 0x09: 0x00C7, 0x0A: 0x000A, 0x0B: 0x00D8,
    0x0C: 0x00F8, 0x0D: 0x000D, 0x0E: 0x00C5, 0x0F: 0x00E5,
    0x10: 0x0394, 0x11: 0x005F, 0x12: 0x03A6, 0x13: 0x0393,
    0x14: 0x039B, 0x15: 0x03A9, 0x16: 0x03A0, 0x17: 0x03A8,
    0x18: 0x03A3, 0x19: 0x0398, 0x1A: 0x039E,  # 0x1B is ESCAPE
    0x1C: 0x00C6, 0x1D: 0x00E6, 0x1E: 0x00DF, 0x1F: 0x00C9,
    0x20: 0x0020, 0x21: 0x0021, 0x22: 0x0022, 0x23: 0x0023,
    0x24: 0x00A4, 0x25: 0x0025, 0x26: 0x0026, 0x27: 0x0027,
    0x28: 0x0028, 0x29: 0x0029, 0x2A: 0x002A, 0x2B: 0x002B,
    0x2C: 0x002C, 0x2D: 0x002D, 0x2E: 0x002E, 0x2F: 0x002F,
    **{code: code for code in range(0x30, 0x40)},  # digits and : ; < = > ? as in ASCII
    0x40: 0x00A1,
    **{code: code for code in range(0x41, 0x5B)},  # A-Z as in ASCII
    0x5B: 0x00C4, 0x5C: 0x00D6, 0x5D: 0x00D1, 0x5E: 0x00DC, 0x5F: 0x00A7,
    0x60: 0x00BF,
    **{code: code for code in range(0x61, 0x7B)},  # a-z as in ASCII
    0x7B: 0x00E4, 0x7C: 0x00F6, 0x7D: 0x00F1, 0x7E: 0x00FC, 0x7F: 0x00E0,
}  # fmt: skip

STANDARD_EXTENSION: dict[int, int] = {
    0x0A: 0x000C, 0x14: 0x005E, 0x28: 0x007B, 0x29: 0x007D, 0x2F: 0x005C,
    0x3C: 0x005B, 0x3D: 0x007E, 0x3E: 0x005D, 0x40: 0x007C, 0x65: 0x20AC,
}  # fmt: skip


def test_basic_table_is_exactly_the_standard_127_characters_plus_escape() -> None:
    assert len(STANDARD_BASIC) == 127
    assert {code: ord(char) for code, char in BASIC_TO_CHAR.items()} == STANDARD_BASIC


def test_extension_table_is_exactly_the_standard_ten() -> None:
    assert {code: ord(char) for code, char in EXTENSION_TO_CHAR.items()} == STANDARD_EXTENSION


def test_basic_and_extension_characters_do_not_overlap() -> None:
    assert not set(BASIC_TO_CHAR.values()) & set(EXTENSION_TO_CHAR.values())
    assert len(GSM7_CHARS) == 127 + 10


@pytest.mark.parametrize(
    ("char", "code"),
    [
        ("@", 0x00), ("£", 0x01), ("$", 0x02), ("¥", 0x03), ("è", 0x04), ("é", 0x05),
        ("ù", 0x06), ("ì", 0x07), ("ò", 0x08), ("Ç", 0x09), ("\n", 0x0A), ("Ø", 0x0B),
        ("ø", 0x0C), ("\r", 0x0D), ("Å", 0x0E), ("å", 0x0F), ("Δ", 0x10), ("_", 0x11),
        ("Φ", 0x12), ("Γ", 0x13), ("Λ", 0x14), ("Ω", 0x15), ("Π", 0x16), ("Ψ", 0x17),
        ("Σ", 0x18), ("Θ", 0x19), ("Ξ", 0x1A), ("Æ", 0x1C), ("æ", 0x1D), ("ß", 0x1E),
        ("É", 0x1F), (" ", 0x20), ("¤", 0x24), ("¡", 0x40), ("Ä", 0x5B), ("Ö", 0x5C),
        ("Ñ", 0x5D), ("Ü", 0x5E), ("§", 0x5F), ("¿", 0x60), ("ä", 0x7B), ("ö", 0x7C),
        ("ñ", 0x7D), ("ü", 0x7E), ("à", 0x7F),
    ],
)  # fmt: skip
def test_notable_basic_characters_encode_to_their_single_septet(char: str, code: int) -> None:
    assert encode_gsm7(char) == bytes([code])
    assert decode_gsm7(bytes([code])) == char
    assert septet_cost(char) == 1


@pytest.mark.parametrize(
    ("char", "code"),
    [("\f", 0x0A), ("^", 0x14), ("{", 0x28), ("}", 0x29), ("\\", 0x2F),
     ("[", 0x3C), ("~", 0x3D), ("]", 0x3E), ("|", 0x40), ("€", 0x65)],
)  # fmt: skip
def test_extension_characters_encode_as_escape_pair_costing_two(char: str, code: int) -> None:
    assert encode_gsm7(char) == bytes([ESCAPE, code])
    assert decode_gsm7(bytes([ESCAPE, code])) == char
    assert septet_cost(char) == 2
    assert count_septets(char) == 2


@pytest.mark.parametrize(
    "char",
    [
        "\x1b",  # ESC is a control code, not a character anyone can type
        "`", "ç", "á", "í", "ó", "ú", "ê", "\u0303", "\t", "\u00a0", "\u2019", "\u2013",
        "\u2126",  # OHM SIGN: looks like Ω (0x15) but is not it
        "\u0391",  # GREEK CAPITAL ALPHA: looks like A but is not it
        "\u0623", "\u2068", "😀", "\x00",
    ],
)  # fmt: skip
def test_characters_outside_both_tables_are_not_gsm7(char: str) -> None:
    assert not is_gsm7(char)
    assert septet_cost(char) is None


@pytest.mark.parametrize(
    ("text", "char", "index"),
    [
        ("ç", "ç", 0),
        ("Merci, ça va", "ç", 7),
        ("ok 😀 then ç", "😀", 3),  # the first offender, counted in characters
        ("a\x1b", "\x1b", 1),
        ("price \u20ac5 \u2013 ok", "\u2013", 9),  # '€' is fine, the en dash is not
    ],
)
def test_encode_error_names_the_character_and_its_index(text: str, char: str, index: int) -> None:
    with pytest.raises(Gsm7EncodeError) as caught:
        encode_gsm7(text)
    assert caught.value.char == char
    assert caught.value.index == index
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert repr(char) in message
    assert f"index {index}" in message
    assert f"U+{ord(char):04X}" in message


def test_count_septets_raises_like_the_encoder() -> None:
    with pytest.raises(Gsm7EncodeError, match="index 2"):
        count_septets("ab\u2019")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"\x00", "@"),
        (b"Hello \x1b\x65", "Hello €"),
        (b"\x1b\x41", "A"),  # escape + code missing from the extension table: the basic char
        (b"\x1b\x1bX", " X"),  # escape + escape is reserved: displayed as a space
        (b"\x1b\x3c\x1b\x3e", "[]"),
    ],
)
def test_decode(data: bytes, text: str) -> None:
    assert decode_gsm7(data) == text


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"ab\x80", "0x80 at index 2"),
        (b"\xff", "0xFF at index 0"),
        (b"abc\x1b", "lone escape .* at index 3"),
    ],
)
def test_decode_rejects_non_septets_and_a_cut_escape(data: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        decode_gsm7(data)


@given(st.text(alphabet=sorted(GSM7_CHARS)))
def test_gsm7_round_trip_and_septet_count(text: str) -> None:
    data = encode_gsm7(text)
    assert decode_gsm7(data) == text
    assert len(data) == count_septets(text)
    assert all(octet <= 0x7F for octet in data)
