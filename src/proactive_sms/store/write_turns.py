"""Turns at SQLite's one write lock: a bulk writer (a launch) lets waiting writers in between
its transactions.

SQLite has one writer at a time, and a writer that finds the lock taken waits in SQLite's busy
handler, which sleeps and retries (after the first quarter second, every 100 ms). A launch
commits batch after batch with only a few milliseconds between them, so a dispatcher's claim
waiting for the lock almost never finds it free: measured, the first text of a 100,000-record
skill was claimed only when its launch ended (15 s), although its batch was written at 0.45 s.

So every writer says it is waiting (a shared flock on a file beside the database, held only
while its BEGIN IMMEDIATE waits), and a bulk writer, after each commit, asks whether anyone is
(`yield_to_waiting`): if so it waits until they have begun (at most `max_wait_s`), else it goes
on at once. Nobody else waits for anybody: the flock is advisory, beside SQLite's own lock, and
a process without it (the sqlite3 shell, an older version) is only not told about.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

POLL_S = 0.002  # how often a yielding writer looks again whether the waiting ones have begun


def turns_file(database: str | None) -> Path | None:
    """The file beside a SQLite database whose flock says who waits (None: in memory)."""
    if database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    return Path(f"{database}-writers")


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@contextlib.contextmanager
def waiting(path: Path | None) -> Iterator[None]:
    """Held while a writer waits for the write lock (around its BEGIN IMMEDIATE)."""
    if path is None:
        yield
        return
    try:
        fd = _open(path)
    except OSError:  # a read-only folder: no turns, SQLite's own waiting still works
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # shared: many may wait at once; only yielding is EX
        yield
    finally:
        os.close(fd)  # closing releases the flock


def yield_to_waiting(path: Path | None, max_wait_s: float = 0.5) -> float:
    """Between two transactions of a bulk writer: if other writers wait for the write lock,
    wait (at most max_wait_s) until they have it; returns the seconds waited (0.0 exactly:
    nobody was waiting)."""
    if path is None:
        return 0.0
    try:
        fd = _open(path)
    except OSError:
        return 0.0
    try:
        started: float | None = None  # when someone was first found waiting
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return 0.0 if started is None else time.monotonic() - started
            except BlockingIOError:
                if started is None:
                    started = time.monotonic()
                elif time.monotonic() - started >= max_wait_s:
                    return time.monotonic() - started
                time.sleep(POLL_S)
    finally:
        os.close(fd)
