"""Files people upload to the console: streamed to a folder of their own, refused over a size
limit, found again by an unguessable token within the unit that uploaded them, swept after a day.

A calling list goes through two requests (upload, then mapping and import), so the file waits in
its folder between them; the import's report and rejected rows are kept there too, for the
report page and its download.

Settings (environment of `psms serve`):
- PSMS_CONSOLE_UPLOAD_MAX_MB: the largest file taken (default 256, as contact centers know it;
  decimals allowed).
- PSMS_CONSOLE_UPLOAD_DIR: where the folders are (default: the system's temp folder).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from fastapi import Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from proactive_sms.store.errors import NotFound

DEFAULT_MAX_MB = 256.0
KEPT_FOR_S = 24 * 3600
_CHUNK = 1024 * 1024
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


def _root() -> Path:
    base = os.environ.get("PSMS_CONSOLE_UPLOAD_DIR") or tempfile.gettempdir()
    root = Path(base) / "psms-console-uploads"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def refuse_by_length(request: Request) -> None:
    """Refuse before reading the body when its declared length is already over the limit."""
    declared = request.headers.get("content-length", "")
    limit = limit_bytes()
    if declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
        raise UploadTooLarge(limit)


def new_folder(bu_id: int) -> tuple[str, Path]:
    """A fresh folder for one upload of the unit, and its token."""
    sweep()
    token = secrets.token_urlsafe(18)
    folder = _root() / f"{bu_id}-{token}"
    folder.mkdir(mode=0o700)
    return token, folder


def folder_of(bu_id: int, token: str) -> Path:
    """The unit's upload folder of that token (NotFound for another unit's or an old one)."""
    if not _TOKEN.fullmatch(token):
        raise NotFound("upload", token)
    folder = _root() / f"{bu_id}-{token}"
    if not folder.is_dir():
        raise NotFound("upload", token)
    return folder


async def save(upload: UploadFile, target: Path) -> int:
    """Copy the uploaded file to `target` a chunk at a time; UploadTooLarge (and nothing
    kept) once it passes the limit. Returns its size."""
    limit = limit_bytes()
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit)
                await run_in_threadpool(out.write, chunk)
    except UploadTooLarge:
        target.unlink(missing_ok=True)
        raise
    return size


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def sweep(max_age_s: float = KEPT_FOR_S) -> None:
    """Remove upload folders older than `max_age_s` (abandoned mappings, old reports)."""
    cutoff = time.time() - max_age_s
    for folder in _root().iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
