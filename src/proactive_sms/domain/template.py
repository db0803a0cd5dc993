"""Message templates: a body with `{FieldName}` variables, parsed once and rendered per record.

Syntax: `{Name}` merges a calling-list field; `{{` and `}}` are literal braces. Field names are
matched case-insensitively and blind to spaces and underscores, so `{first_name}`, `{FirstName}`
and `{First Name}` are the same field (see `field_key`). Every problem is reported with its exact
0-based position in the body so the template editor can point at it.

Right-to-left bodies (Arabic, Hebrew) get every merged value wrapped in a Unicode isolate, except
where the value sits inside a URL: controls there would break the link.

Invisible characters typed into a body are checked here, so every way in (API, CLI, console, an
ad-hoc text at start) gets the same answer. Refused (`parse` raises): bidi overrides, embeddings
and isolates (U+202A-U+202E, U+2066-U+2069), which turn what a recipient reads around ("Pay
U+202E 0.01$" shows a different amount; our own isolates are added at render, never typed); and
control characters (C0 but the newline, and a CR just before it as browsers send line breaks;
DEL; C1), which phones show as boxes or drop. Warned about (`warnings`): zero-width and other
invisible format characters (U+200B ZWSP, U+200C/U+200D ZWNJ/ZWJ, U+2060, U+FEFF, LRM/RLM...):
ZWJ builds emoji sequences and ZWNJ is part of Persian spelling, so they may be meant, but they
force UCS-2 and can hide text, so the author is told where they are.
"""

from __future__ import annotations

import difflib
import functools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from proactive_sms.domain import bidi_marks
from proactive_sms.domain import direction as bidi

DIRECTIONS = ("ltr", "rtl", "auto")


class TemplateError(ValueError):
    """A template body or variable that cannot be used, with what is wrong and where.

    `reason` says what is wrong ("unknown field 'FirstNme'"), `position` is the 0-based index in
    the body of the offending character (the opening brace of a variable), `field` the variable's
    name when there is one, `hint` a suggestion such as "did you mean FirstName?", and
    `suggestion` the field name it suggests ("FirstName"), for an editor to offer.
    """

    def __init__(
        self, reason: str, position: int, field: str | None = None, hint: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.reason = reason
        self.position = position
        self.field = field
        self.hint = hint
        self.suggestion = suggestion
        message = f"{reason} at position {position}"
        super().__init__(f"{message} ({hint})" if hint else message)


class MissingFieldError(ValueError):
    """A record has no value (absent, None, empty or blank) for a field the template uses."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"no value for field '{field}'")


@dataclass(frozen=True)
class Variable:
    """One `{Name}` in a body: the name as written (trimmed) and the index of its `{`."""

    name: str
    position: int

    @property
    def key(self) -> str:
        return field_key(self.name)


@dataclass(frozen=True)
class Template:
    """A parsed body: literal text (braces unescaped) and variables, in order."""

    body: str
    pieces: tuple[str | Variable, ...]
    # The URLs written as `{Link:URL}`: merged into the literal text as the URL itself, and
    # tracked (domain.link_tracking) when the business unit has a short link domain.
    links: tuple[str, ...] = ()

    # Cached: render() asks for these once per record. (cached_property writes the instance
    # __dict__ directly, which a frozen dataclass allows; equality still compares fields only.)
    @functools.cached_property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(p for p in self.pieces if isinstance(p, Variable))

    @functools.cached_property
    def field_names(self) -> frozenset[str]:
        """The canonical keys (`field_key`, lower-cased) of the fields used."""
        return frozenset(v.key for v in self.variables)

    @functools.cached_property
    def literal_text(self) -> str:
        """The body without its variables: what the author wrote, used to detect direction."""
        return "".join(p for p in self.pieces if isinstance(p, str))

    @functools.cached_property
    def literal_direction(self) -> bidi.Direction:
        return bidi.detect_direction(self.literal_text)


@functools.lru_cache(maxsize=4096)
def field_key(name: str) -> str:
    """The canonical key of a field name: case-folded, without white space and underscores.

    Cached because render() calls it for every field of every record, and the names repeat.
    """
    return "".join(name.split()).replace("_", "").casefold()


_BIDI_CONTROLS = {
    "\u202a": "LEFT-TO-RIGHT EMBEDDING", "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING", "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE", "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE", "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
}


@dataclass(frozen=True)
class TemplateWarning:
    """Something in a body that may be meant but deserves a look: what, and where."""

    reason: str
    position: int

    def __str__(self) -> str:
        return f"{self.reason} at position {self.position}"


def _refused_character(body: str, i: int) -> str | None:
    """Why the character at `i` may not be in a body, or None."""
    ch = body[i]
    if ch in _BIDI_CONTROLS:
        return (f"bidirectional control U+{ord(ch):04X} ({_BIDI_CONTROLS[ch]}): it can reverse "
                "what the recipient reads; the direction setting places merged values")
    code = ord(ch)
    if ch == "\n" or (ch == "\r" and body.startswith("\n", i + 1)):
        return None
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"control character U+{code:04X}{_named(ch)}: phones show it as a box or drop it"
    return None


def _named(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f" ({name})" if name else {"\t": " (TAB)", "\r": " (CARRIAGE RETURN)"}.get(ch, "")


def _check_characters(body: str) -> None:
    """Raise TemplateError at the first refused character."""
    if body.isprintable():  # one scan in C: no control or format character at all
        return
    for i in range(len(body)):
        reason = _refused_character(body, i)
        if reason:
            raise TemplateError(reason, i, hint="delete it: most editors do not show it")


def warnings(body: str) -> list[TemplateWarning]:
    """Invisible characters in `body` that are allowed but worth a look (zero-width joiners and
    spaces, direction marks, other format characters), one warning per character."""
    found = []
    for i, ch in enumerate(body):
        if unicodedata.category(ch) == "Cf" and ch not in _BIDI_CONTROLS:
            name = unicodedata.name(ch, "a format character")
            found.append(TemplateWarning(f"invisible character U+{ord(ch):04X} ({name})", i))
    return found


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_ "


def parse(body: str) -> Template:
    """Parse `body`, or raise TemplateError for the first problem in it.

    Problems: an unclosed `{`, a stray `}`, an empty name (`{}`, `{ }`), a character that cannot be
    part of a name (letters, digits, spaces and underscores can), a `{` inside a name, and a
    refused invisible character (bidi controls, control characters: see the module's page).
    """
    _check_characters(body)
    pieces: list[str | Variable] = []
    literal: list[str] = []
    links: list[str] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch == "{" and body.startswith("{{", i):
            literal.append("{")
            i += 2
        elif ch == "}" and body.startswith("}}", i):
            literal.append("}")
            i += 2
        elif ch == "}":
            raise TemplateError("stray '}'", i, hint="write '}}' for a literal brace")
        elif ch == "{" and body[i + 1 : i + 1 + len(_LINK)].casefold() == _LINK:
            url, i = _parse_link(body, i)
            literal.append(url)
            links.append(url)
        elif ch == "{":
            variable, i = _parse_variable(body, i)
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(variable)
        else:
            # Copy the run of plain text up to the next brace in one step.
            end = min((j for j in (body.find("{", i), body.find("}", i)) if j != -1), default=n)
            literal.append(body[i:end])
            i = end
    if literal:
        pieces.append("".join(literal))
    return Template(body, tuple(pieces), tuple(dict.fromkeys(links)))


_LINK = "link:"  # `{Link:https://...}`, any case


def _parse_link(body: str, start: int) -> tuple[str, int]:
    """The URL of the `{Link:URL}` whose `{` is at `start`, and the index just after its `}`."""
    close = body.find("}", start)
    if close == -1:
        raise TemplateError("unclosed '{'", start, hint="write {Link:https://...}")
    url = body[start + 1 + len(_LINK) : close].strip()
    scheme = url[:8].lower()
    if not (scheme.startswith("http://") or scheme.startswith("https://")) or len(url) < 10 \
            or any(ch.isspace() or ch in "{<>\"" for ch in url):
        raise TemplateError("a link must be a web address without spaces", start,
                            hint="write {Link:https://example.com/page}")
    return url, close + 1


def _parse_variable(body: str, start: int) -> tuple[Variable, int]:
    """The variable whose `{` is at `start`, and the index just after its `}`."""
    close = body.find("}", start + 1)
    nested = body.find("{", start + 1)
    if nested != -1 and (close == -1 or nested < close) and _closes(body, start):
        # "{a{b}}": the outer brace does close, so the mistake is the inner one.
        raise TemplateError(
            "'{' inside a field name", nested, hint="write '{{' for a literal brace"
        )
    if close == -1 or (nested != -1 and nested < close):
        # "{First, see {Code}": the first brace never closes; that is what to fix.
        raise TemplateError("unclosed '{'", start, hint="write '{{' for a literal brace")
    inner = body[start + 1 : close]
    name = inner.strip()
    if not name or not field_key(name):
        raise TemplateError("empty field name", start)
    for offset, ch in enumerate(inner):
        if not _is_name_char(ch):
            raise TemplateError(
                # repr() so that a newline or tab shows as \n or \t in a one-line message
                f"invalid character {ch!r} in field name '{repr(name)[1:-1]}'",
                start + 1 + offset,
                field=name,
                hint="use letters, digits, spaces and underscores",
            )
    return Variable(name, start), close + 1


def _closes(body: str, start: int) -> bool:
    """Whether the `{` at `start` is balanced by a later `}`, counting braces as nesting."""
    depth = 0
    for ch in body[start:]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return True
    return False


def validate(template: Template, field_names: Iterable[str]) -> list[TemplateError]:
    """One TemplateError per variable (each occurrence) whose field is not in `field_names`."""
    known: dict[str, str] = {}
    for name in field_names:
        known.setdefault(field_key(name), name)
    errors = []
    for variable in template.variables:
        if variable.key in known:
            continue
        close = difflib.get_close_matches(variable.key, list(known), n=1, cutoff=0.6)
        suggestion = known[close[0]] if close else None
        errors.append(
            TemplateError(
                f"unknown field '{variable.name}'",
                variable.position,
                field=variable.name,
                hint=f"did you mean {suggestion}?" if suggestion else None,
                suggestion=suggestion,
            )
        )
    return errors


def resolve_direction(template: Template, declared: str) -> str:
    """"ltr" or "rtl": `declared` itself, or for "auto" the direction of the literal text.

    A body with no strong character of its own (only variables, digits, punctuation) is "ltr".
    """
    if declared not in DIRECTIONS:
        declared = declared.strip().lower()
        if declared not in DIRECTIONS:
            raise ValueError(f"unknown direction {declared!r} (use 'ltr', 'rtl' or 'auto')")
    if declared != "auto":
        return declared
    return "rtl" if template.literal_direction == "rtl" else "ltr"


def render(template: Template, values: Mapping[str, str | None], direction: str = "ltr",
           marks: str = "auto") -> str:
    """The body with each variable replaced by its record's value.

    `values` keys may use any case and spacing (`field_key`). A used field that is absent, None,
    empty or blank raises MissingFieldError: sending "Hi ," is worse than skipping the record.
    In right-to-left text (`direction` "rtl", or "auto" resolving to it) each value is isolated:
    LRI...PDI when clearly LTR (numbers, codes, e-mails), FSI...PDI otherwise (names); a value that
    is part of a URL is left bare so that the link still works. Left-to-right text is not touched.
    A fence is kept only where the value would otherwise be shown in another order
    (bidi_marks.join_where_needed): each costs two UCS-2 units. `marks` "off" (a template's
    opt-out) fences nothing.
    """
    by_key: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else str(value)  # tolerate numbers from callers
        # Two spellings of one field ("first_name", "FirstName"): the first non-blank one wins.
        if text.strip():
            by_key.setdefault(field_key(name), text)
    merged: list[str] = []
    for piece in template.pieces:
        if isinstance(piece, str):
            merged.append(piece)
            continue
        value = by_key.get(piece.key)
        if value is None:
            raise MissingFieldError(piece.name)
        merged.append(value)
    if marks not in bidi_marks.MARK_CHOICES:
        raise ValueError(f"unknown bidi marks setting {marks!r} (use 'auto' or 'off')")
    if (marks == "off" or resolve_direction(template, direction) == "ltr"
            or not template.variables):
        return "".join(merged)
    return bidi_marks.join_where_needed(*fence_pieces(template, merged))


def fence_pieces(template: Template,
                 merged: list[str]) -> tuple[list[str], list[str | None]]:
    """`merged` (parallel to template.pieces), and for each piece the isolate that would fence
    it: LRI or FSI for a value, None for literal text and for a value inside a URL."""
    plain = "".join(merged)
    # URLs are found in the merged text, so one spanning literal text and values
    # ("https://x.co/{Path}/{Code}") is seen whole.
    urls = [m.span() for m in bidi.URL.finditer(plain)] if bidi.might_hold_url(plain) else []
    texts: list[str] = []
    openers: list[str | None] = []
    start = 0
    for piece, text in zip(template.pieces, merged, strict=True):
        end = start + len(text)
        if piece.__class__ is Variable and not (urls and _inside_url(start, end, urls)):
            # A value's own scope controls go whether it is fenced or not: a stray override
            # would leak past it either way.
            texts.append(bidi.strip_scope_controls(text))
            openers.append(bidi.opener_for(text))
        else:
            texts.append(text)
            openers.append(None)
        start = end
    return texts, openers


def _inside_url(start: int, end: int, urls: list[tuple[int, int]]) -> bool:
    """Whether text[start:end] shares characters with a URL that extends beyond it.

    A value that is a whole URL by itself may be isolated: its controls sit outside the link.
    """
    for url_start, url_end in urls:
        overlaps = url_start < end and start < url_end
        if overlaps and (url_start < start or url_end > end):
            return True
    return False
