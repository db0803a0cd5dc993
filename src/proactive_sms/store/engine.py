"""Opening the database: which one, how it is tuned, and bringing its schema up to date."""

from __future__ import annotations

import ast
import contextlib
import functools
import os
import re
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError

from proactive_sms.store import write_turns

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_URL = "sqlite:///psms.db"  # a file in the working directory
_MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(url: str | None = None) -> str:
    """The URL to use: the one given, else PSMS_DATABASE_URL, else SQLite in the working dir."""
    chosen = url or os.environ.get("PSMS_DATABASE_URL") or DEFAULT_URL
    # psycopg 3 is our PostgreSQL driver; accept the plain spellings users copy from elsewhere.
    for prefix in ("postgresql://", "postgres://"):
        if chosen.startswith(prefix):
            return "postgresql+psycopg://" + chosen[len(prefix):]
    return chosen


def make_engine(url: str | None = None, pool_size: int | None = None) -> Engine:
    """The engine for `url` (see database_url). `pool_size`: connections kept open for that many
    threads at once (a server's request threads), instead of SQLAlchemy's five, so that a busy
    server neither waits for a connection nor opens and closes one per request."""
    url = database_url(url)
    if url.startswith("sqlite"):
        in_memory = make_url(url).database in (None, "", ":memory:")
        sized = {"pool_size": pool_size, "max_overflow": pool_size} if pool_size and not \
            in_memory else {}
        engine = create_engine(url, connect_args={"timeout": 30}, **sized)
        if not in_memory:
            private_file(Path(engine.url.database))
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        engine.begin = functools.partial(_begin_writing, engine)  # type: ignore[method-assign]
        return engine
    # psycopg prepares a statement run five times on a connection (the dispatcher's hot ones
    # are written to be the same text every time for this). A prepared statement may get a
    # generic plan, made without the values: for the receipts' look-up of parts by carrier id
    # it chose one that took 30 ms a batch instead of 6. Planned for the values each time, a
    # statement still saves its parsing, and no plan is a guess.
    return create_engine(url, pool_size=max(10, pool_size or 0), max_overflow=20,
                         pool_pre_ping=True,
                         connect_args={"options": "-c plan_cache_mode=force_custom_plan"})


def end_idle_transactions_after(engine: Engine, seconds: float) -> None:
    """PostgreSQL: the server ends a session of `engine` that has sat inside a transaction for
    `seconds` without a statement, which releases its row locks. A process frozen mid-transaction
    (SIGSTOP, a paused VM) otherwise keeps them until it resumes, and every worker that needs
    those rows (a lapsed code's lease, its texts left submitting) waits with it. The frozen
    process finds its connection gone when it resumes: its transaction never happened.

    For connections made from now on: the pooled ones are let go (SQLite: nothing to do)."""
    if engine.dialect.name != "postgresql":
        return
    before = _IDLE_TIMEOUT_MS.get(engine)
    _IDLE_TIMEOUT_MS[engine] = max(1, int(seconds * 1000))
    if before == _IDLE_TIMEOUT_MS[engine]:
        return  # (a later run of a dispatcher on the same engine) its connections have it
    if before is None:
        event.listen(engine, "connect", functools.partial(_set_idle_timeout, engine))
    engine.dispose()  # the idle pooled ones close; those in use are not pooled again


_IDLE_TIMEOUT_MS: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def _set_idle_timeout(engine: Engine, dbapi_connection, _record) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET idle_in_transaction_session_timeout = {_IDLE_TIMEOUT_MS[engine]}")
    dbapi_connection.commit()


def private_file(path: Path) -> None:
    """Make the SQLite file readable by its owner only (0600), before SQLite opens it: it holds
    numbers, texts and sealed secrets. SQLite gives its -wal and -shm files the same mode. A file
    that exists with wider rights is narrowed (when it is ours to change)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            with contextlib.suppress(PermissionError):
                os.chmod(path, mode & 0o700)
    except FileNotFoundError:
        return  # no such folder: SQLite will say so itself
    else:
        os.close(fd)


# Every write of the project runs in `engine.begin()` (none commits a `connect()` block).
_WRITER = "psms_writer"


@contextlib.contextmanager
def _begin_writing(engine: Engine) -> Iterator[Connection]:
    """`engine.begin()` on SQLite: the same, its transaction marked as a writer's, and the
    writer known to be waiting while BEGIN IMMEDIATE waits for the lock (store.write_turns:
    a launch lets it in between two batches)."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITER: True})
        with write_turns.waiting(turns_file(engine)):
            transaction = conn.begin()
        with transaction:
            yield conn


def turns_file(engine: Engine) -> Path | None:
    """The file of store.write_turns for this engine's database (None: not a SQLite file)."""
    if engine.dialect.name != "sqlite":
        return None
    return write_turns.turns_file(engine.url.database)


def yield_to_writers(engine: Engine, max_wait_s: float = 0.5) -> float:
    """For a bulk writer between two transactions: let writers waiting for SQLite's write lock
    have it first (store.write_turns); nothing on PostgreSQL, whose writers do not queue on
    one lock. Returns the seconds waited."""
    return write_turns.yield_to_waiting(turns_file(engine), max_wait_s)


def _begin_sqlite(conn: Connection) -> None:
    # pysqlite's own transaction handling defers BEGIN; we issue it ourselves. A writer's
    # transaction (engine.begin()) takes the write lock at once, so that a read-then-write
    # transaction cannot interleave with another writer. A reader's (engine.connect()) does not:
    # in WAL mode it reads its snapshot while a writer writes. When reads took the write lock
    # too, fifty API clients' reads queued behind each other and behind the dispatcher's
    # writes, in SQLite's busy handler (sleeps of 1 to 100 ms): p99 of seconds, and the
    # dispatcher below its pace (bench/api_load.py).
    writer = conn.get_execution_options().get(_WRITER, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _tune_sqlite(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # alembic is imported only when migrations run

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied (the same as `psms db upgrade`)."""
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_current(engine: Engine) -> bool:
    """Whether the database's schema is at the migrations' head.

    Read with one query against the heads found in the scripts' text: asking alembic (its
    ScriptDirectory imports every migration) cost every CLI command about 0.1 s, for a
    question asked at each start. tests/store/test_store.py checks both answers agree.
    """
    try:
        with engine.connect() as connection:
            current = {row[0] for row in connection.execute(
                text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:  # no alembic_version table: a new database
        return False
    return current == migration_heads()


_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revisions no other migration builds on, from the scripts' `revision` and
    `down_revision` lines (a string, None, or a tuple of strings for a merge)."""
    revisions: set[str] = set()
    built_on: set[str] = set()
    for script in (_MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            parsed = ast.literal_eval(value.strip())
            names = parsed if isinstance(parsed, tuple) else (parsed,)
            (built_on if down else revisions).update(n for n in names if n)
    return frozenset(revisions - built_on)


def open_engine(url: str | None = None, pool_size: int | None = None) -> Engine:
    """An engine whose schema is current: migrations are applied on first use."""
    engine = make_engine(url, pool_size)
    if not is_current(engine):
        upgrade(engine)
    return engine


@functools.cache
def migration_revisions() -> frozenset[str]:
    """Every revision this code's migrations know, head or not."""
    revisions: set[str] = set()
    for script in (_MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            if not down:
                revisions.add(ast.literal_eval(value.strip()))
    return frozenset(revisions)


def schema_state(engine: Engine) -> str:
    """Where the database's schema stands against this code, for readiness checks:
    `current` (at the head), `behind` (migrations of this code not applied yet: `psms db
    upgrade`), `newer` (a later version has migrated it: revisions this code does not know; in
    a rolling upgrade the old processes go on, as migrations only add) or `empty` (never
    migrated). A database that does not answer raises, as any query would."""
    try:
        with engine.connect() as connection:
            current = {row[0] for row in connection.execute(
                text("SELECT version_num FROM alembic_version"))}
    except DBAPIError as exc:
        if _no_such_table(exc):
            return "empty"
        raise
    if not current:
        return "empty"
    if current == migration_heads():
        return "current"
    return "newer" if current - migration_revisions() else "behind"


def _no_such_table(exc: DBAPIError) -> bool:
    # Only the missing table: "database x does not exist" is a database that does not answer.
    text_of = str(exc.orig).lower()
    return "alembic_version" in text_of and ("no such table" in text_of
                                             or "does not exist" in text_of)
