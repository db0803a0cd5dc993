"""Template previews: the rendered text for a record, its encoding, segments, what forces UCS-2."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from proactive_sms.domain import encoding, template
from proactive_sms.domain.calling_list_fields import field_key
from proactive_sms.store import calling_lists
from proactive_sms.store.schema import calling_record
from proactive_sms.store.tenancy import BusinessUnit

# Values used when no calling-list record is named, so a preview shows a realistic length.
SAMPLE_VALUES = {
    "FirstName": "Alex", "LastName": "Johnson", "PhoneNumber": "+12025550143",
    "SMSPhoneNumber": "+12025550143", "ExternalId": "A-1001", "PostalCode": "20001",
    "TimeZone": "America/New_York", "ExpirationDate": "2026-12-31",
}


@dataclass(frozen=True)
class Preview:
    body: str  # the template as written
    rendered: str | None  # the text the recipient would read (None if it cannot render)
    direction: str
    report: encoding.EncodingReport | None
    problems: tuple[str, ...]  # unknown fields, missing values: each names field and position
    sample: dict[str, str]  # the values merged
    warnings: tuple[str, ...] = ()  # invisible characters worth a look (template.warnings)

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
        }


def preview(engine: Engine | None, bu: BusinessUnit | None, body: str, direction: str = "auto",
            smart_encoding: bool = False, calling_list: str | None = None,
            external_id: str | None = None,
            values: dict[str, str] | None = None) -> Preview:
    parsed = template.parse(body)  # a syntax error is raised with its position
    noted = tuple(str(w) for w in template.warnings(body))
    resolved = template.resolve_direction(parsed, direction)
    problems: list[str] = []
    sample: dict[str, str] = {}
    if calling_list and engine is not None and bu is not None:
        with engine.connect() as conn:
            lst = calling_lists.find_list(conn, bu.id, calling_list)
            problems += [str(p) for p in template.validate(parsed, lst.fields)]
            query = select(calling_record.c.fields).where(
                calling_record.c.calling_list_id == lst.id)
            if external_id:
                query = query.where(calling_record.c.external_id == external_id)
            row = conn.execute(query.order_by(calling_record.c.id).limit(1)).first()
            if row is None:
                problems.append(f"calling list '{calling_list}' has no record"
                                + (f" '{external_id}'" if external_id else ""))
            else:
                sample.update(row.fields)
    else:
        known = {field_key(k): v for k, v in SAMPLE_VALUES.items()}
        for var in parsed.variables:
            sample[var.name] = known.get(field_key(var.name), f"<{var.name}>")
    sample.update(values or {})
    try:
        rendered = template.render(parsed, sample, resolved)
    except template.MissingFieldError as exc:
        problems.append(f"the sample record has no value for {exc.field}")
        return Preview(body, None, resolved, None, tuple(problems), sample, noted)
    report = encoding.analyze(rendered, smart=smart_encoding)
    return Preview(body, report.text, resolved, report, tuple(problems), sample, noted)
