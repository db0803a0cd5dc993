"""Which merged values in a right-to-left text need their isolate, and which do not.

Every isolate costs two UCS-2 units (its opener and PDI), so fencing every value of an Arabic
template can push a 67-unit text to 71: two segments, twice the price. A value needs its fence
only where the phone's bidi algorithm (UAX #9) would otherwise show the text in another order:
"555-0100" after Arabic words reads "0100-555" unfenced; an Arabic name in an Arabic sentence
reads the same fenced or not; a Latin name at the very start makes the whole paragraph
left-to-right unless fenced (P2 skips isolates, not bare letters).

The reference is the text with every value fenced, the way it has always been rendered. A fence
is dropped only when the visual order without it is the same as the reference's, as computed by
python-bidi (the Unicode bidi algorithm with isolates, per paragraph, the paragraph's direction
found as a phone finds it). The algorithm sees bidi classes, not characters, so the answer is
worked out on a *shape* of each piece (each character replaced by one of its class, runs of
letters, digits and spaces folded) and kept: a list of a million names has a few hundred shapes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

from bidi import get_display

from proactive_sms.domain.direction import FSI, LRI, PDI, RLI

MARK_CHOICES = ("auto", "off")  # a template's setting: fence values where needed, or never

_OUR_CONTROLS = str.maketrans("", "", LRI + RLI + FSI + PDI)
# Paragraph separators (bidi class B): each paragraph finds its own direction.
_PARAGRAPH_BREAKS = str.maketrans({ch: "\n" for ch in "\r\x1c\x1d\x1e\x85\u2029"})

# A run of letters, digits or spaces of one bidi class folds to one token of its class: the
# algorithm gives a run one level, so its inner order never differs between two renderings.
# Separators (ES, CS, ET...), brackets and marks stay as they are: a single separator between
# digits, or a matching bracket pair, changes the answer.
_TOKENS = {kind: chr(0xE000 + i) for i, kind in enumerate(("L", "R", "AL", "EN", "AN", "WS"))}
_TOKEN_KINDS = {token: kind for kind, token in _TOKENS.items()}
# Each folded token is drawn as a character of its class used nowhere else in the text, so that
# two renderings showing the same string show every run in the same place.
_POOL_RANGES = {
    "L": ((0x4E00, 0x9FFF),),
    "R": ((0x05D0, 0x05EA), (0x1E800, 0x1E8C4)),
    "AL": ((0x0620, 0x064A), (0xFE70, 0xFEFC)),
    "EN": ((0x30, 0x39), (0x06F0, 0x06F9), (0xFF10, 0xFF19), (0x1D7CE, 0x1D7FF)),
    "AN": ((0x0660, 0x0669), (0x10E60, 0x10E7E)),
}


@functools.cache
def _pool(kind: str) -> tuple[str, ...]:
    return tuple(chr(c) for low, high in _POOL_RANGES[kind] for c in range(low, high + 1)
                 if unicodedata.bidirectional(chr(c)) == kind)


def join_where_needed(texts: Sequence[str], openers: Sequence[str | None]) -> str:
    """The pieces of a text joined, with a fence around each value that would otherwise change
    what is shown. `openers` is parallel to `texts`: the isolate (LRI, RLI or FSI) that would
    fence a value, None for what is never fenced (literal text, a value inside a URL where
    controls would break the link)."""
    key: list[str | None] = []
    for text, opener in zip(texts, openers, strict=True):
        # Literal text stands for itself (its shape is worked out on a miss only); a value by
        # its shape, so that a million names make a few hundred keys.
        key.append(text if opener is None else _shape(text))
        key.append(opener)
    keep = _fences_needed(tuple(key))
    return "".join(f"{opener}{text}{PDI}" if fence else text
                   for text, opener, fence in zip(texts, openers, keep, strict=True))


def join_fenced(texts: Sequence[str], openers: Sequence[str | None]) -> str:
    """The pieces joined with every value fenced: the reference order."""
    return "".join(text if opener is None else f"{opener}{text}{PDI}"
                   for text, opener in zip(texts, openers, strict=True))


def shown(text: str) -> list[str]:
    """What a phone shows, paragraph by paragraph, left to right, without our own controls."""
    return [get_display(paragraph).translate(_OUR_CONTROLS)
            for paragraph in text.translate(_PARAGRAPH_BREAKS).split("\n")]


@functools.lru_cache(maxsize=65536)
def _shape(text: str) -> str:
    """`text` with each folded run as one token (a private-use character naming its class; a
    value's own private-use characters are class L, so they fold into that token too) and
    every other character as itself."""
    if text and max(text) < _TABLE_END:  # Latin, Greek, Cyrillic, Hebrew, Arabic...: in C
        return _RUNS.sub(r"\1", text.translate(_table()))
    out: list[str] = []
    last = ""
    for ch in text:
        token = _TOKENS.get(unicodedata.bidirectional(ch), ch)
        if token != last or token not in _TOKEN_KINDS:
            out.append(token)
        last = token
    return "".join(out)


_TABLE_END = "\u0800"
_RUNS = re.compile("([\ue000-\ue005])\\1+")


@functools.cache
def _table() -> dict[int, str]:
    """Each character below U+0800 of a folded class to its token."""
    table = {}
    for code in range(ord(_TABLE_END)):
        token = _TOKENS.get(unicodedata.bidirectional(chr(code)))
        if token is not None:
            table[code] = token
    return table


@functools.lru_cache(maxsize=16384)
def _fences_needed(key: tuple[str | None, ...]) -> tuple[bool, ...]:
    """For each piece (key holds, for each, a value's shape and its opener, or a literal text
    and None), whether its fence must stay.

    Fences are tried away one at a time, left to right, each kept away only if the text still
    shows as the fully fenced one does; the result is always shown as the reference is.
    """
    shapes = [(_shape(text) if opener is None else text, opener)
              for text, opener in zip(key[::2], key[1::2], strict=True)]
    keep = [opener is not None for _, opener in shapes]
    drawn = _draw(shapes)
    if drawn is None:  # more runs than stand-ins: keep every fence
        return tuple(keep)
    reference = shown(_assemble(drawn, keep))
    for i, (_, opener) in enumerate(shapes):
        if opener is None:
            continue
        keep[i] = False
        if shown(_assemble(drawn, keep)) != reference:
            keep[i] = True
    return tuple(keep)


def _draw(shapes) -> list[tuple[str, str | None]] | None:
    """Each piece's shape drawn with a character of its own for every folded run."""
    used = dict.fromkeys(_TOKEN_KINDS.values(), 0)
    drawn = []
    for tokens, opener in shapes:
        chars = []
        for token in tokens:
            kind = _TOKEN_KINDS.get(token)
            if kind is None:
                chars.append(token)
            elif kind == "WS":
                chars.append(" ")
            else:
                pool = _pool(kind)
                if used[kind] >= len(pool):
                    return None
                chars.append(pool[used[kind]])
                used[kind] += 1
        drawn.append(("".join(chars), opener))
    return drawn


def _assemble(drawn: Sequence[tuple[str, str | None]], keep: Sequence[bool]) -> str:
    return "".join(f"{opener}{text}{PDI}" if opener is not None and fence else text
                   for (text, opener), fence in zip(drawn, keep, strict=True))
