"""Calling lists and their records."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from json.encoder import encode_basestring_ascii
from typing import NamedTuple, Protocol

from sqlalchemy import (
    Column,
    Connection,
    Select,
    Text,
    cast,
    delete,
    exists,
    func,
    null,
    or_,
    select,
    type_coerce,
    update,
)

from proactive_sms.domain.calling_record import ParsedRecord
from proactive_sms.store import paging, pg_copy
from proactive_sms.store.dialect import is_postgres
from proactive_sms.store.errors import NotFound
from proactive_sms.store.schema import (
    calling_list,
    calling_record,
    conversation,
    dnc_entry,
    inbound_message,
)


@dataclass(frozen=True)
class CallingList:
    id: int
    business_unit_id: int
    name: str
    fields: tuple[str, ...]
    version: int = 1  # raised by every user edit (store.versions)
    archived_at: datetime | None = None  # removed while finished skills report on it


def _list(row) -> CallingList:
    return CallingList(row.id, row.business_unit_id, row.name, tuple(row.fields), row.version,
                       row.archived_at)


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
        if row.archived_at is not None:  # importing into a removed list brings it back
            conn.execute(calling_list.update().where(calling_list.c.id == row.id)
                         .values(archived_at=None))
    return find_list(conn, business_unit_id, name)


def find_list(conn: Connection, business_unit_id: int, name: str) -> CallingList:
    row = conn.execute(select(calling_list).where(
        calling_list.c.business_unit_id == business_unit_id, calling_list.c.name == name
    )).first()
    if row is None:
        raise NotFound("calling list", name)
    return _list(row)


def list_by_id(conn: Connection, list_id: int) -> CallingList:
    row = conn.execute(select(calling_list).where(calling_list.c.id == list_id)).first()
    if row is None:
        raise NotFound("calling list", list_id)
    return _list(row)


def find_record(conn: Connection, list_id: int, external_id: str) -> StoredRecord:
    """The list's record with this ExternalId (NotFound when it has none)."""
    r = conn.execute(select(calling_record).where(
        calling_record.c.calling_list_id == list_id,
        calling_record.c.external_id == external_id)).first()
    if r is None:
        raise NotFound("record", external_id)
    return StoredRecord(r.id, r.external_id, r.phone, r.sms_destination, r.sms_problem,
                        r.expiration_date, r.time_zone, r.postal_code, decode_fields(r.fields))


# SQLite's bulk path (see RecordRows): the same statement SQLAlchemy would build below,
# prepared once and run by the driver for every row.
_UPSERT_SQLITE = (
    "INSERT INTO calling_record (calling_list_id, external_id, phone, sms_destination, "
    "sms_problem, expiration_date, time_zone, postal_code, fields, source_line, created_at, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (calling_list_id, external_id) DO UPDATE SET phone = excluded.phone, "
    "sms_destination = excluded.sms_destination, sms_problem = excluded.sms_problem, "
    "expiration_date = excluded.expiration_date, time_zone = excluded.time_zone, "
    "postal_code = excluded.postal_code, fields = excluded.fields, "
    "source_line = excluded.source_line, updated_at = excluded.updated_at"
)


class RecordRows:
    """Turns ParsedRecords into the rows `write_record_rows` stores, for one list.

    Built once with a connection (for its dialect); after that a pure function of the records,
    so an import can run it in a worker process (services.offload). On SQLite the rows are
    tuples for the driver's executemany with their values already in the form SQLAlchemy would
    store (the types' own bind processors for dates, `fields_json` for the fields), skipping
    SQLAlchemy's per-row parameter processing: most of the cost of a large import. On PostgreSQL
    they are tuples for COPY (store.pg_copy), the values as psycopg sends them.
    """

    def __init__(self, conn: Connection, list_id: int) -> None:
        self.list_id = list_id
        self.postgres = is_postgres(conn)
        self._stamp = _bind(conn, calling_record.c.created_at)
        self._to_date = _bind(conn, calling_record.c.expiration_date)

    def __call__(self, records: Sequence[ParsedRecord], now: datetime) -> list:
        list_id = self.list_id
        if not self.postgres:
            stamp = self._stamp(now)
            to_date = self._to_date
            return [
                (list_id, r.external_id, r.phone, r.sms_destination,
                 r.sms_problem.value if r.sms_problem else None,
                 to_date(r.expiration_date) if r.expiration_date is not None else None,
                 r.time_zone, r.postal_code, fields_json(r.fields), r.line, stamp, stamp)
                for r in records
            ]
        # PostgreSQL: the columns of store.pg_copy.RECORD_COLUMNS, for COPY (the fields as
        # JSON text, which the json column parses).
        return [
            (list_id, r.external_id, r.phone, r.sms_destination,
             r.sms_problem.value if r.sms_problem else None, r.expiration_date, r.time_zone,
             r.postal_code, fields_json(r.fields), r.line, now, now)
            for r in records
        ]


def write_record_rows(conn: Connection, rows: list) -> None:
    """Store rows made by `RecordRows` (insert, or update the record with that ExternalId)."""
    if not rows:
        return
    if not is_postgres(conn):
        conn.exec_driver_sql(_UPSERT_SQLITE, rows)
        return
    pg_copy.upsert_records(conn, rows)


def _bind(conn: Connection, column: Column) -> Callable:
    """The function SQLAlchemy applies to a value of `column` before the driver sees it."""
    column_type = column.type.dialect_impl(conn.dialect)
    return column_type.bind_processor(conn.dialect) or (lambda value: value)


_quote = encode_basestring_ascii  # json's own C string encoder
# For each set of field names (a tuple, in order) the JSON with "%s" for the values: the rows
# of a file share a handful of sets, so the names are quoted once each, not once a record.
_FIELDS_FORMATS: dict[tuple[str, ...], str] = {}
_FIELDS_FORMATS_LIMIT = 4096


def fields_json(fields: dict[str, str]) -> str:
    """json.dumps(fields), exactly, for a dict of strings, in half the time.

    The record's fields are a flat dict of strings (they come from CSV cells); json.dumps
    spends most of its time on the general case. Anything else goes to json.dumps itself.
    """
    names = tuple(fields)
    form = _FIELDS_FORMATS.get(names)
    try:
        if form is None:
            form = "{" + ", ".join([_quote(k).replace("%", "%%") + ": %s"
                                    for k in names]) + "}"
            if len(_FIELDS_FORMATS) < _FIELDS_FORMATS_LIMIT:
                _FIELDS_FORMATS[names] = form
        return form % tuple(map(_quote, fields.values()))
    except TypeError:  # a value (or key) that is not a str
        return json.dumps(fields)


def count_records(conn: Connection, list_id: int) -> int:
    return conn.scalar(
        select(func.count()).select_from(calling_record)
        .where(calling_record.c.calling_list_id == list_id)
    ) or 0


def _in_list(list_id: int, postgres: bool = False):
    """The list condition for scans in id order.

    Written as `calling_list_id + 0 = ?` on SQLite so that it cannot use the (list, ExternalId)
    index for it: it would, and then sort every record of the list by id again for each batch
    (a launch of a million records read its list ~500 times over). This way it walks the primary
    key from the cursor; `first_id` keeps that walk from starting at other lists' records.

    PostgreSQL (`postgres`) gets the plain condition: its planner chooses by the table's
    statistics, and `+ 0` hid from them how many records the list holds (a guessed 0.5% of the
    table), so a launch's batch read every remaining record of the table and sorted them, spilling
    to disk, to keep the first 20,000 (measured: 143 ms a batch at 100,000 records, growing with
    the table, against 25 ms walking the primary key). The import brings the statistics up to
    date (`analyze_records`).
    """
    if postgres:
        return calling_record.c.calling_list_id == list_id
    return (calling_record.c.calling_list_id + 0) == list_id


def analyze_records(conn: Connection) -> None:
    """Bring PostgreSQL's statistics of calling_record up to date (after a large import), so
    that its planner knows how many records a list holds (see _in_list). It samples a fixed
    number of rows (0.1-0.5 s measured, whatever the table's size) and blocks no reader or
    writer. Nothing on SQLite, whose plans do not depend on statistics here."""
    if is_postgres(conn):
        conn.exec_driver_sql("ANALYZE calling_record")


def first_id(conn: Connection, list_id: int) -> int | None:
    """The lowest record id of the list (None when it has none)."""
    return conn.scalar(select(func.min(calling_record.c.id))
                       .where(calling_record.c.calling_list_id == list_id))


def record_batches(conn: Connection, list_id: int, after_id: int,
                   batch_size: int) -> Iterator[list[StoredRecord]]:
    """Records in id order, after a cursor, a batch at a time (keyset pagination: no OFFSET)."""
    start = first_id(conn, list_id)
    cursor = after_id if start is None else max(after_id, start - 1)
    while True:
        rows = conn.execute(_next_records(conn, list_id, cursor, batch_size,
                                         calling_record)).all()
        if not rows:
            return
        batch = [
            StoredRecord(r.id, r.external_id, r.phone, r.sms_destination, r.sms_problem,
                         r.expiration_date, r.time_zone, r.postal_code, r.fields)
            for r in rows
        ]
        cursor = batch[-1].id
        yield batch


class LaunchRecord(Protocol):
    """What launch needs of a record, with whether its number is on the DNC list.

    `launch_batch` returns the database rows themselves, which have these attributes: copying a
    million of them into objects of our own would cost more than anything launch does with them.
    """

    id: int
    sms_destination: str | None
    sms_problem: str | None
    expiration_date: date | None
    on_dnc: bool
    # Unless asked for (a text with variables), None; else as the driver gives it (JSON text on
    # SQLite): `decode_fields` turns it into the dict, for the records that need it.
    fields: str | dict[str, str] | None


def decode_fields(value: str | dict[str, str] | None) -> dict[str, str]:
    """The fields of a LaunchRecord as a dict (decoding JSON text only here, only when asked)."""
    decoded = json.loads(value) if isinstance(value, str) else value
    return decoded or {}


def _fields_for_launch(conn: Connection, with_fields: bool = True):
    # Undecoded JSON text: launch skips some records (no number, DNC, duplicates) before it
    # needs their fields, and the JSON is most of the cost of reading a record. On PostgreSQL a
    # CAST in the SQL: psycopg decodes a json column into a dict by itself, which cost a launch
    # ~7 us and ~1 KB of memory a record, twice (each record is read with its batch and a batch
    # ahead), and the dicts were then pickled to the worker.
    if not with_fields:
        return null().label("fields")
    fields = calling_record.c.fields
    return (cast(fields, Text) if is_postgres(conn) else type_coerce(fields, Text)).label(
        "fields")


class LaunchFields(NamedTuple):
    id: int
    sms_destination: str | None
    fields: str | dict[str, str]  # as in LaunchRecord


def launch_fields(conn: Connection, list_id: int, after_id: int,
                  limit: int) -> Sequence[LaunchFields]:
    """What launch_batch(.., after_id, limit, .., True) would return next, for rendering texts
    ahead: each record's id, destination and fields (as LaunchRecord has them)."""
    return _rows(conn, _next_records(conn, list_id, after_id, limit, calling_record.c.id,
                                     calling_record.c.sms_destination,
                                     _fields_for_launch(conn)),
                 LaunchFields)


def _next_records(conn: Connection, list_id: int, after_id: int, limit: int,
                  *columns) -> Select:
    """`columns` of the list's next `limit` records after `after_id`, in id order."""
    return (select(*columns).where(_in_list(list_id, is_postgres(conn)),
                                   calling_record.c.id > after_id)
            .order_by(calling_record.c.id).limit(limit))


def _rows(conn: Connection, statement: Select, row_type: type[tuple]) -> Sequence:
    """The rows of `statement` (of plain columns: no type conversion) as `row_type` tuples.

    On SQLite straight from the driver: SQLAlchemy's Row, built for every row, costs more than
    anything a launch does with most rows. The statement is SQLAlchemy's own, compiled for the
    dialect, so the SQL is the same either way. PostgreSQL keeps SQLAlchemy's Rows (whose
    attributes are the same).
    """
    if is_postgres(conn):
        return conn.execute(statement).all()
    compiled = statement.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    arguments = [params[name] for name in compiled.positiontup or ()]
    driver = conn.connection.driver_connection
    make = functools.partial(tuple.__new__, row_type)  # row_type._make, without a Python frame
    return list(map(make, driver.execute(compiled.string, arguments)))  # type: ignore[union-attr]


def count_after(conn: Connection, list_id: int, after_id: int, at_most: int) -> int:
    """How many records of the list come after `after_id` (counting no further than at_most)."""
    ids = _next_records(conn, list_id, after_id, at_most, calling_record.c.id).subquery()
    return conn.scalar(select(func.count()).select_from(ids)) or 0


def launch_batch(conn: Connection, list_id: int, after_id: int, limit: int, dnc_list_id: int,
                 with_fields: bool) -> Sequence[LaunchRecord]:
    """The next records of a list after `after_id`, in id order, for launch.

    The DNC check is part of the query (one index probe per record inside the database, rather
    than a round trip with the batch's numbers), so it reads the DNC list in the caller's
    transaction, the one that writes the decisions. Fields are read only when asked for, and
    left for `decode_fields`.
    """
    if is_postgres(conn):
        # No JIT compilation for the rest of this transaction: the planner prices the DNC check
        # per record as if it were not hashed, so a batch of 20,000 passes jit_above_cost, and
        # compiling took 35-90 ms of a 40 ms query (EXPLAIN ANALYZE, 100,000 records).
        conn.exec_driver_sql("SET LOCAL jit = off")
    on_dnc = exists().where(dnc_entry.c.dnc_list_id == dnc_list_id,
                            dnc_entry.c.phone == calling_record.c.sms_destination)
    rows = _rows(conn, _next_records(conn, list_id, after_id, limit, calling_record.c.id,
                                     calling_record.c.sms_destination,
                                     calling_record.c.sms_problem,
                                     calling_record.c.expiration_date, on_dnc.label("on_dnc"),
                                     _fields_for_launch(conn, with_fields)), _LaunchRow)
    if is_postgres(conn) or all(row.expiration_date is None for row in rows):
        return rows
    to_date = _result(conn, calling_record.c.expiration_date)
    return [row if row.expiration_date is None
            else row._replace(expiration_date=to_date(row.expiration_date)) for row in rows]


class _LaunchRow(NamedTuple):
    """A LaunchRecord as launch_batch reads it from SQLite's driver."""

    id: int
    sms_destination: str | None
    sms_problem: str | None
    expiration_date: date | None  # text from the driver, made a date by launch_batch
    on_dnc: bool  # 0 or 1 as SQLite gives it
    fields: str | dict[str, str] | None


def _result(conn: Connection, column: Column) -> Callable:
    """The function SQLAlchemy applies to a value of `column` the driver returns."""
    column_type = column.type.dialect_impl(conn.dialect)
    return column_type.result_processor(conn.dialect, None) or (lambda value: value)


def page_lists(conn: Connection, business_unit_id: int, after_id: int,
               limit: int, archived: bool = False) -> paging.Page[CallingList]:
    """The BU's calling lists after an id, in id order; archived ones only when asked."""
    query = select(calling_list).where(calling_list.c.business_unit_id == business_unit_id)
    if not archived:
        query = query.where(calling_list.c.archived_at.is_(None))
    return paging.fetch(conn, query, calling_list.c.id, after_id, limit, _list)


def page_records(conn: Connection, list_id: int, after_id: int,
                 limit: int) -> paging.Page[StoredRecord]:
    """A list's records after an id, in id order."""
    query = select(calling_record).where(_in_list(list_id))
    start = first_id(conn, list_id)  # see _in_list: start the walk at the list's first record
    after = after_id if start is None else max(after_id, start - 1)
    return paging.fetch(conn, query, calling_record.c.id, after, limit, lambda r: StoredRecord(
        r.id, r.external_id, r.phone, r.sms_destination, r.sms_problem, r.expiration_date,
        r.time_zone, r.postal_code, decode_fields(r.fields)))


def count_by_list(conn: Connection, list_ids: Sequence[int]) -> dict[int, int]:
    """How many records each of these lists holds (lists with none are left out)."""
    if not list_ids:
        return {}
    rows = conn.execute(select(calling_record.c.calling_list_id, func.count())
                        .where(calling_record.c.calling_list_id.in_(list(list_ids)))
                        .group_by(calling_record.c.calling_list_id))
    return {list_id: count for list_id, count in rows}


def search_records(conn: Connection, list_id: int, after_id: int, limit: int, *,
                   external_id: str, phone: str | None = None,
                   name: str | None = None) -> paging.Page[StoredRecord]:
    """A list's records after an id, in id order, that have this ExternalId, or this number
    (E.164) as PhoneNumber or SMS destination, or `name` in their first, last or full name
    (blind to ASCII case)."""
    wanted = [calling_record.c.external_id == external_id]
    if phone:
        wanted += [calling_record.c.phone == phone, calling_record.c.sms_destination == phone]
    if name:
        first = func.coalesce(calling_record.c.fields["FirstName"].as_string(), "")
        last = func.coalesce(calling_record.c.fields["LastName"].as_string(), "")
        full = func.lower(first + " " + last)
        wanted.append(full.contains(name.lower(), autoescape=True))
    query = select(calling_record).where(_in_list(list_id), or_(*wanted))
    start = first_id(conn, list_id)  # see _in_list
    after = after_id if start is None else max(after_id, start - 1)
    return paging.fetch(conn, query, calling_record.c.id, after, limit, lambda r: StoredRecord(
        r.id, r.external_id, r.phone, r.sms_destination, r.sms_problem, r.expiration_date,
        r.time_zone, r.postal_code, decode_fields(r.fields)))


def find_person_records(conn: Connection, list_id: int, after_id: int, limit: int, *,
                        external_id: str | None = None,
                        number: str | None = None) -> paging.Page[StoredRecord]:
    """A list's records with this ExternalId and/or this number (E.164, as PhoneNumber or
    where texts go); both given: records matching either."""
    wanted = []
    if external_id is not None:
        wanted.append(calling_record.c.external_id == external_id)
    if number is not None:
        wanted += [calling_record.c.phone == number, calling_record.c.sms_destination == number]
    if not wanted:
        raise ValueError("give an ExternalId or a number")
    query = select(calling_record).where(_in_list(list_id), or_(*wanted))
    start = first_id(conn, list_id)  # see _in_list
    after = after_id if start is None else max(after_id, start - 1)
    return paging.fetch(conn, query, calling_record.c.id, after, limit, lambda r: StoredRecord(
        r.id, r.external_id, r.phone, r.sms_destination, r.sms_problem, r.expiration_date,
        r.time_zone, r.postal_code, decode_fields(r.fields)))


def delete_list(conn: Connection, list_id: int) -> int:
    """Delete a list no skill refers to, with its records; returns how many records went.
    (Records no skill texted are referenced by nothing but inbound texts and conversations
    that matched them by number: those keep their text and lose the link.)"""
    records = select(calling_record.c.id).where(calling_record.c.calling_list_id == list_id)
    for table in (inbound_message, conversation):
        conn.execute(update(table).where(table.c.record_id.in_(records)).values(record_id=None))
    gone = conn.execute(delete(calling_record)
                        .where(calling_record.c.calling_list_id == list_id)).rowcount
    conn.execute(delete(calling_list).where(calling_list.c.id == list_id))
    return gone
