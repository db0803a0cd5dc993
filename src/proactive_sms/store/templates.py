"""Saved message templates of a business unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from proactive_sms.store import paging
from proactive_sms.store.dialect import insert
from proactive_sms.store.errors import NotFound
from proactive_sms.store.schema import template


@dataclass(frozen=True)
class StoredTemplate:
    id: int
    business_unit_id: int
    name: str
    body: str
    direction: str
    smart_encoding: bool
    version: int = 1  # raised by every change (store.versions)
    bidi_marks: str = "auto"  # auto: isolates only where needed; off: none (domain.bidi_marks)


def save_template(conn: Connection, business_unit_id: int, name: str, body: str, direction: str,
                  smart_encoding: bool, now: datetime, bidi_marks: str = "auto") -> StoredTemplate:
    """Create the template, or replace the body of the one with that name."""
    values = dict(body=body, direction=direction, smart_encoding=smart_encoding,
                  bidi_marks=bidi_marks, updated_at=now)
    conn.execute(
        insert(conn, template)
        .values(business_unit_id=business_unit_id, name=name, created_at=now, **values)
        # Saving over an archived template of that name brings it back with the new body.
        .on_conflict_do_update(index_elements=["business_unit_id", "name"],
                               set_={**values, "archived_at": None,
                                     "version": template.c.version + 1})
    )
    return find_template(conn, business_unit_id, name)


def find_template(conn: Connection, business_unit_id: int, name: str) -> StoredTemplate:
    row = conn.execute(select(template).where(
        template.c.business_unit_id == business_unit_id, template.c.name == name,
        template.c.archived_at.is_(None),
    )).first()
    if row is None:
        raise NotFound("template", name)
    return _template(row)


def template_by_id(conn: Connection, template_id: int) -> StoredTemplate:
    row = conn.execute(select(template).where(template.c.id == template_id)).first()
    if row is None:
        raise NotFound("template", template_id)
    return _template(row)


def list_templates(conn: Connection, business_unit_id: int) -> list[StoredTemplate]:
    rows = conn.execute(select(template).where(template.c.business_unit_id == business_unit_id,
                                               template.c.archived_at.is_(None))
                        .order_by(template.c.name))
    return [_template(r) for r in rows]


def _template(row) -> StoredTemplate:
    return StoredTemplate(row.id, row.business_unit_id, row.name, row.body, row.direction,
                          row.smart_encoding, row.version, row.bidi_marks)


def page(conn: Connection, business_unit_id: int, after_id: int,
         limit: int) -> paging.Page[StoredTemplate]:
    """The BU's templates after an id, in id order."""
    query = select(template).where(template.c.business_unit_id == business_unit_id,
                                   template.c.archived_at.is_(None))
    return paging.fetch(conn, query, template.c.id, after_id, limit, _template)
