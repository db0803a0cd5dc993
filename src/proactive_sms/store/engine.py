"""Opening the database: which one, how it is tuned, and bringing its schema up to date."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect

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


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        if engine.url.database not in (None, "", ":memory:"):
            private_file(Path(engine.url.database))
        event.listen(engine, "connect", _tune_sqlite)
        # pysqlite's own transaction handling defers BEGIN; we want BEGIN at the start so that a
        # read-then-write transaction cannot interleave with another writer.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


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


def _tune_sqlite(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied (the same as `psms db upgrade`)."""
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_current(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(script.get_heads())


def open_engine(url: str | None = None) -> Engine:
    """An engine whose schema is current: migrations are applied on first use."""
    engine = make_engine(url)
    if not is_current(engine):
        upgrade(engine)
    return engine
