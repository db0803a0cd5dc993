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
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

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
_FOLDED = frozenset(("L", "R", "AL", "EN", "AN", "WS"))
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


class Piece(NamedTuple):
    """One piece of a rendered text: as merged, and fenced (None: never fenced: literal text, or
    a value inside a URL where controls would break the link)."""

    plain: str
    fenced: str | None = None


def join_where_needed(pieces: Sequence[Piece]) -> str:
    """The text with a fence around each value that would otherwise change what is shown."""
    shapes = tuple((_shape(p.plain), None if p.fenced is None else p.fenced[0]) for p in pieces)
    keep = _fences_needed(shapes)
    return "".join(p.fenced if p.fenced is not None and fence else p.plain
                   for p, fence in zip(pieces, keep, strict=True))


def join_fenced(pieces: Sequence[Piece]) -> str:
    """The text with every value fenced: the reference order."""
    return "".join(p.plain if p.fenced is None else p.fenced for p in pieces)


def shown(text: str) -> list[str]:
    """What a phone shows, paragraph by paragraph, left to right, without our own controls."""
    return [get_display(paragraph).translate(_OUR_CONTROLS)
            for paragraph in text.translate(_PARAGRAPH_BREAKS).split("\n")]


@functools.lru_cache(maxsize=65536)
def _shape(text: str) -> tuple[str, ...]:
    """`text` as tokens: a bidi class for each folded run, the character itself otherwise."""
    out: list[str] = []
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        token = kind if kind in _FOLDED else ch
        if not (out and token in _FOLDED and out[-1] == token):
            out.append(token)
    return tuple(out)


@functools.lru_cache(maxsize=16384)
def _fences_needed(shapes: tuple[tuple[tuple[str, ...], str | None], ...]) -> tuple[bool, ...]:
    """For each piece (shape, fence opener or None), whether its fence must stay.

    Fences are tried away one at a time, left to right, each kept away only if the text still
    shows as the fully fenced one does; the result is always shown as the reference is.
    """
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
    used = dict.fromkeys(_FOLDED, 0)
    drawn = []
    for tokens, opener in shapes:
        chars = []
        for token in tokens:
            if token == "WS":
                chars.append(" ")
            elif token in _FOLDED:
                pool = _pool(token)
                if used[token] >= len(pool):
                    return None
                chars.append(pool[used[token]])
                used[token] += 1
            else:
                chars.append(token)
        drawn.append(("".join(chars), opener))
    return drawn


def _assemble(drawn: Sequence[tuple[str, str | None]], keep: Sequence[bool]) -> str:
    return "".join(f"{opener}{text}{PDI}" if opener is not None and fence else text
                   for (text, opener), fence in zip(drawn, keep, strict=True))
