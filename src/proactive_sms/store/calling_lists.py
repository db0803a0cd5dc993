"""Calling lists and their records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from proactive_sms.domain.calling_record import ParsedRecord
from proactive_sms.store.dialect import insert
from proactive_sms.store.errors import NotFound
from proactive_sms.store.schema import calling_list, calling_record


@dataclass(frozen=True)
class CallingList:
    id: int
    business_unit_id: int
    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    id: int
    external_id: str
    phone: str | None
    sms_destination: str | None
    sms_problem: str | None
    expiration_date: date | None
    time_zone: str | None
    postal_code: str | None
    fields: dict[str, str]


def ensure_list(conn: Connection, business_unit_id: int, name: str, fields: Sequence[str],
                now: datetime) -> CallingList:
    """Create the list, or widen the field set of an existing one with the file's fields."""
    row = conn.execute(select(calling_list).where(
        calling_list.c.business_unit_id == business_unit_id, calling_list.c.name == name
    )).first()
    if row is None:
        conn.execute(calling_list.insert().values(
            business_unit_id=business_unit_id, name=name, fields=list(fields), created_at=now
        ))
    else:
        merged = list(dict.fromkeys([*row.fields, *fields]))
        if merged != list(row.fields):
            conn.execute(calling_list.update().where(calling_list.c.id == row.id)
                         .values(fields=merged))
    return find_list(conn, business_unit_id, name)


def find_list(conn: Connection, business_unit_id: int, name: str) -> CallingList:
    row = conn.execute(select(calling_list).where(
        calling_list.c.business_unit_id == business_unit_id, calling_list.c.name == name
    )).first()
    if row is None:
        raise NotFound("calling list", name)
    return CallingList(row.id, row.business_unit_id, row.name, tuple(row.fields))


def list_by_id(conn: Connection, list_id: int) -> CallingList:
    row = conn.execute(select(calling_list).where(calling_list.c.id == list_id)).first()
    if row is None:
        raise NotFound("calling list", list_id)
    return CallingList(row.id, row.business_unit_id, row.name, tuple(row.fields))


def upsert_records(conn: Connection, list_id: int, records: Sequence[ParsedRecord],
                   now: datetime) -> None:
    """Insert records; a record whose ExternalId the list already has is updated in place."""
    if not records:
        return
    rows = [
        {
            "calling_list_id": list_id, "external_id": r.external_id, "phone": r.phone,
            "sms_destination": r.sms_destination,
            "sms_problem": r.sms_problem.value if r.sms_problem else None,
            "expiration_date": r.expiration_date, "time_zone": r.time_zone,
            "postal_code": r.postal_code, "fields": r.fields, "source_line": r.line,
            "created_at": now, "updated_at": now,
        }
        for r in records
    ]
    statement = insert(conn, calling_record)
    updated = {
        name: statement.excluded[name]
        for name in ("phone", "sms_destination", "sms_problem", "expiration_date", "time_zone",
                     "postal_code", "fields", "source_line", "updated_at")
    }
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["calling_list_id", "external_id"], set_=updated
        ),
        rows,
    )


def count_records(conn: Connection, list_id: int) -> int:
    return conn.scalar(
        select(func.count()).select_from(calling_record)
        .where(calling_record.c.calling_list_id == list_id)
    ) or 0


def record_batches(conn: Connection, list_id: int, after_id: int,
                   batch_size: int) -> Iterator[list[StoredRecord]]:
    """Records in id order, after a cursor, a batch at a time (keyset pagination: no OFFSET)."""
    cursor = after_id
    while True:
        rows = conn.execute(
            select(calling_record)
            .where(calling_record.c.calling_list_id == list_id, calling_record.c.id > cursor)
            .order_by(calling_record.c.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        batch = [
            StoredRecord(r.id, r.external_id, r.phone, r.sms_destination, r.sms_problem,
                         r.expiration_date, r.time_zone, r.postal_code, r.fields)
            for r in rows
        ]
        cursor = batch[-1].id
        yield batch
