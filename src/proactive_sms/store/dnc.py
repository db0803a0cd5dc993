"""DNC lists and their entries: the tenant default list and named DNC groups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from proactive_sms.store import paging
from proactive_sms.store.dialect import insert
from proactive_sms.store.errors import NotFound
from proactive_sms.store.schema import dnc_entry, dnc_list, dnc_removal


@dataclass(frozen=True)
class DncList:
    id: int
    tenant_id: int
    name: str
    is_default: bool


def find_list(conn: Connection, tenant_id: int, name: str | None = None) -> DncList:
    """A named DNC group, or the tenant default list when no name is given."""
    query = select(dnc_list).where(dnc_list.c.tenant_id == tenant_id)
    query = query.where(dnc_list.c.name == name) if name else query.where(dnc_list.c.is_default)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("DNC list", name or "default")
    return DncList(row.id, row.tenant_id, row.name, row.is_default)


def ensure_group(conn: Connection, tenant_id: int, name: str, now: datetime) -> DncList:
    conn.execute(
        insert(conn, dnc_list)
        .values(tenant_id=tenant_id, name=name, is_default=False, created_at=now)
        .on_conflict_do_nothing()
    )
    return find_list(conn, tenant_id, name)


def list_lists(conn: Connection, tenant_id: int) -> list[DncList]:
    rows = conn.execute(
        select(dnc_list).where(dnc_list.c.tenant_id == tenant_id).order_by(dnc_list.c.id)
    )
    return [DncList(r.id, r.tenant_id, r.name, r.is_default) for r in rows]


def add_numbers(
    conn: Connection, list_id: int, phones: Iterable[str], source: str, note: str, now: datetime
) -> int:
    """Add numbers (E.164); numbers already on the list stay as they were. Returns how many new."""
    rows = [
        {"dnc_list_id": list_id, "phone": p, "source": source, "note": note, "created_at": now}
        for p in dict.fromkeys(phones)
    ]
    if not rows:
        return 0
    result = conn.execute(
        insert(conn, dnc_entry).on_conflict_do_nothing().returning(dnc_entry.c.id), rows
    )
    return len(result.all())


def remove_numbers(
    conn: Connection, list_id: int, phones: Iterable[str], only_source: str | None = None, *,
    removed_by: str, now: datetime,
) -> int:
    """Remove numbers; with only_source, only entries that source made (an opt-in removes only
    what an opt-out added, never an administrator's entry).

    Each entry removed is kept in `dnc_removal` with who took it off (`removed_by`: manual, api,
    opt_in), so a number's history still tells when and by what it was on the list."""
    query = delete(dnc_entry).where(
        dnc_entry.c.dnc_list_id == list_id, dnc_entry.c.phone.in_(list(phones))
    )
    if only_source is not None:
        query = query.where(dnc_entry.c.source == only_source)
    removed = conn.execute(query.returning(dnc_entry.c.phone, dnc_entry.c.source,
                                           dnc_entry.c.note, dnc_entry.c.created_at)).all()
    if removed:
        conn.execute(dnc_removal.insert(), [
            {"dnc_list_id": list_id, "phone": r.phone, "added_source": r.source,
             "added_note": r.note, "added_at": r.created_at, "removed_by": removed_by,
             "removed_at": now} for r in removed])
    return len(removed)


@dataclass(frozen=True)
class DncChange:
    """A number put on or taken off one DNC list, for the number's history."""

    at: datetime
    list_name: str
    added: bool  # False: removed
    source: str  # who or what did it: manual, import, api, opt_out (added); manual, api, opt_in
    note: str


def changes_for(conn: Connection, list_ids: Iterable[int], phone: str) -> list[DncChange]:
    """Every change of the number (E.164) on these lists that is known: the entries it has now
    and the removed ones, each removal with the entry it removed; oldest first."""
    ids = list(list_ids)
    if not ids:
        return []
    names = dict(conn.execute(select(dnc_list.c.id, dnc_list.c.name)
                              .where(dnc_list.c.id.in_(ids))).all())
    found: list[DncChange] = []
    for r in conn.execute(select(dnc_entry).where(dnc_entry.c.dnc_list_id.in_(ids),
                                                  dnc_entry.c.phone == phone)):
        found.append(DncChange(r.created_at, names[r.dnc_list_id], True, r.source, r.note))
    for r in conn.execute(select(dnc_removal).where(dnc_removal.c.dnc_list_id.in_(ids),
                                                    dnc_removal.c.phone == phone)
                          .order_by(dnc_removal.c.id)):
        found.append(DncChange(r.added_at, names[r.dnc_list_id], True, r.added_source,
                               r.added_note))
        found.append(DncChange(r.removed_at, names[r.dnc_list_id], False, r.removed_by, ""))
    return sorted(found, key=lambda c: (c.at.replace(tzinfo=None), not c.added))


def numbers_on_list(conn: Connection, list_id: int, phones: Iterable[str]) -> set[str]:
    """Which of these numbers are on the list (one query for a whole batch)."""
    wanted = list(dict.fromkeys(p for p in phones if p))
    found: set[str] = set()
    for start in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
        chunk = wanted[start : start + 900]
        found.update(
            conn.scalars(
                select(dnc_entry.c.phone).where(
                    dnc_entry.c.dnc_list_id == list_id, dnc_entry.c.phone.in_(chunk)
                )
            )
        )
    return found


def is_on_list(conn: Connection, list_id: int, phone: str) -> bool:
    return bool(numbers_on_list(conn, list_id, [phone]))


@dataclass(frozen=True)
class DncEntry:
    phone: str
    source: str
    note: str
    created_at: datetime


def entries(conn: Connection, list_id: int) -> Iterator[DncEntry]:
    rows = conn.execute(
        select(dnc_entry).where(dnc_entry.c.dnc_list_id == list_id).order_by(dnc_entry.c.id)
    )
    for r in rows:
        yield DncEntry(r.phone, r.source, r.note, r.created_at)


def page_lists(conn: Connection, tenant_id: int, after_id: int,
               limit: int) -> paging.Page[DncList]:
    """The tenant's DNC lists (default list and groups) after an id, in id order."""
    query = select(dnc_list).where(dnc_list.c.tenant_id == tenant_id)
    return paging.fetch(conn, query, dnc_list.c.id, after_id, limit,
                        lambda r: DncList(r.id, r.tenant_id, r.name, r.is_default))


def page_entries(conn: Connection, list_id: int, after_id: int,
                 limit: int) -> paging.Page[DncEntry]:
    """A DNC list's entries after an id, in id order (oldest first)."""
    query = select(dnc_entry).where(dnc_entry.c.dnc_list_id == list_id)
    return paging.fetch(conn, query, dnc_entry.c.id, after_id, limit,
                        lambda r: DncEntry(r.phone, r.source, r.note, r.created_at))


def add_entries(conn: Connection, list_id: int, entries: Iterable[tuple[str, str]], source: str,
                now: datetime) -> int:
    """Add (number, note) pairs; numbers already on the list stay as they were (the first note
    of a number repeated in `entries` is kept). Returns how many are new."""
    notes: dict[str, str] = {}
    for phone, note in entries:
        notes.setdefault(phone, note)
    rows = [{"dnc_list_id": list_id, "phone": p, "source": source, "note": note,
             "created_at": now} for p, note in notes.items()]
    if not rows:
        return 0
    result = conn.execute(
        insert(conn, dnc_entry).on_conflict_do_nothing().returning(dnc_entry.c.id), rows)
    return len(result.all())


def entries_for(conn: Connection, tenant_id: int, phone: str) -> list[tuple[DncList, DncEntry]]:
    """The tenant's lists that hold the number (E.164), each with its entry, in list order."""
    rows = conn.execute(
        select(dnc_list, dnc_entry.c.phone, dnc_entry.c.source, dnc_entry.c.note,
               dnc_entry.c.created_at)
        .join(dnc_entry, dnc_entry.c.dnc_list_id == dnc_list.c.id)
        .where(dnc_list.c.tenant_id == tenant_id, dnc_entry.c.phone == phone)
        .order_by(dnc_list.c.id))
    return [(DncList(r.id, r.tenant_id, r.name, r.is_default),
             DncEntry(r.phone, r.source, r.note, r.created_at)) for r in rows]
