"""Text direction: detecting it, and isolating merged values inside right-to-left text.

A message in Arabic or Hebrew with a Latin name, a number or an e-mail merged into it is reordered
by the phone's bidi algorithm; a merged value can "leak" its direction into the words around it
(a number next to a comma jumps to the wrong side). Unicode isolates (UAX #9, 6.3+) fence each value
off: FSI...PDI when the value's direction is unknown (it resolves from the value's own first strong
character), LRI...PDI when it is known to be left-to-right. Every control is one UCS-2 unit and
counts toward the segment length, so we add them only where they are needed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

LRE = "\u202a"  # left-to-right embedding (legacy)
RLE = "\u202b"  # right-to-left embedding (legacy)
PDF = "\u202c"  # pop directional formatting (legacy)
LRO = "\u202d"  # left-to-right override (legacy)
RLO = "\u202e"  # right-to-left override (legacy)
LRI = "\u2066"  # left-to-right isolate: for values known to be LTR (numbers, codes, e-mails)
RLI = "\u2067"  # right-to-left isolate
FSI = "\u2068"  # first-strong isolate: for values of unknown direction (names, free text)
PDI = "\u2069"  # pop directional isolate: closes LRI, RLI or FSI
LRM = "\u200e"  # left-to-right mark: the only tool older renderers understand
RLM = "\u200f"  # right-to-left mark

Direction = Literal["ltr", "rtl", "neutral"]
IsolateKind = Literal["ltr", "rtl", "auto"]

_ISOLATE_OPENERS = {"ltr": LRI, "rtl": RLI, "auto": FSI}
_INITIATORS = frozenset((LRI, RLI, FSI))
# Embeddings, overrides and isolates. A value carrying one of these (pasted text, a hostile
# record) could close our isolate early or leak an override past it, so isolate() drops them.
# LRM/RLM are left alone: they are marks, not scopes, and cannot unbalance anything.
_SCOPE_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# A URL runs from its scheme (or "www.", or a bare "domain.tld/") to the next white space, which
# is also where phones' link detectors stop. Bare domains need a path, query or fragment so that
# the end of a sentence ("...on x.co. Thanks") is not mistaken for a link. Look-behinds and
# possessive quantifiers keep the search linear on long words.
URL = re.compile(
    r"(?:(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://"
    r"|(?<![a-z0-9-])(?:www\.|mailto:|tel:|sms:)"
    r"|(?<![a-z0-9.-])(?:[a-z0-9-]++\.)++[a-z]{2,}+[/?#])\S*",
    re.IGNORECASE,
)
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")  # any script's letters
_DIGIT = re.compile(r"\d")  # any script's decimal digits
_SPACE = re.compile(r"\s")


def detect_direction(text: str) -> Direction:
    """The direction of `text` from its first strong character (UAX #9 rules P2-P3).

    Bidi class L means "ltr"; R or AL means "rtl"; no strong character at all (digits, punctuation,
    an empty string) means "neutral". As in P2, text inside isolates is skipped: a template that
    starts with an isolated Latin value is still right-to-left if its own words are Arabic.
    """
    depth = 0
    for ch in text:
        if ch in _INITIATORS:
            depth += 1
        elif ch == PDI:
            depth = max(0, depth - 1)
        elif depth == 0:
            kind = unicodedata.bidirectional(ch)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
    return "neutral"


def has_rtl(text: str) -> bool:
    """Whether any character of `text` is strongly right-to-left (bidi class R or AL)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def value_kind(value: str) -> IsolateKind:
    """How to isolate a merged value: "ltr" when it is clearly left-to-right, else "auto".

    Clearly LTR: numbers and other values with digits but no letters (amounts, dates, phone
    numbers), e-mail addresses, URLs, and single-word codes that mix Latin letters and digits
    ("AB12CD"). Everything else - names above all - is "auto" (FSI), even when this record's value
    happens to be Latin: the same field holds Arabic names in other records, and FSI around Latin
    text resolves to LTR anyway, so nothing is lost.
    """
    if not value.isascii() and has_rtl(value):
        return "auto"
    if not _LETTER.search(value):
        return "ltr" if _DIGIT.search(value) else "auto"
    if _EMAIL.fullmatch(value) or URL.fullmatch(value):
        return "ltr"
    is_code = not _SPACE.search(value) and _DIGIT.search(value) and _ASCII_LETTER.search(value)
    return "ltr" if is_code else "auto"


def might_hold_url(text: str) -> bool:
    """A cheap test that is True whenever URL could match in `text` (every match has one of
    ":", "/", "?", "#" or "www."), so most messages skip the URL search altogether."""
    return any(ch in text for ch in ":/?#") or "www." in text.lower()


def strip_scope_controls(text: str) -> str:
    """`text` without embedding, override and isolate controls (marks are kept)."""
    return _SCOPE_CONTROLS.sub("", text)


def isolate(value: str, kind: IsolateKind = "auto") -> str:
    """`value` wrapped in an isolate: LRI, RLI or FSI (for kind "ltr", "rtl", "auto") ... PDI.

    Scope controls inside the value are removed first so that the isolate stays balanced.
    """
    try:
        opener = _ISOLATE_OPENERS[kind]
    except KeyError:
        raise ValueError(f"unknown isolate kind {kind!r} (use 'ltr', 'rtl' or 'auto')") from None
    return f"{opener}{strip_scope_controls(value)}{PDI}"


def opener_for(value: str) -> str:
    """The isolate that fences `value` by its own nature: LRI when clearly LTR, else FSI."""
    return _ISOLATE_OPENERS[value_kind(value)]


def isolate_value(value: str) -> str:
    """`value` isolated by its own nature: LRI...PDI when clearly LTR, else FSI...PDI."""
    return isolate(value, value_kind(value))
