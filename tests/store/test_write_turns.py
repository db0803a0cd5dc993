"""store.write_turns: a bulk writer lets writers that wait for SQLite's write lock in first."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from proactive_sms.store import write_turns
from proactive_sms.store.engine import make_engine, turns_file, yield_to_writers


def test_nobody_waiting_costs_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert turns_file(engine) == tmp_path / "x.db-writers"
    assert yield_to_writers(engine) < 0.05


def test_a_writer_waiting_for_the_lock_begins_before_the_bulk_writer_goes_on(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    order: list[str] = []
    bulk = engine.begin()
    conn = bulk.__enter__()  # the bulk writer holds the write lock
    conn.execute(text("INSERT INTO t VALUES ('bulk 1')"))

    def other() -> None:
        with engine.begin() as mine:  # waits for the lock, known to be waiting
            order.append("other")
            mine.execute(text("INSERT INTO t VALUES ('other')"))

    waiter = threading.Thread(target=other)
    waiter.start()
    time.sleep(0.4)  # the waiter is in SQLite's busy handler, polling every 100 ms by now
    bulk.__exit__(None, None, None)  # commit
    waited = yield_to_writers(engine, max_wait_s=5.0)
    order.append("bulk 2")
    waiter.join(10)
    assert order == ["other", "bulk 2"]
    assert 0 < waited < 5.0


def test_waiting_is_bounded(tmp_path):
    path = tmp_path / "x.db-writers"
    with write_turns.waiting(path):  # a writer that waits and never begins
        started = time.monotonic()
        waited = write_turns.yield_to_waiting(path, max_wait_s=0.1)
        assert 0.1 <= waited < 1.0
        assert time.monotonic() - started < 1.0


def test_in_memory_and_postgres_have_no_turns():
    assert write_turns.turns_file(":memory:") is None
    assert write_turns.turns_file(None) is None
