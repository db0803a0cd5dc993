"""Short link codes: `<domain>/l/<code>`, unique per recipient, checked without a lookup.

A code carries (skill id, record id, link index) and a truncated HMAC of them with a key derived
from the instance's secret key, written as a fixed-length base62 string:

    payload = skill_id (24 bits) | record_id (36 bits) | link_index (4 bits)     64 bits
    code    = base62(payload << 32 | first 32 bits of HMAC-SHA256(key, payload)), 17 characters

Why this shape:
- A launch writes no row per link: the code is computed from what the text row already has, and
  the redirect recovers (skill, record, link) from the code itself.
- A forged or mistyped code is refused by the MAC check alone, before any database query (a
  random guess passes one time in 2^32; a pass only counts a click on someone's link).
- Fixed length: every short link of a domain has the same length and only GSM-7 basic
  characters, so a text's segment count does not depend on which code it carries, and a sample
  link counts exactly in the dry run, the preview and the console's counter.
- Ids are authenticated, not hidden: they are internal counters, not personal data.

Key rotation: the first key makes codes; every key of the source checks them, so links already
sent keep working while a new key is put first.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

SKILL_BITS = 24
RECORD_BITS = 36
INDEX_BITS = 4
MAC_BITS = 32
MAX_SKILL_ID = (1 << SKILL_BITS) - 1
MAX_RECORD_ID = (1 << RECORD_BITS) - 1
MAX_LINKS = 1 << INDEX_BITS  # tracked links in one text
CODE_LENGTH = 17  # base62 digits of a 96-bit number: 62**17 > 2**96
PATH_PREFIX = "/l/"

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VALUE = {ch: i for i, ch in enumerate(_ALPHABET)}
_CODE = re.compile(f"[0-9A-Za-z]{{{CODE_LENGTH}}}")
_MAC_BYTES = MAC_BITS // 8
_KEY_LABEL = b"psms short links v1"


class LinkDomainError(ValueError):
    """A short link domain that cannot be used, with why."""


@dataclass(frozen=True)
class LinkRef:
    """What a valid code points at: one link of one recipient's text of one skill."""

    skill_id: int
    record_id: int
    link_index: int


def derive_key(secret: str) -> bytes:
    """The link key from one instance secret key (its own label: never the sealing key)."""
    return hmac.digest(secret.encode(), _KEY_LABEL, hashlib.sha256)


def _mac(key: bytes, payload: int) -> int:
    digest = hmac.digest(key, payload.to_bytes(8, "big"), hashlib.sha256)
    return int.from_bytes(digest[:_MAC_BYTES], "big")


def make_code(key: bytes, skill_id: int, record_id: int, link_index: int) -> str:
    """The code of link `link_index` of record `record_id`'s text of skill `skill_id`."""
    if not 0 <= skill_id <= MAX_SKILL_ID or not 0 <= record_id <= MAX_RECORD_ID:
        raise ValueError(f"ids out of range for a short link: skill {skill_id}, "
                         f"record {record_id}")
    if not 0 <= link_index < MAX_LINKS:
        raise ValueError(f"at most {MAX_LINKS} tracked links in one text")
    payload = (skill_id << (RECORD_BITS + INDEX_BITS)) | (record_id << INDEX_BITS) | link_index
    number = (payload << MAC_BITS) | _mac(key, payload)
    digits = []
    for _ in range(CODE_LENGTH):
        number, rest = divmod(number, 62)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits))


def read_code(keys: Sequence[bytes], code: str) -> LinkRef | None:
    """What `code` points at, or None when it is not one of ours (wrong length or characters,
    or a MAC that no key makes)."""
    if len(code) != CODE_LENGTH or not _CODE.fullmatch(code):
        return None
    number = 0
    for ch in code:
        number = number * 62 + _VALUE[ch]
    if number >> (64 + MAC_BITS):
        return None  # beyond 96 bits: never made by make_code
    payload, mac = number >> MAC_BITS, number & ((1 << MAC_BITS) - 1)
    if not any(hmac.compare_digest(_mac(key, payload).to_bytes(_MAC_BYTES, "big"),
                                   mac.to_bytes(_MAC_BYTES, "big")) for key in keys):
        return None
    return LinkRef(payload >> (RECORD_BITS + INDEX_BITS),
                   (payload >> INDEX_BITS) & MAX_RECORD_ID,
                   payload & (MAX_LINKS - 1))


def normalize_domain(value: str) -> str:
    """A BU's short link domain as stored: scheme and host (and port), no path, no trailing /.

    "go.example.com" becomes "https://go.example.com"; a path, query, user or white space is
    refused (the short link is `<domain>/l/<code>`, where `psms serve` answers)."""
    text = value.strip()
    if not text:
        raise LinkDomainError("empty link domain")
    if "://" not in text:
        text = "https://" + text
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise LinkDomainError(f"link domain {value!r}: use http:// or https://")
    rest = rest.rstrip("/")
    if not rest or any(ch in rest for ch in "/?#@ \t\n") or not _HOST.fullmatch(rest):
        raise LinkDomainError(f"link domain {value!r}: give a host name only, as "
                              "https://go.example.com (links are <domain>/l/<code>)")
    return f"{scheme}://{rest.lower()}"


_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                   r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?::\d{1,5})?")


_SAMPLE_KEY = b"psms sample short link"


def sample_code(link_index: int) -> str:
    """A code of the real length for previews and dry runs: record 0 (no recipient has it),
    made with a key no instance has, so the redirect refuses it."""
    return make_code(_SAMPLE_KEY, 0, 0, link_index)


def short_url(domain: str, code: str) -> str:
    return f"{domain}{PATH_PREFIX}{code}"


def short_url_length(domain: str) -> int:
    """Every short link of `domain` has this many characters."""
    return len(domain) + len(PATH_PREFIX) + CODE_LENGTH
