"""Keyset pages in the console: `?after=ID` (the last id of the previous page) in the URL, a
"Next" link while more follow. Never OFFSET: a page costs the same deep into a long list."""

from __future__ import annotations

MAX_ID_DIGITS = 18


def page_after(raw: str | None) -> int:
    """The id a page starts after; anything that is not a whole number starts at the top (a
    hand-edited URL shows the first page rather than an error)."""
    text = (raw or "").strip()
    return int(text) if text.isdigit() and len(text) <= MAX_ID_DIGITS else 0
