"""GSM 03.38 default alphabet over SMPP: one unpacked septet per octet, 0x1B escaping.

The simulator keeps its own minimal codec so that what it records is an independent reading of the
bytes on the wire, not the client's encoder checking itself.
"""

from __future__ import annotations

ESCAPE = 0x1B

# Index = septet value. 0x1B is the escape to the extension table (decoded as a space if dangling).
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
EXTENSION = {
    0x0A: "\f",
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

# Octets above 0x7F are not septets; they decode to "?" rather than failing the record.
_DECODE_TABLE = {i: (BASIC[i] if i < 0x80 else "?") for i in range(256)}
_ENCODE = {char: bytes((i,)) for i, char in enumerate(BASIC) if i != ESCAPE}
_ENCODE.update({char: bytes((ESCAPE, code)) for code, char in EXTENSION.items()})


def decode(septets: bytes) -> str:
    """Text of unpacked GSM-7 septets; an unknown escape reads as the basic character (03.38)."""
    if ESCAPE not in septets:
        # latin-1 maps octet n to code point n, so translate() does the table lookup in C.
        return septets.decode("latin-1").translate(_DECODE_TABLE)
    chars: list[str] = []
    escaped = False
    for octet in septets:
        if escaped:
            escaped = False
            chars.append(EXTENSION.get(octet, _DECODE_TABLE[octet]))
        elif octet == ESCAPE:
            escaped = True
        else:
            chars.append(_DECODE_TABLE[octet])
    if escaped:
        chars.append(" ")
    return "".join(chars)


def encode(text: str) -> bytes:
    """Unpacked septets for `text`; raises ValueError naming the first character GSM-7 lacks."""
    try:
        return b"".join(_ENCODE[char] for char in text)
    except KeyError as exc:
        raise ValueError(f"not in the GSM 03.38 default alphabet: {exc.args[0]!r}") from None


def can_encode(text: str) -> bool:
    return all(char in _ENCODE for char in text)


def split_septets(septets: bytes, part_len: int) -> list[bytes]:
    """Cut encoded text into parts of at most `part_len` septets, never splitting an escape."""
    parts: list[bytes] = []
    start = 0
    while start < len(septets):
        end = min(start + part_len, len(septets))
        # An escape as the last septet of a part would orphan its character: move it to the next.
        if end < len(septets) and _ends_in_escape(septets, start, end):
            end -= 1
        parts.append(septets[start:end])
        start = end
    return parts


def _ends_in_escape(septets: bytes, start: int, end: int) -> bool:
    # Count from the part's start, because 0x1B 0x1B is an escape followed by an escaped septet.
    escaped = False
    for octet in septets[start:end]:
        escaped = not escaped and octet == ESCAPE
    return escaped
