"""Keyset pagination: the rows after an id, in id order, one more than asked to tell whether
another page follows. Never OFFSET: a page costs the same deep into a million rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Column, Connection, Select

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    last_id: int | None  # the id of the last item: where the next page starts
    more: bool  # whether rows follow the last item


def fetch(conn: Connection, query: Select, id_column: Column, after_id: int, limit: int,
          convert: Callable[[object], T]) -> Page[T]:
    """The first `limit` rows of `query` with an id above `after_id`, in id order."""
    rows = conn.execute(query.where(id_column > after_id).order_by(id_column)
                        .limit(limit + 1)).all()
    kept = rows[:limit]
    return Page([convert(r) for r in kept], kept[-1].id if kept else None, len(rows) > limit)
