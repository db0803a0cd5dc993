"""The conditional UPDATE behind every user edit of a versioned row (calling list, skill,
campaign): the row changes and its `version` rises by one only when it is still at the version
the editor read, so of two edits made from the same read exactly one applies.

Only edits people make go through here. Launch and the dispatcher update `skill` (status,
cursor) without touching `version`: a person's stale read of a draft's settings must not be
refused because a worker moved a counter, and the hot paths stay one plain UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from proactive_sms.store.errors import NotFound, StaleVersion


def current(conn: Connection, table: Table, row_id: int) -> int | None:
    """The row's version now (None when it is gone)."""
    return conn.scalar(select(table.c.version).where(table.c.id == row_id))


def change(conn: Connection, table: Table, row_id: int, expected: int | None, kind: str,
           key: object, **values: Any) -> int:
    """Write `values` and raise the version; returns the new version.

    `expected` None applies to whatever is current (no If-Match); otherwise StaleVersion when
    another edit got there first, NotFound when the row was removed meanwhile."""
    condition = [table.c.id == row_id]
    if expected is not None:
        condition.append(table.c.version == expected)
    result = conn.execute(update(table).where(*condition)
                          .values(version=table.c.version + 1, **values)
                          .returning(table.c.version))
    row = result.first()
    if row is None:
        _refuse(conn, table, row_id, expected, kind, key)
    return row.version


def remove(conn: Connection, table: Table, row_id: int, expected: int | None, kind: str,
           key: object) -> None:
    """Delete the row, if still at `expected` (when given)."""
    condition = [table.c.id == row_id]
    if expected is not None:
        condition.append(table.c.version == expected)
    if conn.execute(delete(table).where(*condition)).rowcount != 1:
        _refuse(conn, table, row_id, expected, kind, key)


def _refuse(conn: Connection, table: Table, row_id: int, expected: int | None, kind: str,
            key: object) -> None:
    now = current(conn, table, row_id)
    if now is None:
        raise NotFound(kind, key)
    raise StaleVersion(kind, key, expected if expected is not None else now, now)


def archive(conn: Connection, table: Table, row_id: int, expected: int | None, now: datetime,
            *, kind: str, key: object, **values: Any) -> int:
    """Mark the row archived (hidden from lists and look-ups, kept for the history that
    refers to it), with `values` written too; with `expected`, only at that version."""
    return change(conn, table, row_id, expected, kind, key, archived_at=now, **values)


def referenced(conn: Connection, table: Table, row_id: int,
               ignore: tuple[Table, ...] = ()) -> list[str]:
    """The tables (other than `ignore`) that hold a row referring to this row by a foreign key:
    empty when the row can be deleted without breaking anything that refers to it."""
    found = []
    for other in table.metadata.sorted_tables:
        if other in ignore:
            continue
        for fk in other.foreign_keys:
            if fk.column.table is table and fk.column.name == "id":
                hit = conn.scalar(select(fk.parent).where(fk.parent == row_id).limit(1))
                if hit is not None:
                    found.append(other.name)
                    break
    return found
