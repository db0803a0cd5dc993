"""Shared fixtures: a real database (SQLite, and PostgreSQL where PSMS_TEST_POSTGRES_URL is set),
a manual clock, and a business unit ready to use."""

from __future__ import annotations

import os
import uuid

# The CLI's Rich tables take their width from the terminal; tests read their cells, so give them
# one wide terminal whatever runs them (a tty, a pipe, an xdist worker).
os.environ["COLUMNS"] = "200"
# The tests' webhook receivers listen on loopback, where webhooks may not go by default: allow it
# the way a private deployment would (the tests of that rule remove this setting).
os.environ["PSMS_WEBHOOK_ALLOW_INTERNAL"] = "127.0.0.1"
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text

from proactive_sms.domain.clock import ManualClock
from proactive_sms.services import administration
from proactive_sms.store.engine import database_url, make_engine, open_engine
from proactive_sms.store.tenancy import BusinessUnit

POSTGRES_URL = os.environ.get("PSMS_TEST_POSTGRES_URL")
if POSTGRES_URL and not os.environ.get("PSMS_SECRET_KEY_FILE"):
    # SQLite keeps its key beside the database; a PostgreSQL one would make psms.key here.
    import tempfile

    os.environ["PSMS_SECRET_KEY_FILE"] = os.path.join(tempfile.mkdtemp(prefix="psms-key-"),
                                                      "psms.key")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 4, 16, 0, tzinfo=UTC))


def _postgres_database() -> Iterator[str]:
    """A database of our own on the shared server, dropped afterwards."""
    admin = create_engine(database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"psms_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = database_url(POSTGRES_URL).rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_test_engine(backend: str, tmp_path, *, migrated: bool = True) -> Iterator[Engine]:
    """An engine on a database of its own: with the newest schema, or (migrated=False) with
    none yet, for a test that migrates an older one."""
    opened = open_engine if migrated else make_engine
    if backend == "sqlite":
        engine = opened(f"sqlite:///{tmp_path / 'psms.db'}")
        yield engine
        engine.dispose()
        return
    for url in _postgres_database():
        engine = opened(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path) -> Iterator[Engine]:
    """The real store on every backend the run has (SQLite always, PostgreSQL in CI)."""
    yield from make_test_engine(request.param, tmp_path)


@pytest.fixture(params=BACKENDS)
def bare_engine(request, tmp_path) -> Iterator[Engine]:
    """A database with no schema yet, on every backend of the run (a migration test brings it
    to an older revision, writes rows as they were then, and upgrades)."""
    yield from make_test_engine(request.param, tmp_path, migrated=False)


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    yield from make_test_engine("sqlite", tmp_path)


@pytest.fixture
def bu(engine, clock) -> BusinessUnit:
    return administration.init(engine, clock, "acme", "sales", "US")
