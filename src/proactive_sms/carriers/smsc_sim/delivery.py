"""Where mobile-terminated deliver_sm PDUs (receipts, inbound texts) go, and when.

Each deliver_sm belongs to a system_id. It is written to a session bound as transceiver or receiver
with that id (round-robin when there are several), or held until one binds. Receipts wait in one
timer heap; the timer fires for the earliest and takes everything due within a small slack, so a
burst of receipts costs one callback and one write per session instead of one each.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from typing import Protocol

RECEIPT_BATCH_SLACK_S = 0.002  # receipts due this close together go out in one write


class InboundTicket:
    """Resolves its future with the first non-zero deliver_sm_resp status (or 0) once every part of
    an injected text has been answered."""

    __slots__ = ("future", "remaining", "status")

    def __init__(self, future: asyncio.Future[int], parts: int) -> None:
        self.future = future
        self.remaining = parts
        self.status = 0

    def part_answered(self, status: int) -> None:
        if status and not self.status:
            self.status = status
        self.remaining -= 1
        if self.remaining <= 0 and not self.future.done():
            self.future.set_result(self.status)


class Delivery:
    """One deliver_sm body waiting for (or travelling to) a receiver; the header is added on write,
    because the sequence number belongs to the session that writes it."""

    __slots__ = ("system_id", "body", "kind", "ticket")

    def __init__(
        self, system_id: str, body: bytes, kind: str, ticket: InboundTicket | None = None
    ) -> None:
        self.system_id = system_id
        self.body = body
        self.kind = kind  # "receipt" or "inbound": the counters are kept per kind
        self.ticket = ticket


class Receiver(Protocol):
    system_id: str | None

    def enqueue(self, delivery: Delivery) -> bool:
        """Write `delivery` soon; False when the session can no longer take it."""
        ...


class DeliveryRouter:
    def __init__(self) -> None:
        self._receivers: dict[str, list[Receiver]] = {}
        self._turn = itertools.count()
        self._pending: dict[str, deque[Delivery]] = {}
        self._heap: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()  # ties in the heap keep submission order
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def attach(self, receiver: Receiver) -> None:
        """A session bound to receive: it takes its share of everything held for its system_id."""
        assert receiver.system_id is not None
        self._receivers.setdefault(receiver.system_id, []).append(receiver)
        held = self._pending.pop(receiver.system_id, None)
        while held:
            self.route(held.popleft())

    def detach(self, receiver: Receiver) -> None:
        receivers = self._receivers.get(receiver.system_id or "", [])
        if receiver in receivers:
            receivers.remove(receiver)

    def route(self, delivery: Delivery, prefer: Receiver | None = None) -> None:
        """Write now to `prefer` if it can receive, else the next receiver, else hold it."""
        receivers = self._receivers.get(delivery.system_id)
        if prefer is not None and receivers and prefer in receivers and prefer.enqueue(delivery):
            return
        while receivers:
            receiver = receivers[next(self._turn) % len(receivers)]
            if receiver.enqueue(delivery):
                return
            receivers.remove(receiver)  # closing: it will not take anything any more
        self._pending.setdefault(delivery.system_id, deque()).append(delivery)

    def schedule(self, delivery: Delivery, delay_s: float) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + delay_s
        heapq.heappush(self._heap, (due, next(self._order), delivery))
        if self._timer is None or due < self._timer_at:
            self._arm(loop, due)

    def _arm(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = due
        self._timer = loop.call_at(due, self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        heap = self._heap
        horizon = loop.time() + RECEIPT_BATCH_SLACK_S
        while heap and heap[0][0] <= horizon:
            self.route(heapq.heappop(heap)[2])
        if heap:
            self._arm(loop, heap[0][0])

    def pending_count(self) -> int:
        return sum(len(held) for held in self._pending.values())

    def scheduled_count(self) -> int:
        return len(self._heap)

    def close(self) -> None:
        """Stop the timer and drop what was not written; the simulator fails waiting tickets."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._heap.clear()
        self._pending.clear()
