"""Files people upload to the console: streamed into the database a chunk at a time
(store/console_uploads.py), refused over a size limit, found again by an unguessable token
within the unit that uploaded them, swept after a day.

A calling list goes through two requests (upload, then mapping and import), which a load
balancer may send to different API servers; so the file waits in the database between them,
and the import's report and rejected rows are kept there too, for the report page and its
download. No server keeps anything of an upload between requests: the mapping's previews read
the stored chunks as a file (`open_file`); the import, which wants a path, works on a copy in a
private working folder that is removed when the request ends (`working_folder`, `copy_out`).

Settings (environment of `psms serve`):
- PSMS_CONSOLE_UPLOAD_MAX_MB: the largest file taken (default 256, as contact centers know it;
  decimals allowed).
- PSMS_CONSOLE_UPLOAD_DIR: where a server makes its working folders, which live only as long as
  the request that needs one (default: the system's temp folder, as TMPDIR says). It used to
  hold the uploads themselves between requests; it no longer needs to be shared.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from proactive_sms.store import console_uploads
from proactive_sms.store.console_uploads import CHUNK_BYTES, FILE, REJECTED, StoredUpload
from proactive_sms.store.errors import NotFound

DEFAULT_MAX_MB = 256.0
KEPT_FOR = timedelta(days=1)
_FORM_OVERHEAD = 64 * 1024  # the multipart envelope and the form's other fields
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")


class UploadTooLarge(Exception):
    """The file is over the limit: nothing of it is kept."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the file is larger than the upload limit of "
                         f"{describe(limit_bytes)}")
        self.limit_bytes = limit_bytes


def describe(size_bytes: int) -> str:
    """A size as people read it (2.5 MB, 300 KB)."""
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / (1024 * 1024):.4g} MB"
    if size_bytes >= 1024:
        return f"{size_bytes / 1024:.4g} KB"
    return f"{size_bytes} bytes"


def limit_bytes() -> int:
    """The largest upload taken (PSMS_CONSOLE_UPLOAD_MAX_MB)."""
    raw = os.environ.get("PSMS_CONSOLE_UPLOAD_MAX_MB", "")
    try:
        megabytes = float(raw) if raw.strip() else DEFAULT_MAX_MB
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return max(1, int(megabytes * 1024 * 1024))


def refuse_by_length(request: Request) -> None:
    """Refuse before reading the body when its declared length is already over the limit."""
    declared = request.headers.get("content-length", "")
    limit = limit_bytes()
    if declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
        raise UploadTooLarge(limit)


# --- into the database ---------------------------------------------------------------------------


async def receive(engine: Engine, bu_id: int, upload: UploadFile, details: dict[str, Any],
                  now: datetime) -> tuple[int, str, int]:
    """Stream the uploaded file into a new upload of the unit, a chunk per transaction; its id,
    token and size. UploadTooLarge once it passes the limit. On any failure nothing of it is
    kept. The upload stays unseen until `finish`."""
    await run_in_threadpool(sweep, engine, now)
    token = secrets.token_urlsafe(18)
    upload_id = await run_in_threadpool(_begin, engine, bu_id, token, details, now)
    limit, size, seq, pending = limit_bytes(), 0, 0, bytearray()
    try:
        while block := await upload.read(CHUNK_BYTES):
            size += len(block)
            if size > limit:
                raise UploadTooLarge(limit)
            pending += block
            while len(pending) >= CHUNK_BYTES:  # every chunk but the last is whole
                await run_in_threadpool(_add_chunk, engine, upload_id, FILE, seq,
                                        bytes(pending[:CHUNK_BYTES]))
                del pending[:CHUNK_BYTES]
                seq += 1
        if pending:
            await run_in_threadpool(_add_chunk, engine, upload_id, FILE, seq, bytes(pending))
    except BaseException:  # over the limit, a database error, the client gone: keep nothing
        discard(engine, upload_id)
        raise
    return upload_id, token, size


def _begin(engine: Engine, bu_id: int, token: str, details: dict[str, Any],
           now: datetime) -> int:
    with engine.begin() as conn:
        return console_uploads.begin(conn, bu_id, token, details, now)


def _add_chunk(engine: Engine, upload_id: int, part: str, seq: int, data: bytes) -> None:
    with engine.begin() as conn:
        console_uploads.add_chunk(conn, upload_id, part, seq, data)


def finish(engine: Engine, upload_id: int, size: int, details: dict[str, Any]) -> None:
    """The upload is whole and accepted: found by its token from now on."""
    with engine.begin() as conn:
        console_uploads.finish(conn, upload_id, size, details)


def discard(engine: Engine, upload_id: int) -> None:
    with engine.begin() as conn:
        console_uploads.remove(conn, upload_id)


def claim(engine: Engine, upload_id: int) -> bool:
    """Take the upload for this request's import (False: another request has it)."""
    with engine.begin() as conn:
        return console_uploads.claim(conn, upload_id)


def release(engine: Engine, upload_id: int) -> None:
    with engine.begin() as conn:
        console_uploads.release(conn, upload_id)


def keep_report(engine: Engine, upload_id: int, report: dict[str, Any],
                rejected: Path) -> None:
    """After the import: its rejected rows (the CSV at `rejected`, if any) and its report are
    kept, the file goes. The report shows only once all its rows are written."""
    with engine.begin() as conn:  # what an earlier attempt may have left
        console_uploads.remove_part(conn, upload_id, REJECTED)
    if rejected.exists():
        with rejected.open("rb") as handle:
            seq = 0
            while data := handle.read(CHUNK_BYTES):
                _add_chunk(engine, upload_id, REJECTED, seq, data)
                seq += 1
    with engine.begin() as conn:
        console_uploads.mark_imported(conn, upload_id, report)


def sweep(engine: Engine, now: datetime) -> None:
    """Remove the uploads older than a day (abandoned mappings, old reports)."""
    with engine.begin() as conn:
        console_uploads.remove_before(conn, now - KEPT_FOR)


# --- out of the database -------------------------------------------------------------------------


def find(engine: Engine, bu_id: int, token: str) -> StoredUpload:
    """The unit's upload of that token (NotFound for another unit's, a malformed or an old
    token)."""
    if not _TOKEN.fullmatch(token):
        raise NotFound("upload", token)
    with engine.connect() as conn:
        found = console_uploads.find(conn, bu_id, token)
    if found is None:
        raise NotFound("upload", token)
    return found


class _StoredPart(io.RawIOBase):
    """A part of an upload read as a binary file, a chunk from the database at a time (only
    the chunk being read is held). Seekable, as the format detection rewinds."""

    def __init__(self, engine: Engine, upload_id: int, part: str) -> None:
        super().__init__()
        self._engine, self._upload_id, self._part = engine, upload_id, part
        self._position = 0
        self._seq, self._data = -1, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        seq, offset = divmod(self._position, CHUNK_BYTES)
        if seq != self._seq:
            with self._engine.connect() as conn:
                self._data = console_uploads.chunk(conn, self._upload_id, self._part,
                                                   seq) or b""
            self._seq = seq
        piece = memoryview(self._data)[offset:offset + len(buffer)]
        buffer[:len(piece)] = piece
        self._position += len(piece)
        return len(piece)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._position = offset
        elif whence == io.SEEK_CUR:
            self._position += offset
        else:
            raise io.UnsupportedOperation("a stored upload is not sought from its end")
        return self._position

    def tell(self) -> int:
        return self._position


def open_file(engine: Engine, upload_id: int, part: str = FILE) -> BinaryIO:
    """A part of the upload as a binary file open at its start."""
    return io.BufferedReader(_StoredPart(engine, upload_id, part), 64 * 1024)  # type: ignore[return-value]


def chunks(engine: Engine, upload_id: int, part: str) -> Iterator[bytes]:
    """A part's bytes, a chunk at a time (for a download)."""
    seq = 0
    while True:
        with engine.connect() as conn:
            data = console_uploads.chunk(conn, upload_id, part, seq)
        if data is None:
            return
        yield data
        seq += 1


def copy_out(engine: Engine, upload_id: int, target: Path) -> None:
    """The uploaded file written to `target` (in a working folder), a chunk at a time."""
    with target.open("wb") as out:
        for data in chunks(engine, upload_id, FILE):
            out.write(data)


@contextmanager
def working_folder() -> Iterator[Path]:
    """A private folder for the files one request works on, removed when it ends whatever
    happens (in PSMS_CONSOLE_UPLOAD_DIR, else the system's temp folder)."""
    base = os.environ.get("PSMS_CONSOLE_UPLOAD_DIR") or None
    if base:
        Path(base).mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="psms-upload-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def save(upload: UploadFile, target: Path) -> int:
    """Copy the uploaded file to `target` (in a working folder) a chunk at a time, for a
    request that imports it at once; UploadTooLarge (and nothing kept) once it passes the
    limit. Returns its size."""
    limit = limit_bytes()
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := await upload.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit)
                await run_in_threadpool(out.write, chunk)
    except UploadTooLarge:
        target.unlink(missing_ok=True)
        raise
    return size
