"""The dry run checks everything, writes nothing, and predicts the finish within 10%."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from proactive_sms.services import administration, launching
from proactive_sms.services.dry_run import dry_run
from proactive_sms.store.schema import message
from tests.factories import us_number
from tests.services.dispatch_world import DaytimeClock, World, simulator


async def test_dry_run_predicts_what_the_real_run_does(engine, bu, tmp_path):
    sim = simulator()
    clock = DaytimeClock()
    world = World(engine, bu, sim, tmp_path, clock)
    try:
        world.connection()
        world.code("2025550143", kind="long", rate=5)
        world.people("people", 60)
        administration.dnc_add(engine, bu, clock, ["+1" + us_number(5), "+1" + us_number(6)])
        created = administration.create_skill(engine, bu, clock, name="notice",
                                              registration="2025550143",
                                              calling_list="people")
        predicted = dry_run(engine, created.id, clock, message_text="Shift open tonight.")
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(message)) == 0  # nothing written
        assert (predicted.records, predicted.go_now, predicted.waiting) == (60, 58, 0)
        assert predicted.skipped == Counter({"dnc": 2})
        assert predicted.segments == 58

        summary = launching.start_skill(engine, created.id, clock,
                                        message_text="Shift open tonight.")
        assert summary.pending == predicted.go_now
        await world.run_until_idle(grace_s=1.0)
        arrivals = sorted(p.monotonic_s for p in sim.accepted_submits())
    finally:
        sim.stop_in_thread()
    actual_s = arrivals[-1] - arrivals[0]
    assert len(arrivals) == 58
    assert abs(predicted.predicted_duration_s - actual_s) <= 0.10 * actual_s, (
        predicted.predicted_duration_s, actual_s)


async def test_dry_run_reports_waiting_texts_and_when_they_go(engine, bu, tmp_path):
    from datetime import UTC, datetime

    from proactive_sms.domain.clock import ManualClock

    clock = ManualClock(datetime(2026, 1, 14, 11, 0, tzinfo=UTC))  # 06:00 in New York
    sim = simulator()
    world = World(engine, bu, sim, tmp_path, clock)
    try:
        world.connection()
        world.code("55501", rate=100)
        world.people("people", 10)
        created = administration.create_skill(engine, bu, clock, name="early",
                                              registration="55501", calling_list="people")
        result = dry_run(engine, created.id, clock, message_text="Good morning")
    finally:
        sim.stop_in_thread()
    assert (result.go_now, result.waiting) == (0, 10)
    assert result.waiting_until == Counter({datetime(2026, 1, 14, 13, 0, tzinfo=UTC): 10})
    assert result.predicted_finish >= datetime(2026, 1, 14, 13, 0, tzinfo=UTC)
