"""Which alphabet a text needs (GSM-7 or UCS-2), how many SMS parts it costs, and how to cut it.

Carriers bill per part, and launch records the segment count of every message before it is sent,
so the count here must be exactly what the SMSC will do: a single SMS holds 160 septets or 70 UTF-16
units; once concatenated, every part loses room to the 8-bit-reference UDH and holds 153 / 67.
An escape pair (extension character) or a surrogate pair (emoji outside the BMP) is never cut, so a
part may carry one unit less than its limit, and the count comes from the same packing that
`split_parts` does rather than from a division that would under-report those cases.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from proactive_sms.domain.gsm7 import (
    BASIC_CHARS,
    GSM7_CHARS,
    Gsm7EncodeError,
    count_septets,
    decode_gsm7,
    encode_gsm7,
    is_gsm7,
    septet_cost,
)

__all__ = [
    "PART_LIMIT",
    "SINGLE_LIMIT",
    "Encoding",
    "EncodingReport",
    "Gsm7EncodeError",
    "analyze",
    "basic_gsm7_segments",
    "count_units",
    "decode_gsm7",
    "decode_ucs2",
    "encode",
    "encode_gsm7",
    "encode_ucs2",
    "is_gsm7",
    "smart_replace",
    "split_parts",
]


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"  # GSM 03.38 default alphabet, septets; SMPP data_coding 0x00
    UCS2 = "ucs2"  # UTF-16BE (surrogate pairs kept, as handsets expect); SMPP data_coding 0x08

    @property
    def data_coding(self) -> int:
        """The SMPP data_coding value that announces this encoding."""
        return 0x00 if self is Encoding.GSM7 else 0x08


# Units (septets or UTF-16 code units) a message may hold when it is sent as one SMS.
SINGLE_LIMIT: dict[Encoding, int] = {Encoding.GSM7: 160, Encoding.UCS2: 70}
# Units per part once concatenated: the 6-octet UDH (05 00 03 ref total seq) takes the room of
# 7 septets / 3 UTF-16 units out of the 140 octets.
PART_LIMIT: dict[Encoding, int] = {Encoding.GSM7: 153, Encoding.UCS2: 67}


@dataclass(frozen=True)
class EncodingReport:
    """What sending a text costs. See `analyze`."""

    text: str  # the text analysed (the smart replacement, when smart=True and it made it GSM-7)
    encoding: Encoding
    units: int  # GSM-7 septets (extension chars count 2) or UTF-16 code units
    segments: int  # SMS parts; the empty text counts 1, as it still takes one submit
    unicode_chars: tuple[str, ...]  # distinct chars that forced UCS-2, first-seen order
    per_segment_limit: int  # 160/153 (GSM-7) or 70/67 (UCS-2), whichever applies
    remaining_in_segment: int  # units left in the last part before another part is needed


# Look-alikes that Word, phones and web forms slip into text and that would otherwise turn a whole
# message into UCS-2 (less than half the room per part). Only substitutions that keep the meaning:
# no transliteration of accented letters such as ç or á (that changes spelling), and nothing that
# carries meaning in some script: bidi marks and isolates, ZWJ and ZWNJ are left alone.
_SMART_TABLE: dict[int, str | None] = {
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a\u00b4`"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"), '"'),
    # hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus sign
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-"),
    ord("\u2026"): "...",
    # no-break space, en quad .. hair space, narrow no-break, math space, ideographic space
    **dict.fromkeys([0x00A0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000], " "),
    **dict.fromkeys([0x2028, 0x2029], "\n"),  # line / paragraph separator
    # Invisible and meaningless in an SMS: soft hyphen, zero-width space, word joiner, BOM.
    **dict.fromkeys([0x00AD, 0x200B, 0x2060, 0xFEFF], None),
}


def smart_replace(text: str) -> str:
    """Replace typographic look-alikes (curly quotes, dashes, ellipsis, odd spaces) by GSM chars.

    Text is also composed to NFC, so that a letter typed as base + combining accent (as macOS and
    some keyboards produce "é") becomes the one precomposed character that GSM-7 has. NFC runs
    before the table, because its singleton mappings turn a few characters into table entries
    (U+1FFD into U+00B4, U+2000 into U+2002), and again after it, because removing an invisible
    character can leave a composable pair behind; both keep smart_replace idempotent. GSM-7 text
    comes back unchanged.
    """
    composed = unicodedata.normalize("NFC", text)
    return unicodedata.normalize("NFC", composed.translate(_SMART_TABLE))


def _is_high(char: str) -> bool:
    return "\ud800" <= char <= "\udbff"


def _is_low(char: str) -> bool:
    return "\udc00" <= char <= "\udfff"


def _atoms(text: str, encoding: Encoding) -> list[tuple[int, int]]:
    """The uncuttable pieces of text as (start index, units), in order.

    A GSM-7 extension character is one piece of 2 septets. In UCS-2 an astral character is one
    piece of 2 units; so is a high + low surrogate given as two code points (text that went
    through a surrogatepass round trip), which a cut would turn into two broken halves.
    """
    atoms: list[tuple[int, int]] = []
    if encoding is Encoding.GSM7:
        for index, char in enumerate(text):
            cost = septet_cost(char)
            if cost is None:
                raise Gsm7EncodeError(char, index)
            atoms.append((index, cost))
        return atoms
    index = 0
    while index < len(text):
        char = text[index]
        if _is_high(char) and index + 1 < len(text) and _is_low(text[index + 1]):
            atoms.append((index, 2))
            index += 2
            continue
        atoms.append((index, 2 if ord(char) > 0xFFFF else 1))
        index += 1
    return atoms


def _pack(text: str, encoding: Encoding) -> tuple[list[int], int, int]:
    """Greedy packing into parts: (start index of every part, total units, units of last part).

    Greedy is optimal here: every piece costs at most 2, so each full part wastes at most one
    unit, and it is what SMSCs and handsets do, so our count matches the carrier's bill.

    Fast path: when every character is one unit and may be cut anywhere (GSM-7 text without
    extension characters; UCS-2 text below the surrogates), the packing is arithmetic. Launch
    analyses every message of a list, and this is nearly all of them.
    """
    if encoding is Encoding.GSM7:
        uniform = _is_basic_ascii(text) or BASIC_CHARS.issuperset(text)
    else:
        uniform = not text or max(text) < "\ud800"
    if uniform:
        total = len(text)
        if total <= SINGLE_LIMIT[encoding]:
            return [0], total, total
        starts = list(range(0, total, PART_LIMIT[encoding]))
        return starts, total, total - starts[-1]
    return _pack_atoms(text, encoding)


# ASCII characters that are not in the GSM-7 basic table: the extension characters ([\\]^{|}~),
# the backtick and the control characters but LF and CR. Built from the table, not by hand.
_NOT_BASIC_ASCII = re.compile(
    "[^" + re.escape("".join(sorted(c for c in BASIC_CHARS if c.isascii()))) + "]"
)


def _is_basic_ascii(text: str) -> bool:
    """True for ASCII text whose every character is in the GSM-7 basic table (one septet each).

    isascii() is a flag lookup and the regex runs in C, where a set test walks the characters in
    Python objects; this is the shape of nearly every message a contact center sends.
    """
    return text.isascii() and _NOT_BASIC_ASCII.search(text) is None


def _pack_atoms(text: str, encoding: Encoding) -> tuple[list[int], int, int]:
    """`_pack` for any text, piece by piece."""
    atoms = _atoms(text, encoding)
    total = sum(units for _, units in atoms)
    if total <= SINGLE_LIMIT[encoding]:
        return [0], total, total
    limit = PART_LIMIT[encoding]
    starts = [0]
    used = 0
    for start, units in atoms:
        if used + units > limit:
            starts.append(start)
            used = 0
        used += units
    return starts, total, used


def count_units(text: str, encoding: Encoding) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) text takes; GSM-7 raises on non-GSM text."""
    if encoding is Encoding.GSM7:
        return count_septets(text)
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def analyze(text: str, smart: bool = False) -> EncodingReport:
    """Decide the encoding of text and what it costs in units and SMS parts.

    With smart=True the look-alike replacement (`smart_replace`) is kept only when it makes the
    text GSM-7 without costing more parts. Once a message is UCS-2 anyway, replacing only changes
    how it reads; and "…" (1 UCS-2 unit) becomes "..." (3 septets), so a text full of ellipses can
    get longer as GSM-7. Otherwise the original text is analysed. `report.text` is always the text
    to send.
    """
    if _is_basic_ascii(text):
        return _report(text, Encoding.GSM7)  # what the lines below decide, found sooner
    if smart and not is_gsm7(text):
        replaced = smart_replace(text)
        if is_gsm7(replaced):
            candidate = _report(replaced, Encoding.GSM7)
            original = _report(text, Encoding.UCS2)
            return candidate if candidate.segments <= original.segments else original
    return _report(text, Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2)


def basic_gsm7_segments(text: str) -> int | None:
    """The SMS parts `text` takes when it is ASCII of the GSM-7 basic table, else None.

    The fast path of `analyze` for callers that need only the count, such as launch, which
    analyses every message of a list: for such text `analyze(text, smart)` is GSM-7, keeps `text`
    as it is (smart or not) and reports exactly these segments. None means: ask `analyze`.
    """
    if not _is_basic_ascii(text):
        return None
    length = len(text)
    if length <= SINGLE_LIMIT[Encoding.GSM7]:
        return 1
    return -(-length // PART_LIMIT[Encoding.GSM7])


def _report(text: str, encoding: Encoding) -> EncodingReport:
    if encoding is Encoding.GSM7:
        unicode_chars: tuple[str, ...] = ()
    else:
        # dict keeps first-seen order and drops repeats; dedupe first, then test each once
        unicode_chars = tuple(c for c in dict.fromkeys(text) if c not in GSM7_CHARS)
    starts, units, last_units = _pack(text, encoding)
    segments = len(starts)
    limit = SINGLE_LIMIT[encoding] if segments == 1 else PART_LIMIT[encoding]
    return EncodingReport(
        text=text,
        encoding=encoding,
        units=units,
        segments=segments,
        unicode_chars=unicode_chars,
        per_segment_limit=limit,
        remaining_in_segment=limit - last_units,
    )


def split_parts(text: str, encoding: Encoding) -> list[str]:
    """Cut text into the parts of a concatenated SMS; "".join(parts) == text.

    One element (text itself, even "") when it fits a single SMS; otherwise parts of at most 153
    septets / 67 UTF-16 units, never cutting an escape pair or a surrogate pair. Raises
    Gsm7EncodeError when encoding is GSM7 and text has a character GSM-7 lacks.
    """
    starts, _, _ = _pack(text, encoding)
    ends = [*starts[1:], len(text)]
    return [text[start:end] for start, end in zip(starts, ends, strict=True)]


def encode_ucs2(text: str) -> bytes:
    """UTF-16BE, astral characters as surrogate pairs (what data_coding 0x08 means in practice).

    Raises ValueError naming the index of a lone surrogate, which no handset could display.
    """
    index = 0
    while index < len(text):
        char = text[index]
        if _is_high(char) and index + 1 < len(text) and _is_low(text[index + 1]):
            index += 2  # a pair spelled as two code points encodes to the same four octets
            continue
        if _is_high(char) or _is_low(char):
            raise ValueError(f"lone surrogate U+{ord(char):04X} at index {index} cannot be sent")
        index += 1
    return text.encode("utf-16-be", "surrogatepass")


def decode_ucs2(data: bytes) -> str:
    """Decode UTF-16BE; raises ValueError on an odd length or a broken surrogate pair.

    Parts of a concatenated message must be joined before decoding: a sender that cut an emoji
    in half leaves each part undecodable on its own.
    """
    if len(data) % 2:
        raise ValueError(f"UCS-2 data has an odd length ({len(data)} octets)")
    try:
        return data.decode("utf-16-be")
    except UnicodeDecodeError as error:
        # the codec's own message ("unexpected end of data") hides what went wrong for SMS
        raise ValueError(
            f"UCS-2 data has a broken surrogate pair at octet {error.start}"
        ) from error


def encode(text: str, encoding: Encoding) -> bytes:
    """Encode text for the short_message field announced by `encoding.data_coding`."""
    if encoding is Encoding.GSM7:
        return encode_gsm7(text)
    return encode_ucs2(text)
