"""The dashboard's live feed: one snapshot per business unit per tick, shared by every open
dashboard of that unit.

A tick reads the unit's kept counters once (services.dashboard.snapshot, a few small queries
whatever the skills' sizes) and renders the live part of the page once; every open dashboard of
the unit then gets that same event. So 200 open dashboards of one unit cost one snapshot a tick,
not 200. A unit's ticking stops when its last dashboard closes.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from anyio import to_thread

log = logging.getLogger(__name__)

DEFAULT_TICK_S = 2.0


def tick_from_env() -> float:
    """PSMS_DASHBOARD_TICK_S, else 2 seconds."""
    raw = os.environ.get("PSMS_DASHBOARD_TICK_S")
    try:
        return max(0.2, float(raw)) if raw else DEFAULT_TICK_S
    except ValueError:
        return DEFAULT_TICK_S


@dataclass
class _UnitFeed:
    render: Callable[[], bytes]  # the event of the live part now (runs in a worker thread)
    subscribers: int = 0
    seq: int = 0
    event: bytes = b""
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task | None = None


class DashboardFeed:
    """Per-unit tickers, started by the first subscriber and stopped after the last."""

    def __init__(self, tick_s: float | None = None) -> None:
        self.tick_s = tick_s or tick_from_env()
        self._units: dict[int, _UnitFeed] = {}
        self.ticks = 0  # snapshots taken, all units together (for the benchmark's check)

    async def events(self, unit_id: int, render: Callable[[], bytes]) -> AsyncIterator[bytes]:
        """The unit's event (what `render` gives), once now and again at every tick, for as
        long as the caller reads."""
        feed = self._units.get(unit_id)
        if feed is None:
            feed = self._units[unit_id] = _UnitFeed(render)
        feed.subscribers += 1
        if feed.task is None or feed.task.done():
            feed.task = asyncio.create_task(self._tick(unit_id, feed),
                                            name=f"dashboard-feed-{unit_id}")
        try:
            seen = 0
            while True:
                async with feed.changed:
                    await feed.changed.wait_for(lambda seen=seen: feed.seq != seen)
                    seen, event = feed.seq, feed.event
                yield event
        finally:
            feed.subscribers -= 1

    async def _tick(self, unit_id: int, feed: _UnitFeed) -> None:
        try:
            while feed.subscribers > 0:
                try:
                    event = await to_thread.run_sync(feed.render)
                except Exception:  # a failed tick must not end every open dashboard's feed
                    log.exception("dashboard snapshot of unit %s failed", unit_id)
                else:
                    self.ticks += 1
                    async with feed.changed:
                        feed.seq += 1
                        feed.event = event
                        feed.changed.notify_all()
                await asyncio.sleep(self.tick_s)
        finally:
            if self._units.get(unit_id) is feed and feed.subscribers <= 0:
                del self._units[unit_id]
