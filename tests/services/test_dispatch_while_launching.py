"""Issue 18, time to first text: the dispatcher sends the texts of every batch a launch has
committed while the launch goes on, with every invariant kept: one decision per record, the DNC
check at the moment of sending, the limit per code, and a launch that crashed half-way resumes
and finishes without sending anything twice."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import Counter

from sqlalchemy import func, select

from proactive_sms.services import administration, importing, launching
from proactive_sms.store import skills as skill_store
from proactive_sms.store.schema import message
from tests.factories import person, us_number, write_csv
from tests.services.dispatch_world import FAST

BATCH = 100  # launch batches in these tests (the first is min(FIRST_BATCH, BATCH))


def e164(i: int) -> str:
    return "+1" + us_number(i, "212")


class _Crash(Exception):
    """Stands for the launching process dying between two committed batches."""


class _HeldLaunch:
    """A launch in a thread, held after its n-th committed batch until released (or crashed
    there: it raises, as a process killed between two transactions leaves the store)."""

    def __init__(self, world, skill_id: int, hold_after: int, crash: bool = False) -> None:
        self.held = threading.Event()
        self.release = threading.Event()
        self.errors: list[BaseException] = []
        self._batches = 0

        def after_batch(_decided: int) -> None:
            self._batches += 1
            if self._batches == hold_after:
                self.held.set()
                if crash:
                    raise _Crash
                assert self.release.wait(60), "the test never released the launch"

        def run() -> None:
            try:
                launching.start_skill(world.engine, skill_id, world.clock,
                                      message_text="Hi {FirstName}, shift open.",
                                      batch_size=BATCH, after_batch=after_batch, workers=0)
            except BaseException as exc:  # noqa: BLE001 - the test reads it
                self.errors.append(exc)
            finally:
                self.held.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.release.set()
        self.thread.join(60)


def _status(world, skill_id: int) -> skill_store.SkillStatus:
    with world.engine.connect() as conn:
        return skill_store.skill_by_id(conn, skill_id).status


def _messages(world, skill_id: int) -> int:
    with world.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(message)
                           .where(message.c.skill_id == skill_id))


async def _wait(predicate, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_texts_of_committed_batches_leave_while_the_launch_goes_on(world):
    world.connection(window=10)
    world.code("55501", rate=200)
    world.people("people", 500)
    # The same number on two records of different batches: texted once, for the first.
    again = write_csv(world.tmp_path / "again.csv", [person(900, PhoneNumber=us_number(3, "212"))])
    importing.import_calling_list(world.engine, world.bu, "people", again, world.clock)
    created = administration.create_skill(world.engine, world.bu, world.clock, name="bulk",
                                          registration="55501", calling_list="people")
    launch = _HeldLaunch(world, created.id, hold_after=1)
    assert launch.held.wait(30)
    assert not launch.errors
    # Decided pending in batch 1, on the DNC list before the dispatcher looks: not sent.
    administration.dnc_add(world.engine, world.bu, world.clock, [e164(7)])

    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    try:
        await _wait(lambda: len(world.destinations_at_simulator()) == BATCH - 1)
        assert _status(world, created.id) is skill_store.SkillStatus.LAUNCHING
        assert _messages(world, created.id) == BATCH  # nothing beyond the committed batch
        assert set(world.destinations_at_simulator()) == {e164(i) for i in range(BATCH)
                                                          if i != 7}
        launch.join()
        assert not launch.errors, launch.errors
        assert _status(world, created.id) in (skill_store.SkillStatus.RUNNING,
                                              skill_store.SkillStatus.FINISHED)
        await _wait(lambda: len(world.destinations_at_simulator()) == 499)
        await _wait(lambda: _status(world, created.id) is skill_store.SkillStatus.FINISHED)
    finally:
        dispatcher.stop()
        await task

    at_carrier = world.destinations_at_simulator()
    assert set(at_carrier.values()) == {1}
    assert e164(7) not in at_carrier
    rows = world.rows(created.id)
    assert len(rows) == 501 and len({r.record_id for r in rows}) == 501
    skipped = Counter((r.skip_reason, r.detail) for r in rows if r.state == "skipped")
    assert skipped == {("dnc", "on the DNC list at the moment of sending"): 1,
                       ("duplicate_destination", None): 1}


async def test_a_launch_that_crashed_half_way_resumes_and_nothing_is_sent_twice(world):
    world.connection(window=10)
    rate = 50
    world.code("55501", rate=rate)
    world.people("people", 600)
    created = administration.create_skill(world.engine, world.bu, world.clock, name="bulk",
                                          registration="55501", calling_list="people")
    crashed = _HeldLaunch(world, created.id, hold_after=3, crash=True)
    crashed.thread.join(60)
    assert [type(e) for e in crashed.errors] == [_Crash]
    assert _status(world, created.id) is skill_store.SkillStatus.LAUNCHING
    assert _messages(world, created.id) == 3 * BATCH

    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    try:
        # The dispatcher sends what the dead launch committed, and waits for the rest.
        await _wait(lambda: len(world.destinations_at_simulator()) == 3 * BATCH)
        assert _status(world, created.id) is skill_store.SkillStatus.LAUNCHING
        # Restarted while its first texts are out: it decides only the records left.
        summary = await asyncio.to_thread(launching.start_skill, world.engine, created.id,
                                          world.clock, batch_size=BATCH, workers=0)
        assert summary.decided_now == 600 - 3 * BATCH
        await _wait(lambda: _status(world, created.id) is skill_store.SkillStatus.FINISHED)
    finally:
        dispatcher.stop()
        await task

    at_carrier = world.destinations_at_simulator()
    assert set(at_carrier) == {e164(i) for i in range(600)}
    assert set(at_carrier.values()) == {1}, "a text was sent twice"
    assert world.states(created.id) == Counter({"delivered": 600})
    times = sorted(part.monotonic_s for part in world.sim.accepted_submits())
    worst = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert worst <= rate, f"{worst} texts in one second on a code of {rate}/s"


async def test_a_skill_started_meanwhile_is_looked_at_without_waiting_for_housekeeping(
        world):
    """The texts of a skill started since the dispatcher's last look are held until the next
    look; the lane that holds them asks for that look at once. With housekeeping every 30 s,
    only that request can let them go within the test's 15 s."""
    world.connection(window=10)
    world.code("55501", rate=200)
    world.people("people", 20)
    created = administration.create_skill(world.engine, world.bu, world.clock, name="late",
                                          registration="55501", calling_list="people")
    dispatcher = world.dispatcher(dataclasses.replace(FAST, housekeeping_s=30.0, lease_s=120.0))
    task = asyncio.create_task(dispatcher.run())
    try:
        await _wait(lambda: bool(dispatcher.lanes))  # the code's lane runs, nothing to send
        await asyncio.to_thread(launching.start_skill, world.engine, created.id, world.clock,
                                message_text="Hi {FirstName}, shift open.", workers=0)
        await _wait(lambda: len(world.destinations_at_simulator()) == 20, timeout_s=15.0)
    finally:
        dispatcher.stop()
        await task
    assert set(world.destinations_at_simulator().values()) == {1}
