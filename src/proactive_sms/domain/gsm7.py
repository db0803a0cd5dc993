"""The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table, and the codec over them.

The codec is *unpacked*: one octet per septet, which is what SMPP carries with data_coding 0x00.
Packing seven septets into eight octets is the SMSC's business, not ours.
"""

from __future__ import annotations

ESCAPE = 0x1B  # switches the next septet to the extension table; itself prints nothing

# The basic table written out by code point, 16 per row so that row N holds codes 0xN0..0xNF and a
# reviewer can check it against the standard's grid. Position 0x1B is ESCAPE, not a character: the
# placeholder there is dropped when the lookup tables are built below.
_BASIC_ROWS = (
    "@£$¥èéùìòÇ\nØø\rÅå",  # 0x00
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ",  # 0x10; Greek capitals (U+0394 etc.), never Latin look-alikes
    " !\"#¤%&'()*+,-./",  # 0x20; 0x24 is the currency sign ¤, '$' lives at 0x02
    "0123456789:;<=>?",  # 0x30
    "¡ABCDEFGHIJKLMNO",  # 0x40; '@' is not here, it is 0x00
    "PQRSTUVWXYZÄÖÑÜ§",  # 0x50; no [ \ ] ^ _ here: they are extension or elsewhere
    "¿abcdefghijklmno",  # 0x60; no backtick in GSM at all
    "pqrstuvwxyzäöñüà",  # 0x70; no { | } ~ here: they are extension characters
)
_BASIC = "".join(_BASIC_ROWS)

# Characters reached with ESCAPE + code; each costs two septets on the air.
EXTENSION_TO_CHAR: dict[int, str] = {
    0x0A: "\f",  # form feed (page break)
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

BASIC_TO_CHAR: dict[int, str] = {code: char for code, char in enumerate(_BASIC) if code != ESCAPE}
BASIC_CODE: dict[str, int] = {char: code for code, char in BASIC_TO_CHAR.items()}
EXTENSION_CODE: dict[str, int] = {char: code for code, char in EXTENSION_TO_CHAR.items()}

BASIC_CHARS = frozenset(BASIC_CODE)
EXTENSION_CHARS = frozenset(EXTENSION_CODE)
GSM7_CHARS = BASIC_CHARS | EXTENSION_CHARS


class Gsm7EncodeError(ValueError):
    """A character has no GSM 03.38 code; carries which one and where, for the caller's message."""

    def __init__(self, char: str, index: int) -> None:
        self.char = char
        self.index = index
        super().__init__(
            f"character {char!r} (U+{ord(char):04X}) at index {index} "
            "is not in the GSM 03.38 alphabet"
        )


def septet_cost(char: str) -> int | None:
    """Septets one character takes: 1 (basic), 2 (extension, escape pair) or None (not GSM)."""
    if char in BASIC_CHARS:
        return 1
    if char in EXTENSION_CHARS:
        return 2
    return None


def is_gsm7(text: str) -> bool:
    """True when every character of text has a GSM 03.38 code (basic or extension)."""
    return GSM7_CHARS.issuperset(text)


def count_septets(text: str) -> int:
    """Septets text takes on the air; raises Gsm7EncodeError at the first non-GSM character."""
    total = 0
    for index, char in enumerate(text):
        cost = septet_cost(char)
        if cost is None:
            raise Gsm7EncodeError(char, index)
        total += cost
    return total


def encode_gsm7(text: str) -> bytes:
    """Unpacked GSM 03.38: one octet per septet, extension characters as 0x1B + code.

    Raises Gsm7EncodeError (a ValueError) naming the first character that has no code and its
    index in text.
    """
    out = bytearray()
    for index, char in enumerate(text):
        code = BASIC_CODE.get(char)
        if code is not None:
            out.append(code)
            continue
        code = EXTENSION_CODE.get(char)
        if code is None:
            raise Gsm7EncodeError(char, index)
        out += bytes((ESCAPE, code))
    return bytes(out)


def decode_gsm7(data: bytes) -> str:
    """Decode unpacked GSM 03.38 (one septet per octet), as an SMSC delivers it with data_coding 0.

    Follows TS 23.038 for escapes nobody should send but handsets do: ESCAPE + a code missing from
    the extension table decodes as that code's basic character, and ESCAPE + ESCAPE (reserved for a
    further table) decodes as a space. Raises ValueError for an octet above 0x7F (not a septet) and
    for data ending in a lone ESCAPE, which means the text was cut mid-character: concatenated parts
    must be joined before decoding.
    """
    out: list[str] = []
    escaped = False
    for index, octet in enumerate(data):
        if octet > 0x7F:
            raise ValueError(f"octet 0x{octet:02X} at index {index} is not a GSM 7-bit septet")
        if escaped:
            escaped = False
            if octet == ESCAPE:
                out.append(" ")
            else:
                out.append(EXTENSION_TO_CHAR.get(octet) or BASIC_TO_CHAR[octet])
        elif octet == ESCAPE:
            escaped = True
        else:
            out.append(BASIC_TO_CHAR[octet])
    if escaped:
        raise ValueError(f"data ends with a lone escape (0x1B) at index {len(data) - 1}")
    return "".join(out)
