"""The conditional UPDATE behind every user edit of a versioned row (calling list, skill,
campaign): the row changes and its `version` rises by one only when it is still at the version
the editor read, so of two edits made from the same read exactly one applies.

Only edits people make go through here. Launch and the dispatcher update `skill` (status,
cursor) without touching `version`: a person's stale read of a draft's settings must not be
refused because a worker moved a counter, and the hot paths stay one plain UPDATE.
"""

from __future__ import annotations

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
