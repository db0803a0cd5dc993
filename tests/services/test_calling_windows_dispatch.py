"""Invariant 4 through the real dispatcher and simulator, on a simulated day (a manual clock):
no text outside the recipient's calling window, waiting texts go when their window opens,
expired and capped texts end or wait with their reasons."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from proactive_sms.services import importing, reporting
from tests.factories import write_csv
from tests.services.dispatch_world import ManualWallClock, World, simulator

DAY = datetime(2026, 1, 14, 0, 0, tzinfo=UTC)  # a Wednesday in winter
HEADER = ["ExternalId", "FirstName", "PhoneNumber", "IsCellPhone", "TimeZone", "PostalCode"]
# (id, number, TimeZone field, PostalCode, the zone that must decide, local hours allowed)
RECIPIENTS = [
    ("ny", "+12125550101", "", "", "America/New_York", (8, 21)),
    ("chicago", "+13125550102", "", "", "America/Chicago", (8, 21)),
    ("denver", "+13035550103", "", "", "America/Denver", (8, 21)),
    ("phoenix", "+16025550104", "", "", "America/Phoenix", (8, 21)),
    ("la", "+12135550105", "", "", "America/Los_Angeles", (8, 21)),
    ("anchorage", "+19075550106", "", "99501", "America/Anchorage", (8, 21)),
    ("honolulu", "+18085550107", "", "", "Pacific/Honolulu", (8, 21)),
    ("miami", "+13055550108", "", "33101", "America/New_York", (8, 20)),  # Florida law
    ("field-wins", "+12125550109", "Pacific/Honolulu", "", "Pacific/Honolulu", (8, 21)),
]
NO_ZONE = ("nowhere", "+88213000000")
SETTLE_S = 0.5  # each simulated hour lasts at least this long (real time) ...
STEP_MAX_S = 20.0  # ... and at most this long, waiting for the texts it allows


def _world(engine, bu, tmp_path, clock):
    sim = simulator()
    world = World(engine, bu, sim, tmp_path, clock)
    world.connection()
    world.code("55501", rate=100)
    return world, sim


def _import(world, rows, name="people"):
    path = write_csv(world.tmp_path / f"{name}.csv", rows, HEADER)
    importing.import_calling_list(world.engine, world.bu, name, path, world.clock)


def _allowed(moment: datetime, zone: str, hours: tuple[int, int]) -> bool:
    local = moment.astimezone(ZoneInfo(zone))
    return hours[0] <= local.hour < hours[1]


def _validity(value: str) -> datetime:
    """SMPP absolute validity 'YYMMDDhhmmss000+' (UTC, as our client writes it)."""
    return datetime.strptime(value[:12], "%y%m%d%H%M%S").replace(tzinfo=UTC)


@pytest.mark.slow
@pytest.mark.parametrize("day", [DAY, datetime(2026, 3, 8, tzinfo=UTC),
                                 datetime(2026, 11, 1, tzinfo=UTC)],
                         ids=["winter", "spring-forward", "fall-back"])
async def test_each_hour_of_a_day_exactly_the_allowed_recipients_are_texted(engine, bu,
                                                                          tmp_path, day):
    # On the days the clocks change, windows still follow each recipient's wall clock: the
    # oracle below converts every step to local time with the zone's own rules.
    clock = ManualWallClock(day)
    world, sim = _world(engine, bu, tmp_path, clock)
    try:
        rows = [[rid, "Pat", number, "true", tz, zip_code]
                for rid, number, tz, zip_code, _, _ in RECIPIENTS]
        rows.append([NO_ZONE[0], "Pat", NO_ZONE[1], "true", "", ""])
        _import(world, rows)
        skill_id = world.skill("day", "55501", "people", "Your order is ready.")
        dispatcher = world.dispatcher()
        task = asyncio.create_task(dispatcher.run())
        sent_at: dict[str, datetime] = {}
        validity: dict[str, datetime] = {}
        seen = 0

        def arrived(step: datetime) -> None:
            nonlocal seen
            parts = sim.accepted_submits()
            for part in parts[seen:]:
                number = "+" + part.destination_addr.lstrip("+")
                assert number not in sent_at, f"{number} texted twice"
                sent_at[number] = step
                validity[number] = _validity(part.validity_period)
            seen = len(parts)

        for hour in range(30):
            step = day + timedelta(hours=hour)
            clock.set(step)
            # Each step lasts until the texts whose window is open have come (a loaded machine
            # takes longer; the first step also covers binding and the first look for work),
            # and at least SETTLE_S, in which a text whose window is shut would (wrongly) go.
            due = {number for _, number, _, _, zone, hours in RECIPIENTS
                   if _allowed(step, zone, hours)}
            started = time.monotonic()
            await asyncio.sleep(SETTLE_S)
            arrived(step)
            while not due <= sent_at.keys() and time.monotonic() - started < STEP_MAX_S:
                await asyncio.sleep(0.1)
                arrived(step)
        dispatcher.stop()
        await task
    finally:
        sim.stop_in_thread()

    for rid, number, _, _, zone, hours in RECIPIENTS:
        assert number in sent_at, f"{rid} was never texted"
        moment = sent_at[number]
        assert _allowed(moment, zone, hours), f"{rid} texted at {moment} outside its window"
        earlier = [day + timedelta(hours=h) for h in range(30)
                   if day + timedelta(hours=h) < moment]
        assert not any(_allowed(t, zone, hours) for t in earlier), f"{rid} waited too long"
        # The carrier may not deliver after the window closes.
        local = moment.astimezone(ZoneInfo(zone))
        close = local.replace(hour=hours[1], minute=0, second=0, microsecond=0)
        assert validity[number] <= close.astimezone(UTC) + timedelta(seconds=1), rid
    assert NO_ZONE[1] not in sent_at
    (nowhere,) = [r for r in world.rows(skill_id) if r.destination == NO_ZONE[1]]
    assert (nowhere.state, nowhere.skip_reason) == ("skipped", "no_time_zone")


async def test_a_text_whose_window_opens_after_its_validity_expires_with_the_reason(engine, bu,
                                                                                   tmp_path):
    clock = ManualWallClock(DAY + timedelta(hours=12))  # 02:00 in Honolulu, 07:00 in New York
    world, sim = _world(engine, bu, tmp_path, clock)
    try:
        _import(world, [["h1", "Pat", "+18085550107", "true", "", ""],
                        ["n1", "Pat", "+12125550101", "true", "", ""]])
        skill_id = world.skill("short-lived", "55501", "people", "Flash sale today.",
                               validity_hours=2)
        dispatcher = world.dispatcher()
        task = asyncio.create_task(dispatcher.run())
        await asyncio.sleep(0.6)
        clock.advance(3600)  # 08:00 in New York: its window opens within the validity
        await asyncio.sleep(0.6)
        dispatcher.stop()
        await task
    finally:
        sim.stop_in_thread()
    rows = {r.destination: r for r in world.rows(skill_id)}
    assert rows["+18085550107"].state == "expired"
    assert "expires" in rows["+18085550107"].detail
    assert rows["+12125550101"].state in ("sent", "delivered")
    assert ["+" + p.destination_addr.lstrip("+") for p in sim.accepted_submits()] == [
        "+12125550101"]


async def test_a_florida_number_gets_at_most_three_texts_a_day(engine, bu, tmp_path):
    clock = ManualWallClock(DAY + timedelta(hours=15))  # 10:00 in Miami
    world, sim = _world(engine, bu, tmp_path, clock)
    try:
        _import(world, [["m1", "Pat", "+13055550108", "true", "", "33101"]])
        ids = [world.skill(f"s{n}", "55501", "people", f"Notice {n}") for n in range(4)]
        dispatcher = world.dispatcher()
        task = asyncio.create_task(dispatcher.run())
        for _ in range(4):
            await asyncio.sleep(0.4)
            clock.advance(60)
        dispatcher.stop()
        await task
    finally:
        sim.stop_in_thread()
    assert len(sim.accepted_submits()) == 3
    waiting = [r for skill_id in ids for r in world.rows(skill_id) if r.state == "pending"]
    (fourth,) = waiting
    assert "frequency cap" in fourth.detail
    assert fourth.next_attempt_at is not None
    # the status shows it waiting, and when it may go
    skill_name = f"s{ids.index(fourth.skill_id)}"
    report = reporting.skill_report(world.engine, world.bu, skill_name, clock.now())
    assert report.waiting == 1
    assert report.next_window_at.replace(tzinfo=None) == fourth.next_attempt_at.replace(
        tzinfo=None)
