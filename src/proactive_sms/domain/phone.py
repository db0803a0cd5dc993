"""Phone numbers: normalizing to E.164, masking for display, and finding a number's region.

`phonenumbers` is the authority, but parsing and validating costs ~30-90 us a number, and an
import may hold a million. Two shortcuts give answers identical to plain phonenumbers for the
common shapes while skipping most of that work:

- The NANP fast path. Inputs made only of digits and ` ().-` (plus an optional leading `+` and
  `tel:`) whose national number starts 2-9 - "+1" and 10 digits from any default region, or
  10 digits, or 11 starting with 1, from US or CA - parse by phonenumbers' own rules to country
  code 1 and that national number (punctuation is ignored, the IDD is 011, and a leading 1 is only
  taken off an 11-digit number, which is too long to be national). So we build the PhoneNumber
  directly instead of parsing.
- Validity by prefix. Whether such a number is valid, and its region, depends on phonenumbers'
  regular expressions for the 25 NANP regions. At first use (~0.3 s, once) we prove from the
  installed metadata how many leading digits decide every one of those expressions (4 in most
  area codes, up to 7 in a few; see `_nanp_decisive_lengths`), then cache the answer per prefix of
  that length. If the proof cannot be made (a regex construct we do not model) we ask
  phonenumbers every time.

Everything else goes to phonenumbers, behind a bounded LRU cache keyed on the region and the
digits (punctuation cannot change the result for the shapes we key that way).

Decision on extensions: "212-555-0123 ext. 45" normalizes to the main number "+12125550123";
the extension is kept in `PhoneResult.extension` and named in `detail`, so that callers can
decide (a number with an extension is a desk phone behind a switchboard, not a cell phone).
"""

from __future__ import annotations

import enum
import functools
import re
import re._constants as sre  # the regex AST, to prove how many digits decide a NANP pattern
import re._parser as sre_parser
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, ValidationResult

NANP_DEFAULT_REGIONS = frozenset({"US", "CA"})
_MAX_INPUT_CHARS = 250  # phonenumbers refuses longer input as TOO_LONG
_PREFIX_CACHE_LIMIT = 200_000  # entries (~20 MB) before the per-prefix cache is reset


class PhoneProblem(enum.StrEnum):
    EMPTY = "empty"  # nothing but white space
    NOT_A_NUMBER = "not_a_number"  # no phone number can be read from it at all
    TOO_SHORT = "too_short"  # fewer digits than any number of its country
    TOO_LONG = "too_long"  # more digits than any number of its country
    INVALID_COUNTRY_CODE = "invalid_country_code"  # "+" followed by no known country code
    INVALID = "invalid"  # parses, but is not a valid number for its region


@dataclass(frozen=True, slots=True)
class PhoneResult:
    """The E.164 form of a number, or the problem that prevents it, with a sentence for people."""

    e164: str | None
    problem: PhoneProblem | None
    detail: str  # e.g. "'555-0100' is too short for a US number"
    extension: str | None = None  # dropped from e164; see the module docstring

    @property
    def ok(self) -> bool:
        return self.e164 is not None


# What a number resolves to, whatever its punctuation: (e164, problem, detail with a "{raw}"
# placeholder for the input as typed, extension).
_Outcome = tuple[str | None, PhoneProblem | None, str, str | None]

# Digits, spaces and ( ) . - after an optional "+": the shape where only the digits matter.
_SIMPLE_SHAPE = re.compile(r"\+?[0-9 ().-]*")
_PUNCTUATION_BYTES = b"+ ().-"
_NANP_LEADING = frozenset("23456789")

_NOT_A_NUMBER = (PhoneProblem.NOT_A_NUMBER, "'{raw}' is not a phone number")
_UNKNOWN_CODE = (PhoneProblem.INVALID_COUNTRY_CODE, "'{raw}' has no known country code")
_TOO_SHORT = (PhoneProblem.TOO_SHORT, "'{raw}' is too short to be a phone number")
_TOO_LONG = (PhoneProblem.TOO_LONG, "'{raw}' is too long to be a phone number")
_PARSE_PROBLEMS = {
    NumberParseException.INVALID_COUNTRY_CODE: _UNKNOWN_CODE,
    NumberParseException.NOT_A_NUMBER: _NOT_A_NUMBER,
    NumberParseException.TOO_SHORT_AFTER_IDD: _TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: _TOO_SHORT,
    NumberParseException.TOO_LONG: _TOO_LONG,
}


def normalize(raw: str | None, region: str = "US") -> PhoneResult:
    """`raw` as an E.164 number ("+12125550123"), or the problem with it.

    `region` (ISO 3166 code, e.g. "US", "GB") is where numbers without a country code are from;
    an unknown region raises ValueError, since it is a configuration error and not bad data.
    Accepts national and international formats with any punctuation, "tel:" URIs and vanity
    letters, as phonenumbers does. Only numbers phonenumbers calls valid get an e164.
    """
    region = _checked_region(region)
    if not raw or raw.isspace():
        return PhoneResult(None, PhoneProblem.EMPTY, "the phone number is empty")
    text = raw.strip()
    if text[0] in "tT" and text[:4].lower() == "tel:":
        # phonenumbers skips everything before the first "+" or digit, so "tel:" cannot matter.
        text = text[4:].lstrip()
    if len(raw) > _MAX_INPUT_CHARS or not _SIMPLE_SHAPE.fullmatch(text):
        return _result(raw, _parsed_outcome(raw, region))
    plus = text.startswith("+")
    # The shape holds only ASCII, and bytes.translate deletes in a C loop: a third faster.
    digits = text.encode().translate(None, _PUNCTUATION_BYTES).decode()
    national = _nanp_national_number(digits, plus, region)
    if national is None:
        # Below three digits phonenumbers' viability test does look at punctuation.
        key = ("+" + digits if plus else digits) if len(digits) >= 3 else raw
        return _result(raw, _parsed_outcome(key, region))
    valid, where = _nanp_validity(national)
    if valid:
        return PhoneResult("+1" + national, None, _valid_detail(where))
    # Ten digits are always a possible NANP length, so phonenumbers' verdict is "invalid".
    return _result(raw, _nanp_invalid(region))


def _result(raw: str, outcome: _Outcome) -> PhoneResult:
    e164, problem, detail, extension = outcome
    if "{raw}" in detail:
        shown = raw.strip()
        if len(shown) > 40:
            shown = shown[:39] + "\u2026"
        detail = detail.replace("{raw}", shown)
    return PhoneResult(e164, problem, detail, extension)


@functools.lru_cache(maxsize=512)
def _checked_region(region: str) -> str:
    code = (region or "").strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown region {region!r}: use an ISO 3166 code such as 'US' or 'GB'")
    return code


def _nanp_national_number(digits: str, plus: bool, region: str) -> str | None:
    """The NANP national number of a fast-path input, or None when it is not that shape."""
    if len(digits) == 11 and digits[0] == "1" and digits[1] in _NANP_LEADING:
        # "+1NXX..." anywhere; "1NXX..." from US/CA, where 11 digits are too long for a
        # national number so phonenumbers takes the leading 1 as the country code.
        return digits[1:] if plus or region in NANP_DEFAULT_REGIONS else None
    if len(digits) == 10 and not plus and region in NANP_DEFAULT_REGIONS:
        return digits if digits[0] in _NANP_LEADING else None
    return None


@functools.lru_cache(maxsize=64)
def _valid_detail(where: str | None) -> str:
    # "001" is phonenumbers' region for non-geographic codes (+800, +882...).
    return f"valid {where} number" if where not in (None, "001") else "valid non-geographic number"


@functools.lru_cache(maxsize=512)
def _nanp_invalid(region: str) -> _Outcome:
    return None, PhoneProblem.INVALID, f"'{{raw}}' is not a valid {_label(1, region)} number", None


@functools.lru_cache(maxsize=65_536)
def _parsed_outcome(text: str, region: str) -> _Outcome:
    """The outcome of plain phonenumbers for `text`; cached for lists that repeat numbers."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        problem, detail = _PARSE_PROBLEMS.get(exc.error_type, _NOT_A_NUMBER)
        return None, problem, detail, None
    extension = number.extension or None
    where = phonenumbers.region_code_for_number(number)
    if phonenumbers.is_valid_number_for_region(number, where):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        detail = _valid_detail(where)
        if extension:
            detail += f"; extension {extension} dropped"
        return e164, None, detail, extension
    label = _label(number.country_code, region)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return None, PhoneProblem.TOO_SHORT, f"'{{raw}}' is too short for a {label} number", None
    if reason == ValidationResult.TOO_LONG:
        return None, PhoneProblem.TOO_LONG, f"'{{raw}}' is too long for a {label} number", None
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return None, *_UNKNOWN_CODE, None
    if reason == ValidationResult.INVALID_LENGTH:
        detail = f"'{{raw}}' has the wrong number of digits for a {label} number"
        return None, PhoneProblem.INVALID, detail, None
    return None, PhoneProblem.INVALID, f"'{{raw}}' is not a valid {label} number", None


def _label(country_code: int, region: str) -> str:
    """The region named in a problem: the caller's own when the country code is theirs."""
    if phonenumbers.country_code_for_region(region) == country_code:
        return region
    main = phonenumbers.region_code_for_country_code(country_code)
    return main if main not in ("ZZ", "001") else f"+{country_code}"


def mask(e164: str | None) -> str:
    """A number safe to show in logs and pages: "+12125554567" -> "+1******4567".

    Rule: keep the "+" and the country calling code (recognized from phonenumbers' table), mask
    every other digit except the last four; one "*" per masked digit. So that a short input never
    shows most of itself, at least four national digits are always masked (fewer than 8 national
    digits show fewer than 4). Input without "+" is masked entirely but for that tail; anything but
    digits is dropped. Empty or None gives "".
    """
    if not e164:
        return ""
    digits = "".join(ch for ch in e164 if "0" <= ch <= "9")
    head = ""
    if e164.lstrip().startswith("+"):
        cc_len = _country_code_length(digits)
        head, digits = "+" + digits[:cc_len], digits[cc_len:]
    shown = min(4, max(0, len(digits) - 4))
    return head + "*" * (len(digits) - shown) + digits[len(digits) - shown :]


def _country_code_length(digits: str) -> int:
    # Country calling codes are a prefix code (ITU E.164), so the first that matches is the one.
    known = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    return next((n for n in (1, 2, 3) if len(digits) >= n and int(digits[:n]) in known), 0)


def region_of(e164: str | None) -> str | None:
    """The ISO region of an E.164 number ("+442079460958" -> "GB"), or None when unknown.

    As phonenumbers' region_code_for_number: an invalid NANP number has no region; non-geographic
    numbers (+800...) and unparsable input give None.
    """
    text = (e164 or "").strip()
    if not text.startswith("+"):
        return None
    if len(text) == 12 and text[1] == "1" and text[2] in _NANP_LEADING and text[2:].isdecimal():
        return _nanp_validity(text[2:])[1]
    return _parsed_region(text)


@functools.lru_cache(maxsize=4096)
def _parsed_region(text: str) -> str | None:
    try:
        where = phonenumbers.region_code_for_number(phonenumbers.parse(text, None))
    except NumberParseException:
        return None
    return where if where not in (None, "ZZ", "001") else None


# --- NANP validity by prefix ------------------------------------------------------------------

_prefix_verdicts: dict[str, tuple[bool, str | None]] = {}


# Building the table of decisive prefix lengths costs 0.1-0.3 s: worth it for an import of
# thousands of numbers, not for a command that checks one. Until this many numbers were asked
# about, phonenumbers answers each one itself (the same answers: the table is exact).
_ASKS_BEFORE_TABLE = 2_000
_asks_without_table = 0


def _nanp_validity(national: str) -> tuple[bool, str | None]:
    """(is valid, region) for a 10-digit NANP national number starting 2-9, as phonenumbers says."""
    global _asks_without_table
    if _asks_without_table < _ASKS_BEFORE_TABLE:
        _asks_without_table += 1
        return _ask_phonenumbers(national)
    lengths = _nanp_decisive_lengths()
    length = lengths.get(national[:3]) if lengths is not None else None
    if length is None:
        return _ask_phonenumbers(national)
    key = national[:length]
    verdict = _prefix_verdicts.get(key)
    if verdict is None:
        if len(_prefix_verdicts) >= _PREFIX_CACHE_LIMIT:
            _prefix_verdicts.clear()
        verdict = _prefix_verdicts[key] = _ask_phonenumbers(national)
    return verdict


def _ask_phonenumbers(national: str) -> tuple[bool, str | None]:
    # Exactly is_valid_number(), without computing the region twice.
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
    where = phonenumbers.region_code_for_number(number)
    return phonenumbers.is_valid_number_for_region(number, where), where


@functools.cache
def _nanp_decisive_lengths() -> dict[str, int] | None:
    """For each area code "200".."999": how many leading digits decide validity and region.

    Validity and region of a 10-digit NANP number are boolean combinations of matches against
    phonenumbers' patterns for the +1 regions: each region's leading_digits (a prefix match) and
    its general and per-type national number patterns (full matches). If every one of them is
    decided by the first k digits of numbers in an area code, so is any combination. We compute
    k per pattern and area code exactly, by running the pattern as a finite automaton over the
    digits: k is the first depth at which, whatever prefix was read, either every completion to
    10 digits matches or none does. Returns None if a pattern uses a construct we do not model.
    """
    areas = [str(a) for a in range(200, 1000)]
    patterns: set[tuple[str, bool]] = set()
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is None:
            continue
        if metadata.leading_digits:
            patterns.add((metadata.leading_digits, True))
        # Every description _number_type_helper() consults, whatever type it decides.
        for desc in filter(None, (getattr(metadata, name, None) for name in _DESC_NAMES)):
            possible = desc.possible_length  # a desc without length 10 is constantly False
            if desc.national_number_pattern and (not possible or 10 in possible):
                patterns.add((desc.national_number_pattern, False))
    try:
        per_pattern = [_decisive_lengths(p, prefix, areas) for p, prefix in sorted(patterns)]
    except (ValueError, TypeError, RecursionError):
        return None
    return {area: max(3, *(lengths[i] for lengths in per_pattern)) for i, area in enumerate(areas)}


_DESC_NAMES = (
    "general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
    "personal_number", "voip", "pager", "uan", "voicemail",
)


_DIGITS = "0123456789"
_ALL_DIGITS = frozenset(_DIGITS)


class _Automaton:
    """A Thompson NFA over the digits, for the regex subset phonenumbers' metadata uses."""

    def __init__(self, pattern: str, prefix_match: bool) -> None:
        self.epsilon: list[list[int]] = []
        self.edges: list[list[tuple[frozenset[str], int]]] = []
        self.start = self._state()
        self.accept = self._sequence(sre_parser.parse(pattern), self.start)
        if prefix_match:  # re.match: any continuation of a matching prefix matches too
            self.edges[self.accept].append((_ALL_DIGITS, self.accept))

    def _state(self, *epsilon_from: int) -> int:
        self.epsilon.append([])
        self.edges.append([])
        for state in epsilon_from:
            self.epsilon[state].append(len(self.edges) - 1)
        return len(self.edges) - 1

    def _sequence(self, items: Iterable, start: int) -> int:
        for op, arg in items:
            chars = _char_class(op, arg)
            if chars is not None:
                end = self._state()
                self.edges[start].append((chars, end))
            elif op is sre.SUBPATTERN:
                end = self._sequence(arg[3], start)
            elif op is sre.BRANCH:
                ends = [self._sequence(alt, self._state(start)) for alt in arg[1]]
                end = self._state(*ends)
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                low, high, item = arg
                for _ in range(low):
                    start = self._sequence(item, start)
                if high is sre.MAXREPEAT:
                    end = self._state(start)
                    self.epsilon[self._sequence(item, end)].append(end)
                else:
                    optional = [start]
                    for _ in range(high - low):
                        optional.append(self._sequence(item, optional[-1]))
                    end = self._state(*optional)
            else:
                raise ValueError(f"regex construct {op} is not modelled")
            start = end
        return start

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(seen)
        while stack:
            for nxt in self.epsilon[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)


def _char_class(op: object, arg: object) -> frozenset[str] | None:
    """The digits a single-character node accepts, or None if `op` is not one."""
    if op is sre.LITERAL or op is sre.NOT_LITERAL:
        return _ALL_DIGITS & {chr(arg)} if op is sre.LITERAL else _ALL_DIGITS - {chr(arg)}
    if op is sre.ANY:
        return _ALL_DIGITS
    if op is not sre.IN:
        return None
    chars: set[str] = set()
    for item, value in arg:
        if item is sre.LITERAL:
            chars.add(chr(value))
        elif item is sre.RANGE:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        elif item is sre.CATEGORY and value is sre.CATEGORY_DIGIT:
            chars.update(_DIGITS)
        elif item is not sre.NEGATE:
            raise ValueError(f"character class item {item} is not modelled")
    negate = any(item is sre.NEGATE for item, _ in arg)
    return _ALL_DIGITS - chars if negate else _ALL_DIGITS & chars


def _decisive_lengths(pattern: str, prefix_match: bool, areas: list[str]) -> list[int]:
    """For each area code, the fewest leading digits that decide `pattern` on 10-digit numbers."""
    nfa = _Automaton(pattern, prefix_match)

    @functools.cache
    def step(states: frozenset[int], digit: str) -> frozenset[int]:
        return nfa.closure(t for s in states for chars, t in nfa.edges[s] if digit in chars)

    @functools.cache
    def verdict(states: frozenset[int], remaining: int) -> bool | None:
        # True/False when every completion of `remaining` digits matches / fails; None if mixed.
        if remaining == 0 or not states:
            return nfa.accept in states
        found = {verdict(step(states, d), remaining - 1) for d in _DIGITS}
        return found.pop() if len(found) == 1 else None

    @functools.cache
    def decided_at(states: frozenset[int], depth: int) -> int:
        if verdict(states, 10 - depth) is not None:
            return depth
        return max(decided_at(step(states, d), depth + 1) for d in _DIGITS)

    start = nfa.closure([nfa.start])
    return [decided_at(step(step(step(start, a[0]), a[1]), a[2]), 3) for a in areas]
