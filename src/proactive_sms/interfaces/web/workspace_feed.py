"""The agent workspace's live feed: one read of a business unit per tick, shared by every open
workspace of that unit.

A tick reads every agent's open conversations of the unit and the marks of the threads pages
have open (services.agent_workspace.unit_marks: two or three indexed statements), and hands the
same UnitMarks to every open workspace of the unit, each of which compares its own agent's part
with what it saw before. Fifty agents with the page open cost one read a second, not fifty. A
unit's ticking stops when its last workspace closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from proactive_sms.services.agent_workspace import UnitMarks, unit_marks

log = logging.getLogger(__name__)

TICK_S = 1.0


@dataclass
class _Unit:
    engine: Engine
    subscribers: int = 0
    watched: Counter[int] = field(default_factory=Counter)  # conversation ids pages have open
    seq: int = 0
    marks: UnitMarks | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task | None = None


class WorkspaceFeed:
    """Per-unit tickers, started by the first open workspace and stopped after the last."""

    def __init__(self, tick_s: float = TICK_S) -> None:
        self.tick_s = tick_s
        self._units: dict[int, _Unit] = {}

    async def marks(self, unit_id: int, engine: Engine,
                    conversation_id: int | None) -> AsyncIterator[UnitMarks]:
        """The unit's marks, from the next tick on and at every tick after, for as long as the
        caller reads; `conversation_id`'s thread is among them."""
        unit = self._units.get(unit_id)
        if unit is None:
            unit = self._units[unit_id] = _Unit(engine)
        unit.subscribers += 1
        if conversation_id is not None:
            unit.watched[conversation_id] += 1
        if unit.task is None or unit.task.done():
            unit.task = asyncio.create_task(self._tick(unit_id, unit),
                                            name=f"workspace-feed-{unit_id}")
        try:
            seen = unit.seq
            while True:
                async with unit.changed:
                    await unit.changed.wait_for(lambda seen=seen: unit.seq != seen)
                    seen, marks = unit.seq, unit.marks
                if conversation_id is None or conversation_id in marks.threads:
                    yield marks
        finally:
            unit.subscribers -= 1
            if conversation_id is not None:
                unit.watched[conversation_id] -= 1
                if unit.watched[conversation_id] <= 0:
                    del unit.watched[conversation_id]

    async def _tick(self, unit_id: int, unit: _Unit) -> None:
        try:
            while unit.subscribers > 0:
                try:
                    marks = await run_in_threadpool(unit_marks, unit.engine, unit_id,
                                                    list(unit.watched))
                except Exception:  # a failed read must not end every open workspace's feed
                    log.exception("workspace marks of unit %s failed", unit_id)
                else:
                    async with unit.changed:
                        unit.seq += 1
                        unit.marks = marks
                        unit.changed.notify_all()
                await asyncio.sleep(self.tick_s)
        finally:
            if self._units.get(unit_id) is unit and unit.subscribers <= 0:
                del self._units[unit_id]


def feed_of(request: Request) -> WorkspaceFeed:
    """The app's feed (made on first use)."""
    state = request.app.state
    if getattr(state, "workspace_feed", None) is None:
        state.workspace_feed = WorkspaceFeed()
    return state.workspace_feed
