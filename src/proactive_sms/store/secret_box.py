"""Secrets at rest: carrier passwords and webhook signing secrets are stored encrypted, with a key
kept outside the database, so a copy of the database (a backup, a stolen file) holds no secret.

The store seals these columns on the way in and opens them on the way out (store.registrations,
store.webhooks); nothing above the store sees a sealed value. A sealed value is `enc:v1:` and a
Fernet token (AES-128-CBC with HMAC-SHA256, from the `cryptography` package): authenticated, so
a wrong key is an error, never garbage.

Where the key comes from, first found wins:
1. `PSMS_SECRET_KEY`: one or more Fernet keys, comma-separated. The first seals; every one opens
   (how a key is rotated: put the new one first, run `psms secrets rotate`, remove the old).
2. `PSMS_SECRET_KEY_FILE`: a file with one key a line, the same way round.
3. Beside a SQLite database, `<database>.key`, created 0600 with a new key on first use.
4. Otherwise (PostgreSQL without a setting) `psms.key` in the working directory, created the same
   way; several machines sharing one database must share the key, so set one of the first two.

A value without the prefix is a plain one from before encryption (migration 0014 seals those);
it is read as it is, so a database is never unreadable halfway through that migration.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, select, update
from sqlalchemy.engine import URL, make_url

from proactive_sms.store.schema import carrier_connection, webhook_endpoint

PREFIX = "enc:v1:"
KEY_ENV = "PSMS_SECRET_KEY"
KEY_FILE_ENV = "PSMS_SECRET_KEY_FILE"
FALLBACK_KEY_FILE = "psms.key"


class SecretKeyError(RuntimeError):
    """No usable key, or a sealed value that none of the keys opens: says which and what to do."""


@dataclass(frozen=True)
class KeySource:
    keys: tuple[str, ...]  # the first seals, every one opens
    where: str  # for messages: "PSMS_SECRET_KEY" or the file's path
    path: Path | None  # the key file, when keys come from one


class SecretBox:
    """Seals and opens secret values with the keys of one source."""

    def __init__(self, source: KeySource) -> None:
        self.source = source
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in source.keys])
        except (ValueError, TypeError) as exc:
            raise SecretKeyError(f"{source.where}: not a valid key ({exc}); make one with "
                                 "`psms secrets generate-key`") from exc

    def seal(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # plain, from before encryption
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                f"a stored secret does not open with the key(s) of {self.source.where}: the key "
                f"is not the one it was sealed with (set {KEY_ENV} to that key, or add it after "
                "the new one while rotating)") from exc

    def reseal(self, stored: str) -> str:
        """`stored` sealed with the first key (a plain value is sealed)."""
        return self.seal(self.open(stored))


def generate_key() -> str:
    return Fernet.generate_key().decode()


def key_file_for(url: str | URL) -> Path:
    """Where the key file is for this database when no setting names one."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(f"{parsed.database}.key")
    return Path(FALLBACK_KEY_FILE)


def key_source(url: str | URL, create: bool = True) -> KeySource:
    """The keys to use for the database at `url` (the module's page says from where); the key
    file is created if absent (and `create`)."""
    if os.environ.get(KEY_ENV, "").strip():
        keys = tuple(k.strip() for k in os.environ[KEY_ENV].split(",") if k.strip())
        return KeySource(keys, KEY_ENV, None)
    named = os.environ.get(KEY_FILE_ENV, "").strip()
    path = Path(named) if named else key_file_for(url)
    if not path.exists():
        if not create:
            raise SecretKeyError(f"no key file at {path}")
        write_key_file(path, [generate_key()], exclusive=True)
    keys = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    if not keys:
        raise SecretKeyError(f"{path} holds no key")
    return KeySource(keys, str(path), path)


def write_key_file(path: Path, keys: list[str], exclusive: bool = False) -> None:
    """Write `keys` (one a line) to `path`, readable by its owner only, replaced atomically. With
    `exclusive`, a file another process created meanwhile is kept (both then use it)."""
    text = "".join(f"{key}\n" for key in keys).encode()
    if exclusive:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        return
    temporary = path.with_name(path.name + ".new")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


_boxes: dict[tuple, tuple[SecretBox, int | None]] = {}
_lock = threading.Lock()


def _stamp(path: Path | None) -> int | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except FileNotFoundError:
        return -1


def box_for(url: str | URL) -> SecretBox:
    """The SecretBox of the database at `url`, made once per key setting and read again when
    its key file changes (another process rotated the key: this one follows at once)."""
    rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    setting = (rendered, os.environ.get(KEY_ENV), os.environ.get(KEY_FILE_ENV))
    with _lock:
        found = _boxes.get(setting)
        if found is not None and _stamp(found[0].source.path) == found[1]:
            return found[0]
        box = SecretBox(key_source(rendered))
        _boxes[setting] = (box, _stamp(box.source.path))
        return box


def reseal_all(conn: Connection, box: SecretBox) -> dict[str, int]:
    """Seal every stored secret again with `box`'s first key (in the caller's transaction);
    how many of each kind."""
    counts = {}
    for kind, table, column in (("carrier passwords", carrier_connection, "password"),
                                ("webhook secrets", webhook_endpoint, "secret")):
        rows = conn.execute(select(table.c.id, table.c[column])).all()
        for row_id, stored in rows:
            conn.execute(update(table).where(table.c.id == row_id)
                         .values({column: box.reseal(stored)}))
        counts[kind] = len(rows)
    return counts


def forget_boxes() -> None:
    """After the keys changed (a rotation): the next use reads them again."""
    with _lock:
        _boxes.clear()
