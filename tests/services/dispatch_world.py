"""A small world for dispatcher tests: the real store, the real simulator over TCP, real skills."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from proactive_sms.carriers.smsc_sim import SimulatorConfig, SmscSimulator
from proactive_sms.domain.clock import ManualClock, SystemClock
from proactive_sms.services import administration, importing, launching
from proactive_sms.services.dispatch import Dispatcher, DispatchOptions
from proactive_sms.store.schema import message
from proactive_sms.store.tenancy import BusinessUnit
from tests.factories import person, us_number, write_csv


class DaytimeClock(SystemClock):
    """Real elapsed time, read on a fixed weekday afternoon (14:00 in New York, 09:00 in
    Honolulu), so tests that are not about calling windows pass at any hour CI runs them."""

    def __init__(self, start: datetime = datetime(2026, 1, 14, 19, 0, tzinfo=UTC)) -> None:
        self._start = start
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)


class ManualWallClock(ManualClock):
    """Wall time that moves only when told (calling windows, validity), over real monotonic time:
    pacing runs as in production. A frozen monotonic clock would hold the lanes' spacing of
    sends inside the second (a few texts per frozen instant)."""

    def monotonic(self) -> float:
        return time.monotonic()


# A short reply window: agents' places never bind the tests that are not about them (a skill
# with 3 agents of 5 places at a 5% reply rate may send 600 texts/s; at the default 30 min,
# 0.17/s). Reply-aware pacing has tests of its own with windows that bind.
FAST = DispatchOptions(poll_interval_s=0.05, housekeeping_s=0.1, smpp_response_timeout_s=1.0,
                       retry_base_s=0.05, retry_max_s=0.2, throttle_pause_s=0.1,
                       throttle_pause_max_s=0.5, reply_window_s=0.5)


@dataclass
class World:
    engine: Engine
    bu: BusinessUnit
    sim: SmscSimulator
    tmp_path: Path
    clock: SystemClock

    def connection(self, name: str = "sim", window: int = 10) -> None:
        administration.add_connection(self.engine, self.bu, self.clock, name, "127.0.0.1",
                                      self.sim.port, "psms", "secret", window)

    def code(self, code: str, kind: str = "short", rate: float = 1000.0,
             connection: str = "sim", dnc_group: str | None = None) -> None:
        administration.add_registration(self.engine, self.bu, self.clock, code=code, kind=kind,
                                        throughput_per_s=rate, connection=connection,
                                        dnc_group=dnc_group)

    def people(self, list_name: str, count: int, start: int = 0, area: str = "212",
               **overrides: str) -> None:
        rows = []
        for i in range(start, start + count):
            rows.append(person(i, PhoneNumber=us_number(i, area), **overrides))
        path = write_csv(self.tmp_path / f"{list_name}.csv", rows)
        importing.import_calling_list(self.engine, self.bu, list_name, path, self.clock)

    def skill(self, name: str, code: str, list_name: str, text: str, **options) -> int:
        created = administration.create_skill(self.engine, self.bu, self.clock, name=name,
                                              registration=code, calling_list=list_name,
                                              **options)
        launching.start_skill(self.engine, created.id, self.clock, message_text=text)
        return created.id

    def dispatcher(self, options: DispatchOptions = FAST) -> Dispatcher:
        return Dispatcher(self.engine, self.clock, options)

    async def run_until_idle(self, options: DispatchOptions = FAST, grace_s: float = 5.0,
                             timeout_s: float = 120.0) -> Dispatcher:
        dispatcher = self.dispatcher(options)
        await asyncio.wait_for(dispatcher.run(until_idle=True, receipt_grace_s=grace_s),
                               timeout_s)
        return dispatcher

    def states(self, skill_id: int | None = None) -> Counter:
        query = select(message.c.state)
        if skill_id is not None:
            query = query.where(message.c.skill_id == skill_id)
        with self.engine.connect() as conn:
            return Counter(conn.scalars(query))

    def rows(self, skill_id: int):
        with self.engine.connect() as conn:
            return conn.execute(select(message).where(message.c.skill_id == skill_id)
                                .order_by(message.c.id)).all()

    def destinations_at_simulator(self) -> Counter:
        """How many messages (not parts) each destination received, as the carrier saw them."""
        return Counter("+" + dest.lstrip("+") for dest, _ in self.sim.reassembled())


def simulator(**knobs) -> SmscSimulator:
    config = SimulatorConfig(receipt_delay_s=knobs.pop("receipt_delay_s", 0.01), seed=7, **knobs)
    return SmscSimulator(config).start_in_thread()


async def until(predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Wait for a condition nothing signals (what a dispatcher wrote, a simulator's state)."""
    for _ in range(int(timeout_s / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")
