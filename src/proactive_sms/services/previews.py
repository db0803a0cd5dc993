"""Template previews: the rendered text for a record, its encoding, segments, what forces UCS-2,
and every problem of the text (`check`) named and placed the way the API names it.

The CLI, the API and the console's editor and broadcast page all read texts through here, so
"unknown field 'FirstNme' (did you mean FirstName?)" is worded once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from proactive_sms.domain import encoding, link_tracking, short_links, template
from proactive_sms.domain.calling_list_fields import field_key
from proactive_sms.store.errors import NotFound

# A preview of a typed text without a list touches no database: `psms template preview --text`
# starts without SQLAlchemy (issue 17), so the store is imported where a list is read.
if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from proactive_sms.store.calling_lists import StoredRecord
    from proactive_sms.store.tenancy import BusinessUnit

# Values used when no calling-list record is named, so a preview shows a realistic length.
SAMPLE_VALUES = {
    "FirstName": "Alex", "LastName": "Johnson", "PhoneNumber": "+12025550143",
    "SMSPhoneNumber": "+12025550143", "ExternalId": "A-1001", "PostalCode": "20001",
    "TimeZone": "America/New_York", "ExpirationDate": "2026-12-31",
}


@dataclass(frozen=True)
class Issue:
    """One problem of a text: what is wrong, the variable (or None for the text as a whole),
    the 0-based position in the body it points at, and a hint such as "did you mean X?"."""

    reason: str
    field: str | None = None
    position: int | None = None
    hint: str | None = None
    suggestion: str | None = None  # the field name the hint suggests

    @classmethod
    def of(cls, error: template.TemplateError) -> Issue:
        return cls(error.reason, error.field, error.position, error.hint, error.suggestion)

    def __str__(self) -> str:
        text = self.reason if self.position is None else f"{self.reason} at position " \
                                                          f"{self.position}"
        return f"{text} ({self.hint})" if self.hint else text


@dataclass(frozen=True)
class Preview:
    body: str  # the template as written
    rendered: str | None  # the text the recipient would read (None if it cannot render)
    direction: str  # resolved: ltr | rtl
    report: encoding.EncodingReport | None
    issues: tuple[Issue, ...]  # unknown fields, missing values, ...: each names field, place
    sample: dict[str, str]  # the values merged
    external_id: str | None = None  # the record merged (None: sample values)
    blocking: bool = field(default=False)  # an issue that stops the text from being sent
    warnings: tuple[str, ...] = ()  # invisible characters worth a look (template.warnings)
    # What the direction marks around merged values cost this text (right-to-left only): the
    # UCS-2 units they add, and the segments (0 or more) they add over the text without them.
    mark_units: int = 0
    mark_segments: int = 0

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(str(issue) for issue in self.issues)

    def as_dict(self) -> dict:
        r = self.report
        return {
            "body": self.body, "rendered": self.rendered, "direction": self.direction,
            "encoding": r.encoding.value if r else None, "segments": r.segments if r else None,
            "units": r.units if r else None,
            "unicode_chars": [f"U+{ord(c):04X} {c}" for c in r.unicode_chars] if r else [],
            "remaining_in_segment": r.remaining_in_segment if r else None,
            "problems": list(self.problems), "sample": self.sample,
            "warnings": list(self.warnings),
            "bidi_mark_units": self.mark_units, "bidi_mark_segments": self.mark_segments,
        }


def preview(engine: Engine | None, bu: BusinessUnit | None, body: str, direction: str = "auto",
            smart_encoding: bool = False, calling_list: str | None = None,
            external_id: str | None = None,
            values: dict[str, str] | None = None, *, bidi_marks: str = "auto") -> Preview:
    """The text one record would get. A syntax error in `body` is raised (TemplateError, with
    its position); an unknown field or a record without a value is an issue of the preview."""
    parsed = template.parse(body)
    if calling_list and engine is not None and bu is not None:
        from proactive_sms.store import calling_lists

        with engine.connect() as conn:
            lst = calling_lists.find_list(conn, bu.id, calling_list)
            records = _records(conn, lst.id, external_id, 1)
        fields: tuple[str, ...] | None = lst.fields
    else:
        records, fields = [], None
    missing = (f"calling list '{calling_list}' has no record"
               + (f" '{external_id}'" if external_id else "")) if fields is not None else None
    record = records[0] if records else None
    return _render(parsed, direction, smart_encoding, fields, record, values, missing,
                   bidi_marks, link_domain=bu.link_domain if bu is not None else None)


def samples(engine: Engine, bu: BusinessUnit, body: str, direction: str = "auto",
            smart_encoding: bool = False, calling_list: str | None = None,
            count: int = 3, *, bidi_marks: str = "auto") -> list[Preview]:
    """The text each of the list's first `count` records would get (one preview with sample
    values when no list is named). A syntax error in `body` is raised, as in `preview`."""
    parsed = template.parse(body)
    if not calling_list:
        return [_render(parsed, direction, smart_encoding, None, None, None, None, bidi_marks,
                        link_domain=bu.link_domain)]
    from proactive_sms.store import calling_lists

    with engine.connect() as conn:
        lst = calling_lists.find_list(conn, bu.id, calling_list)
        records = _records(conn, lst.id, None, count)
    if not records:
        return [_render(parsed, direction, smart_encoding, lst.fields, None, None,
                        f"calling list '{calling_list}' has no record", bidi_marks,
                        link_domain=bu.link_domain)]
    return [_render(parsed, direction, smart_encoding, lst.fields, record, None, None, bidi_marks,
                    link_domain=bu.link_domain)
            for record in records]


def check(engine: Engine | None, bu: BusinessUnit | None, body: str, direction: str = "auto",
          smart_encoding: bool = False, calling_list: str | None = None,
          external_id: str | None = None, max_segments: int | None = None, *,
          bidi_marks: str = "auto") -> Preview:
    """`preview`, for a text being typed: never raises for the text itself. A syntax error, an
    empty text, an unknown field and a text longer than `max_segments` are issues, and
    `blocking` says whether any of them would stop the text from starting (a record without a
    value only skips that record)."""
    if not body.strip():
        return Preview(body, None, "ltr", None, (Issue("the message is empty"),), {},
                       blocking=True)
    try:
        result = preview(engine, bu, body, direction, smart_encoding, calling_list,
                         external_id, bidi_marks=bidi_marks)
    except template.TemplateError as error:
        return Preview(body, None, "ltr", None, (Issue.of(error),), {}, blocking=True)
    issues = list(result.issues)
    blocking = any(issue.reason.startswith("unknown field") for issue in issues)
    if max_segments is not None and result.report is not None:
        # here: record_decision brings SQLAlchemy, which a typed text's preview must not load
        from proactive_sms.services.record_decision import too_long_detail

        detail = too_long_detail(result.report.segments, max_segments)
        if detail is not None:
            issues.append(Issue(f"too long: {detail}; such texts are skipped"))
    return Preview(result.body, result.rendered, result.direction, result.report,
                   tuple(issues), result.sample, result.external_id, blocking, result.warnings,
                   result.mark_units, result.mark_segments)


def fields_of(engine: Engine, bu: BusinessUnit, calling_list: str) -> tuple[str, ...]:
    """The field names a template may use with this calling list (for a field picker)."""
    from proactive_sms.store import calling_lists

    with engine.connect() as conn:
        return calling_lists.find_list(conn, bu.id, calling_list).fields


def _records(conn: Connection, list_id: int, external_id: str | None,
             count: int) -> list[StoredRecord]:
    from proactive_sms.store import calling_lists

    if external_id:
        try:
            return [calling_lists.find_record(conn, list_id, external_id)]
        except NotFound:
            return []
    return calling_lists.page_records(conn, list_id, 0, count).items


def _render(parsed: template.Template, direction: str, smart_encoding: bool,
            fields: tuple[str, ...] | None, record: StoredRecord | None,
            values: dict[str, str] | None, missing: str | None,
            bidi_marks: str = "auto", *, link_domain: str | None = None) -> Preview:
    """The preview of `parsed` with a record's values (or the sample values when `fields` is
    None: no list), checked against the list's fields. With the BU's `link_domain`, each
    tracked link shows as a sample short link of the real length (docs/links.md)."""
    resolved = template.resolve_direction(parsed, direction)
    if link_domain:
        parsed = link_tracking.track(parsed, link_domain, short_links.sample_code).template
    noted = tuple(str(w) for w in template.warnings(parsed.body))
    issues: list[Issue] = []
    sample: dict[str, str] = {}
    if fields is not None:
        issues += [Issue.of(e) for e in template.validate(parsed, fields)]
        if record is None:
            issues.append(Issue(missing or "no record"))
        else:
            sample.update(record.fields)
    else:
        known = {field_key(k): v for k, v in SAMPLE_VALUES.items()}
        for var in parsed.variables:
            sample[var.name] = known.get(field_key(var.name), f"<{var.name}>")
    sample.update(values or {})
    external_id = record.external_id if record is not None else None
    try:
        rendered = template.render(parsed, sample, resolved, bidi_marks)
    except template.MissingFieldError as exc:
        if not issues:  # an unknown field has no value anywhere: said once, above
            issues.append(Issue(f"the sample record has no value for {exc.field}", exc.field))
        return Preview(parsed.body, None, resolved, None, tuple(issues), sample, external_id,
                       warnings=noted)
    report = encoding.analyze(rendered, smart=smart_encoding)
    mark_units = mark_segments = 0
    if resolved == "rtl" and bidi_marks != "off":
        bare = encoding.analyze(template.render(parsed, sample, resolved, "off"),
                                smart=smart_encoding)
        mark_units = report.units - bare.units
        mark_segments = report.segments - bare.segments
    return Preview(parsed.body, report.text, resolved, report, tuple(issues), sample,
                   external_id, warnings=noted, mark_units=mark_units,
                   mark_segments=mark_segments)
