"""The live check of a text being typed, shared by the broadcast, notice and template pages.

The browser posts the form (htmx, debounced) and gets back the counter partial (encoding,
characters, segments, room left, the characters that force UCS-2), the issues under the text
and the rendered samples. Every figure comes from `services.previews` (which counts with
`domain.encoding`); console.js only paints, in the text box, the characters this names.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from proactive_sms.domain import direction as bidi
from proactive_sms.interfaces.web import forms
from proactive_sms.interfaces.web.rendering import render
from proactive_sms.services import previews

DIRECTIONS = ("auto", "ltr", "rtl")
SAMPLE_RECORDS = 3
# The API's field names, as the send and template forms name them.
_FIELD_OF = {"text": "message", "body": "message", "sms_registration": "registration"}


@dataclass(frozen=True)
class Counter:
    """What the counter partial shows, from a preview's encoding report."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # characters as the encoding counts them (GSM-7 extension chars count 2)
    segments: int
    remaining: int  # left in the last segment before another is needed
    limit: int  # per segment: 160/153 or 70/67
    scripts: tuple[str, ...]  # scripts written in on purpose ("Arabic"): UCS-2 anyway
    chars: tuple[tuple[str, str], ...]  # (char, how to show it): the strays forcing UCS-2

    @property
    def marked(self) -> list[str]:
        """The characters console.js marks in the text box."""
        return [char for char, _ in self.chars]

    @classmethod
    def of(cls, checked: previews.Preview | None) -> Counter | None:
        report = checked.report if checked is not None else None
        if report is None:
            return None
        scripts, strays = _causes(report.unicode_chars)
        return cls("UCS-2" if report.encoding.value == "ucs2" else "GSM-7", report.units,
                   report.segments, report.remaining_in_segment, report.per_segment_limit,
                   scripts, tuple((char, char_label(char)) for char in strays))


def _script(char: str) -> str:
    """The first word of the character's Unicode name: its script for letters ("ARABIC")."""
    return unicodedata.name(char, "?").split()[0]


def _causes(chars: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """The scripts other than Latin the text is written in, and the other characters that
    force UCS-2. Marking every Arabic letter of an Arabic text tells nobody anything: a script
    is named once; what is marked are the strays (a curly quote, a dash, an emoji, an accented
    Latin letter GSM-7 lacks), which a person may want to replace. In a text of such a script,
    the isolates the template put around merged values are not strays either."""
    scripts = sorted({_script(c) for c in chars
                      if unicodedata.category(c)[0] == "L" and _script(c) != "LATIN"})
    strays = [c for c in chars if _script(c) not in scripts
              and not (scripts and c in _ISOLATES)]
    return tuple(name.capitalize() for name in scripts), strays


_ISOLATES = frozenset((bidi.LRI, bidi.RLI, bidi.FSI, bidi.PDI))


def char_label(char: str) -> str:
    """How to show one character: itself when visible, else its code point (an isolate, a
    joiner, an odd space would show as nothing)."""
    code = f"U+{ord(char):04X}"
    if unicodedata.category(char)[0] in "CZ":
        name = unicodedata.name(char, "")
        return f"{code} {name.lower()}" if name else code
    return char


def field_errors(exc: Exception, field: str | None = None) -> dict[str, str]:
    """`forms.errors_of`, with the API's field names turned into the send forms' names."""
    return {_FIELD_OF.get(key, key): reason
            for key, reason in forms.errors_of(exc, field).items()}


@dataclass(frozen=True)
class TextForm:
    """The text of a posted form and what it is checked against."""

    body: str
    direction: str = "auto"
    smart: bool = False
    calling_list: str | None = None
    external_id: str | None = None  # the record to render (None: the list's first ones)
    max_segments: int | None = None
    bidi_marks: str = "auto"  # "off": no isolates around merged values (a template's opt-out)

    @classmethod
    def read(cls, form: FormData, body_field: str = "message") -> TextForm:
        """From fields `body_field`, direction, smart_encoding, calling_list, external_id,
        max_segments, bidi_marks; a value that makes no sense is left out rather than refused (the
        form's own submit says why)."""
        direction = str(form.get("direction", "auto"))
        try:
            max_segments: int | None = int(str(form.get("max_segments", "")).strip())
        except ValueError:
            max_segments = None
        return cls(str(form.get(body_field, "")),
                   direction if direction in DIRECTIONS else "auto",
                   form.get("smart_encoding") in ("on", "true", "1"),
                   str(form.get("calling_list", "")) or None,
                   str(form.get("external_id", "")) or None, max_segments,
                   "off" if form.get("bidi_marks") == "off" else "auto")


def _checked(engine, bu, text: TextForm) -> previews.Preview:
    return previews.check(engine, bu, text.body, text.direction, text.smart, text.calling_list,
                          text.external_id, text.max_segments, bidi_marks=text.bidi_marks)


def first_check(engine, bu, text: TextForm) -> dict:
    """`checked`, `counter` and `live_errors` for a page's first render: the counter and the
    issues are there from the start, as the live check (posted on load) will show them, so
    that the fields under them do not move when it comes back, under a click on its way."""
    try:
        checked = _checked(engine, bu, text)
    except forms.FORM_ERRORS as exc:
        return {"checked": None, "counter": None, "live_errors": field_errors(exc)}
    return {"checked": checked, "counter": Counter.of(checked), "live_errors": {}}


def check(request: Request, engine, bu, partial: str, text: TextForm, **context) -> Response:
    """Check `text` and render `partial` with `checked` (the preview of the chosen record, or
    of the first), `counter`, `samples` (the first records', or the chosen one's) and
    `errors` (a list that is not the BU's)."""
    try:
        checked = _checked(engine, bu, text)
        shown: list[previews.Preview] = []
        if checked.rendered is not None and text.external_id is None:
            shown = previews.samples(engine, bu, text.body, text.direction, text.smart,
                                     text.calling_list, SAMPLE_RECORDS,
                                     bidi_marks=text.bidi_marks)
        elif checked.rendered is not None:
            shown = [checked]
    except forms.FORM_ERRORS as exc:
        return render(request, partial, checked=None, counter=None, samples=[],
                      errors=field_errors(exc), **context)
    return render(request, partial, checked=checked, counter=Counter.of(checked),
                  samples=shown, errors={}, **context)
