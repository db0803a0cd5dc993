"""Files people upload to the console, kept in the database so that any API server serves any
step of an upload (migration 0036): a calling list is uploaded in one request and mapped and
imported in another, perhaps on another server; its report and rejected rows are read later.

An upload is found by its unguessable token within its business unit. Its bytes are rows of at
most CHUNK_BYTES (a BLOB on SQLite, bytea on PostgreSQL), written a chunk per short transaction
so that a large file never holds the database's write lock for long, and read a chunk at a time.
What a caller may rely on:
- An upload is `receiving` until `finish`: `find` does not see it, so nothing half-written is
  ever served; a failed upload is `remove`d, and the sweep removes what a crash left.
- One request at a time imports an upload: `claim` takes it from `ready` to `importing` with
  one conditional UPDATE (a second click, on any server, finds it taken); `release` gives it
  back when the import fails.
- Every chunk of a part but its last is exactly CHUNK_BYTES long, so byte N is in chunk
  N // CHUNK_BYTES (readers seek by that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from proactive_sms.store.schema import console_upload, console_upload_chunk

CHUNK_BYTES = 1024 * 1024
FILE, REJECTED = "file", "rejected"  # an upload's parts
RECEIVING, READY, IMPORTING, IMPORTED = "receiving", "ready", "importing", "imported"


@dataclass(frozen=True)
class StoredUpload:
    id: int
    business_unit_id: int
    token: str
    state: str
    file_bytes: int
    details: dict[str, Any]  # what the upload said of itself (list name, file name, format)
    report: dict[str, Any] | None  # the import's report, once imported
    created_at: datetime


def begin(conn: Connection, bu_id: int, token: str, details: dict[str, Any],
          now: datetime) -> int:
    """A new upload of the unit, `receiving` (unseen until `finish`); its id."""
    return conn.execute(console_upload.insert().values(
        business_unit_id=bu_id, token=token, state=RECEIVING, file_bytes=0, details=details,
        report=None, created_at=now)).inserted_primary_key[0]


def add_chunk(conn: Connection, upload_id: int, part: str, seq: int, data: bytes) -> None:
    conn.execute(console_upload_chunk.insert().values(upload_id=upload_id, part=part, seq=seq,
                                                      data=data))


def finish(conn: Connection, upload_id: int, file_bytes: int, details: dict[str, Any]) -> None:
    """The file is whole: the upload becomes `ready` (found by its token)."""
    conn.execute(update(console_upload).where(console_upload.c.id == upload_id)
                 .values(state=READY, file_bytes=file_bytes, details=details))


def find(conn: Connection, bu_id: int, token: str) -> StoredUpload | None:
    """The unit's upload of that token, once finished (None for another unit's, a receiving
    one or one swept)."""
    row = conn.execute(select(console_upload).where(
        console_upload.c.token == token, console_upload.c.business_unit_id == bu_id,
        console_upload.c.state != RECEIVING)).first()
    if row is None:
        return None
    return StoredUpload(row.id, row.business_unit_id, row.token, row.state, row.file_bytes,
                        row.details, row.report, _aware(row.created_at))


def chunk(conn: Connection, upload_id: int, part: str, seq: int) -> bytes | None:
    """One chunk of a part (None past its end)."""
    data = conn.execute(select(console_upload_chunk.c.data).where(
        console_upload_chunk.c.upload_id == upload_id, console_upload_chunk.c.part == part,
        console_upload_chunk.c.seq == seq)).scalar()
    return None if data is None else bytes(data)


def chunk_count(conn: Connection, upload_id: int, part: str) -> int:
    return conn.execute(select(func.count()).select_from(console_upload_chunk).where(
        console_upload_chunk.c.upload_id == upload_id,
        console_upload_chunk.c.part == part)).scalar_one()


def remove_part(conn: Connection, upload_id: int, part: str) -> None:
    conn.execute(delete(console_upload_chunk).where(console_upload_chunk.c.upload_id == upload_id,
                                                    console_upload_chunk.c.part == part))


def claim(conn: Connection, upload_id: int) -> bool:
    """Take a `ready` upload for its import; False when another request has it (or had it)."""
    return conn.execute(update(console_upload).where(
        console_upload.c.id == upload_id, console_upload.c.state == READY)
        .values(state=IMPORTING)).rowcount == 1


def release(conn: Connection, upload_id: int) -> None:
    """The import failed: the upload waits for its mapping again."""
    conn.execute(update(console_upload).where(
        console_upload.c.id == upload_id, console_upload.c.state == IMPORTING)
        .values(state=READY))


def mark_imported(conn: Connection, upload_id: int, report: dict[str, Any]) -> None:
    """The import is done: its report is kept (with the rejected rows already written) and the
    file's chunks go."""
    remove_part(conn, upload_id, FILE)
    conn.execute(update(console_upload).where(console_upload.c.id == upload_id)
                 .values(state=IMPORTED, report=report))


def remove(conn: Connection, upload_id: int) -> None:
    """The upload and all its bytes."""
    conn.execute(delete(console_upload_chunk).where(console_upload_chunk.c.upload_id == upload_id))
    conn.execute(delete(console_upload).where(console_upload.c.id == upload_id))


def remove_before(conn: Connection, before: datetime) -> int:
    """Sweep the uploads that came before `before` (abandoned mappings, old reports, what a
    crash left receiving); how many went."""
    old = select(console_upload.c.id).where(console_upload.c.created_at < before)
    conn.execute(delete(console_upload_chunk).where(console_upload_chunk.c.upload_id.in_(old)))
    return conn.execute(delete(console_upload).where(console_upload.c.created_at < before)
                        ).rowcount


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
