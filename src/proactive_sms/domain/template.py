"""Message templates: a body with `{FieldName}` variables, parsed once and rendered per record.

Syntax: `{Name}` merges a calling-list field; `{{` and `}}` are literal braces. Field names are
matched case-insensitively and blind to spaces and underscores, so `{first_name}`, `{FirstName}`
and `{First Name}` are the same field (see `field_key`). Every problem is reported with its exact
0-based position in the body so the template editor can point at it.

Right-to-left bodies (Arabic, Hebrew) get every merged value wrapped in a Unicode isolate, except
where the value sits inside a URL: controls there would break the link.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_ "


def parse(body: str) -> Template:
    """Parse `body`, or raise TemplateError for the first problem in it.

    Problems: an unclosed `{`, a stray `}`, an empty name (`{}`, `{ }`), a character that cannot be
    part of a name (letters, digits, spaces and underscores can), and a `{` inside a name.
    """
    pieces: list[str | Variable] = []
    literal: list[str] = []
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
    return Template(body, tuple(pieces))


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


def render(template: Template, values: Mapping[str, str | None], direction: str = "ltr") -> str:
    """The body with each variable replaced by its record's value.

    `values` keys may use any case and spacing (`field_key`). A used field that is absent, None,
    empty or blank raises MissingFieldError: sending "Hi ," is worse than skipping the record.
    In right-to-left text (`direction` "rtl", or "auto" resolving to it) each value is isolated:
    LRI...PDI when clearly LTR (numbers, codes, e-mails), FSI...PDI otherwise (names); a value that
    is part of a URL is left bare so that the link still works. Left-to-right text is not touched.
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
    if resolve_direction(template, direction) == "ltr" or not template.variables:
        return "".join(merged)
    return _isolate_values(template, merged)


def _isolate_values(template: Template, merged: list[str]) -> str:
    """Join `merged` (parallel to template.pieces), isolating values that are not in a URL."""
    plain = "".join(merged)
    # URLs are found in the merged text, so one spanning literal text and values
    # ("https://x.co/{Path}/{Code}") is seen whole.
    urls = [m.span() for m in bidi.URL.finditer(plain)] if bidi.might_hold_url(plain) else []
    out: list[str] = []
    start = 0
    for piece, text in zip(template.pieces, merged, strict=True):
        end = start + len(text)
        if isinstance(piece, Variable) and not _inside_url(start, end, urls):
            out.append(bidi.isolate_value(text))
        else:
            out.append(text)
        start = end
    return "".join(out)


def _inside_url(start: int, end: int, urls: list[tuple[int, int]]) -> bool:
    """Whether text[start:end] shares characters with a URL that extends beyond it.

    A value that is a whole URL by itself may be isolated: its controls sit outside the link.
    """
    for url_start, url_end in urls:
        overlaps = url_start < end and start < url_end
        if overlaps and (url_start < start or url_end > end):
            return True
    return False
