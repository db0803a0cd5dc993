"""Kept counters (store.skill_counters, migration 0011) equal a full count of the message rows
after every kind of change a message goes through: launch with skips, claims, results with
failures and no answers, receipts, waits for a window, stop, a killed dispatcher's recovery, and
resend-uncertain; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Engine, case, func, select, text

from proactive_sms.services import administration, importing, lifecycle, reporting
from proactive_sms.services.dispatch import Dispatcher
from proactive_sms.store import skill_counters
from proactive_sms.store.schema import message, skill_counter, skill_minute, transport_lease
from tests.factories import person, us_number, write_csv
from tests.processes import start_psms
from tests.services.dispatch_world import FAST, DaytimeClock, World, simulator


def _full_count(engine: Engine) -> Counter:
    """(skill, counted state, skip reason) -> (messages, segments), counted over every row."""
    counted = case(((message.c.state == "pending") & message.c.next_attempt_at.is_not(None),
                   "waiting"), else_=message.c.state)
    with engine.connect() as conn:
        rows = conn.execute(
            select(message.c.skill_id, counted, message.c.skip_reason, func.count(),
                   func.sum(message.c.segments))
            .where(message.c.skill_id.is_not(None))
            .group_by(message.c.skill_id, counted, message.c.skip_reason)).all()
    return Counter({(s, state, reason): (int(n), int(seg)) for s, state, reason, n, seg in rows})


def _kept(engine: Engine) -> Counter:
    with engine.connect() as conn:
        skill_ids = list(conn.scalars(select(message.c.skill_id).distinct()
                                      .where(message.c.skill_id.is_not(None))))
        kept = skill_counters.counts(conn, skill_ids)
    return Counter({(s, c.state, c.skip_reason): (c.messages, c.segments)
                    for s, counts in kept.items() for c in counts})


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0, tzinfo=None)


def _full_minutes(engine: Engine) -> Counter:
    """(skill, minute) -> (sent, delivered), from sent_at and the delivered texts' finished_at."""
    found: Counter = Counter()
    with engine.connect() as conn:
        rows = conn.execute(select(message.c.skill_id, message.c.state, message.c.sent_at,
                                   message.c.finished_at)
                            .where(message.c.skill_id.is_not(None))).all()
    for skill_id, state, sent_at, finished_at in rows:
        if sent_at is not None:
            key = (skill_id, _minute(sent_at))
            found[key] = (found[key][0] + 1, found[key][1]) if key in found else (1, 0)
        if state == "delivered" and finished_at is not None:
            key = (skill_id, _minute(finished_at))
            found[key] = (found[key][0], found[key][1] + 1) if key in found else (0, 1)
    return found


def _kept_minutes(engine: Engine) -> Counter:
    with engine.connect() as conn:
        skill_ids = list(conn.scalars(select(message.c.skill_id).distinct()
                                      .where(message.c.skill_id.is_not(None))))
        kept = skill_counters.minutes_by_skill(conn, skill_ids, datetime(2000, 1, 1, tzinfo=UTC))
    return Counter({(s, _minute(m.minute)): (m.sent, m.delivered)
                    for s, ms in kept.items() for m in ms})


def _dispatcher(url: str) -> subprocess.Popen:
    return start_psms(url, "dispatch", keep_stderr=False, PSMS_WORKER_ID="worker-1")


def _settled(world: World, *skill_ids: int) -> bool:
    """No text of these skills pending or submitting (a killed dispatcher's texts may stay
    `sent`: their receipts went to its session)."""
    return not any(world.states(s)[state] for s in skill_ids
                   for state in ("pending", "submitting"))


def _held(world: World, skill_id: int) -> int:
    return sum(1 for r in world.rows(skill_id)
               if r.state == "pending" and r.next_attempt_at is not None)


async def _dispatch_until(world: World, done, timeout_s: float = 60.0) -> None:
    """Run a dispatcher until `done()` (the skills waiting for a window keep it from idling)."""
    # The killed dispatcher's worker id: it ran on the real clock, so its lease would not lapse
    # on this dispatcher's clock; a restarted worker takes its own lease back at once.
    dispatcher = Dispatcher(world.engine, world.clock, FAST, worker_id="worker-1")
    task = asyncio.create_task(dispatcher.run())
    deadline = time.monotonic() + timeout_s
    try:
        while not done():
            assert time.monotonic() < deadline, "the dispatcher did not get there in time"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.2)
    finally:
        dispatcher.stop()
        await task


def test_the_counting_triggers_exist_at_the_newest_revision(engine):
    with engine.connect() as conn:
        assert skill_counters.triggers_present(conn) == skill_counters.TRIGGERS[engine.dialect.name]


async def test_kept_counters_equal_a_full_count_after_a_varied_run(engine, bu, tmp_path):
    sim = simulator(receipt_delay_s=0.02)
    world = World(engine, bu, sim, tmp_path, DaytimeClock())
    try:
        # failures (permanent refusals) and texts without an answer (uncertain)
        sim.configure(invalid_destination_pattern=r"\+1212200000[0-4]", no_response_ratio=0.03)
        world.connection(window=10)
        world.code("55501", rate=400)
        rows = [person(i, PhoneNumber=us_number(i)) for i in range(300)]
        rows += [person(301, PhoneNumber=us_number(5)),
                 person(302, IsCellPhone="false"), person(303, FirstName="")]
        write_csv(tmp_path / "people.csv", rows)
        importing.import_calling_list(engine, bu, "people", tmp_path / "people.csv",
                                      world.clock)
        administration.dnc_add(engine, bu, world.clock, ["+1" + us_number(7)])
        sent = world.skill("sent", "55501", "people", "Hi {FirstName}, a shift is open.")
        # texts that wait for their window (it opens at 18:00, the clock says 14:00 New York)
        waits = world.skill("waits", "55501", "people", "Late notice " + "x" * 150,
                            calling_window={"weekday": "18:00-19:00",
                                            "weekend": "18:00-19:00"})
        # texts that expire: their window (after the law's 21:00) never opens
        expires = world.skill("expires", "55501", "people", "Never.",
                    calling_window={"weekday": "23:00-23:30", "weekend": "23:00-23:30"})
        stopped = world.skill("stopped", "55501", "people", "Soon stopped.")
        lifecycle.pause(engine, stopped, world.clock)

        await _dispatch_until(world, lambda: _settled(world, sent, expires) and not (
            world.states(waits)["pending"] - _held(world, waits)))
        lifecycle.stop(engine, stopped, world.clock)
        assert _kept(engine) == _full_count(engine)

        # a dispatcher killed while it sends, then a person resends what was uncertain
        lifecycle.pause(engine, waits, world.clock)  # the next dispatcher runs on the real clock
        again = world.skill("again", "55501", "people", "Once more.",
                            calling_window={"weekday": "00:00-24:00", "weekend": "00:00-24:00"})
        process = _dispatcher(engine.url.render_as_string(hide_password=False))
        deadline = time.monotonic() + 60
        while (world.states(again)["pending"] > 250 and process.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        # The killed dispatcher ran on the real clock, this one reads a January afternoon: its
        # last heartbeat lies in this clock's future and would never look silent. Its leases are
        # made to look lapsed, as they would be on one clock after restart_takeover_s.
        with engine.begin() as conn:
            conn.execute(transport_lease.update().values(renewed_at=None,
                                                         expires_at=world.clock.now()))
        await _dispatch_until(world, lambda: _settled(world, sent, again))
        for skill_id in (sent, again):
            lifecycle.resend_uncertain(engine, skill_id, world.clock)
        await _dispatch_until(world, lambda: _settled(world, sent, again))
    finally:
        sim.stop_in_thread()

    full = _full_count(engine)
    states = {state for _, state, _ in full}
    assert {"delivered", "failed", "skipped", "waiting", "cancelled", "expired"} <= states, states
    assert {reason for _, _, reason in full} >= {"dnc", "duplicate_destination",
                                                 "no_mobile_number", "missing_field"}
    assert _kept(engine) == full
    assert _kept_minutes(engine) == _full_minutes(engine)
    with engine.connect() as conn:
        waiting = conn.scalar(select(func.min(message.c.next_attempt_at))
                              .where(message.c.skill_id == waits))
        assert skill_counters.next_due(conn, [waits], world.clock.now()) == waiting
    report = reporting.skill_report(engine, bu, "waits", world.clock.now())
    assert report.waiting == report.by_state["pending"] > 0
    assert report.next_window_at is not None


def test_fold_moves_ended_backends_shards_into_shard_zero_and_keeps_the_sums(engine, bu,
                                                                            tmp_path):
    from tests.factories import launched_skill

    launched_skill(engine, bu, DaytimeClock(), tmp_path, 20)
    before = _kept(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # A shard of a backend long gone (no backend has pid 1).
            conn.execute(text("UPDATE skill_counter SET shard = 1"))
            conn.execute(text("UPDATE skill_minute SET shard = 1"))
        folded = skill_counters.fold(conn)
    with engine.connect() as conn:
        shards = set(conn.scalars(select(skill_counter.c.shard).distinct()))
        minute_shards = set(conn.scalars(select(skill_minute.c.shard).distinct()))
    assert _kept(engine) == before
    if engine.dialect.name == "postgresql":
        assert folded > 0 and shards == {0} and minute_shards <= {0}
    else:
        assert folded == 0 and shards == {0}


def test_a_launch_batch_that_meets_decided_records_counts_only_the_texts_it_added(
        engine, bu, tmp_path):
    from proactive_sms.domain.message_states import MessageState
    from proactive_sms.store import messages
    from proactive_sms.store.messages import Decision
    from tests.factories import import_people, registration, skill

    clock = DaytimeClock()
    import_people(engine, bu, clock, tmp_path, 30)
    registration(engine, bu, clock)
    created = skill(engine, bu, clock)
    with engine.connect() as conn:
        record_ids = list(conn.scalars(text("SELECT id FROM calling_record ORDER BY id")))

    def decisions(ids):
        return [Decision(r, MessageState.PENDING, f"+1212555{r:04d}", "Hi", "gsm7", 2)
                if r % 3 else Decision(r, MessageState.SKIPPED, None, skip_reason="dnc")
                for r in ids]

    with engine.begin() as conn:  # a launch that stopped after 20 records
        assert messages.insert_decisions(conn, created.id, decisions(record_ids[:20]),
                                         clock.now()) == 20
    with engine.begin() as conn:  # resumed: its first batch meets 10 decided records
        assert messages.insert_decisions(conn, created.id, decisions(record_ids[10:]),
                                         clock.now()) == 10
    assert _kept(engine) == _full_count(engine)
    assert sum(n for n, _ in _kept(engine).values()) == 30


def test_a_cadences_sms_step_texts_are_counted_as_they_are_made(engine, bu, clock, tmp_path):
    from tests.services.test_cadences import agent_skill, report

    rows = [person(0), person(1, IsCellPhone="false"), person(2)]
    created = agent_skill(engine, bu, clock, tmp_path, rows)
    report(engine, bu, clock, ("C000000", 1, 1, "answering_machine"),
           ("C000001", 1, 1, "answering_machine"), ("C000002", 1, 1, "sale"))
    kept = _kept(engine)
    assert kept == _full_count(engine)
    assert kept[(created.id, "pending", None)][0] == 1
    assert kept[(created.id, "skipped", "no_mobile_number")][0] == 1
