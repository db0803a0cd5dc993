"""Writing many small facts to the database in few transactions, without losing any.

A caller awaits `add(item)`; it returns only once the transaction holding that item committed
(or raises what the write raised). Meanwhile other items arriving join the same batch. This gives
both properties we need: nothing acknowledged to the carrier before it is stored, and thousands of
facts a second through one SQLite writer.

The write function may return one output per item: `add` returns it to that item's caller, or
raises it if it is a `Failed` (so one part of a batch can fail without failing the rest).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Failed:
    """An output that makes `add` raise `error` for that item alone."""

    error: BaseException


class BatchWriter(Generic[T]):
    def __init__(self, write: Callable[[Sequence[T]], Sequence[Any] | None],
                 max_batch: int = 500, name: str = "batch",
                 executor: Executor | None = None, gather_turns: int = 0) -> None:
        self._write = write  # runs in a worker thread: it may block on the database
        # None: asyncio's default pool. The dispatcher passes its one store thread, so that its
        # transactions queue in the process instead of in SQLite's busy handler.
        self._executor = executor
        self._max_batch = max_batch
        # Turns of the event loop the writer lets pass before taking the queue, so that what
        # the first item sets off at once (an answer frees a slot, the lane claims its next
        # group) joins the same batch instead of waiting for the next one.
        self._gather_turns = gather_turns
        self._name = name
        # each item with its waiter: a future (add) or a callback (add_soon)
        self._queue: list[tuple[T, asyncio.Future | Callable]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closed = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._name}-writer")

    async def add(self, item: T) -> Any:
        """Returns once `item` is stored, with the write's output for it (None if it has none)."""
        if self._closed:
            raise RuntimeError(f"{self._name} writer is closed")
        future = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wakeup.set()
        return await future

    def add_soon(self, item: T, done: Callable[[Any, BaseException | None], None]) -> None:
        """Queue `item` without waiting: `done(output, error)` is called on the event loop once
        its transaction committed (error None) or failed. Saves a future and a task switch per
        item for callers that only need to act afterwards."""
        if self._closed:
            raise RuntimeError(f"{self._name} writer is closed")
        self._queue.append((item, done))
        self._wakeup.set()

    async def close(self) -> None:
        """Write what is queued, then stop."""
        self._closed = True
        self._wakeup.set()
        if self._task:
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            for _ in range(self._gather_turns):
                await asyncio.sleep(0)
            self._wakeup.clear()
            while self._queue:
                batch, self._queue = (self._queue[:self._max_batch],
                                      self._queue[self._max_batch:])
                try:
                    outputs = await loop.run_in_executor(
                        self._executor, self._write, [item for item, _ in batch])
                except BaseException as exc:  # every waiter learns the write failed
                    for _, waiter in batch:
                        _settle(waiter, None, exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                if outputs is None:
                    outputs = [None] * len(batch)
                for (_, waiter), output in zip(batch, outputs, strict=True):
                    if isinstance(output, Failed):
                        _settle(waiter, None, output.error)
                    else:
                        _settle(waiter, output, None)
            if self._closed and not self._queue:
                return


def _settle(waiter: asyncio.Future | Callable, output: Any, error: BaseException | None) -> None:
    if isinstance(waiter, asyncio.Future):
        if waiter.done():
            return
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(output)
        return
    try:
        waiter(output, error)
    except Exception:  # a caller's bug must not stop the writer that others wait on
        log.exception("callback after a batch write failed")
