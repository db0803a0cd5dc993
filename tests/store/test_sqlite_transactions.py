"""SQLite transactions as store.engine opens them: a writer's (engine.begin()) takes the write
lock at once, a reader's (engine.connect()) does not, so reads never queue behind writes."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from proactive_sms.store.engine import make_engine


def test_a_read_is_answered_while_a_writer_holds_the_write_lock(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with engine.begin() as writer:
        writer.execute(text("INSERT INTO t VALUES (2)"))
        started = time.monotonic()
        with engine.connect() as reader:  # before: BEGIN IMMEDIATE, waiting up to 30 s here
            seen = reader.execute(text("SELECT count(*) FROM t")).scalar_one()
        waited_s = time.monotonic() - started
    assert seen == 1  # the committed state; the writer's row is not visible yet
    assert waited_s < 5  # not the 30 s busy timeout (generous: a shared, noisy machine)
    with engine.connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()


def test_writers_still_take_turns_so_a_read_then_write_loses_no_update(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", pool_size=4)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))

    def add_one_many_times() -> None:
        for _ in range(50):
            with engine.begin() as conn:
                n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    threads = [threading.Thread(target=add_one_many_times) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 200
    engine.dispose()
