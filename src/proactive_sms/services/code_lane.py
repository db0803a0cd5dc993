"""One transport code's lane: its pacer, its queue of pending texts, its submits.

The lane reads pending texts in id order, waits for the pacer, claims a group in one transaction
(the DNC list is checked at that moment), and submits each claimed text at once. A text holds one
slot of its connection's window from before it is claimed until its result is stored, so at most
`window` texts are ever `submitting`: a crash leaves at most that many `uncertain`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING

from proactive_sms.carriers.base import OutboundText, SourceKind, SubmitResult, SubmitStatus
from proactive_sms.domain.encoding import Encoding, split_parts
from proactive_sms.domain.pacing import SlidingWindowPacer
from proactive_sms.domain.phone import mask
from proactive_sms.store import outbox
from proactive_sms.store.outbox import OutboxItem
from proactive_sms.store.registrations import Registration

if TYPE_CHECKING:
    from proactive_sms.services.dispatch import Dispatcher

log = logging.getLogger(__name__)

UNLIMITED_PER_S = 1_000_000.0  # benchmarks lift the limits


class CodeLane:
    def __init__(self, dispatcher: Dispatcher, registration: Registration, carrier,
                 slots: asyncio.Semaphore, dnc_list_id: int, rate_per_s: float) -> None:
        self.d = dispatcher
        self.registration = registration
        self.carrier = carrier
        self.slots = slots
        self.dnc_list_id = dnc_list_id
        self.pacer = SlidingWindowPacer(rate_per_s, dispatcher.options.pacer_margin_s)
        self.by_segments = registration.throughput_unit == "segments"
        self.buffer: deque[OutboxItem] = deque()
        self.cursor = 0
        self.paused_until = 0.0
        self.throttle_pause_s = dispatcher.options.throttle_pause_s
        self.in_flight: set[asyncio.Task] = set()
        self.stopping = False

    def weight(self, item: OutboxItem) -> int:
        return item.segments if self.by_segments else 1

    def set_rate(self, rate_per_s: float) -> None:
        if rate_per_s != self.pacer.rate_per_s:
            fresh = SlidingWindowPacer(rate_per_s, self.d.options.pacer_margin_s)
            # Keep what was sent recently: a lower limit must count the last second's sends.
            for sent_at, weight in self.pacer._sends:
                fresh._sends.append((sent_at, weight))
                fresh._in_window += weight
            self.pacer = fresh

    async def run(self) -> None:
        clock = self.d.clock
        while not self.stopping:
            now = clock.monotonic()
            if self.paused_until > now:
                await asyncio.sleep(min(self.paused_until - now, 0.5))
                continue
            if not self.carrier.bound:
                await self.carrier.wait_bound(0.5)
                continue
            if not self.buffer and not await self.refill():
                await asyncio.sleep(self.d.options.poll_interval_s)
                continue
            group = await self.next_group()
            if group:
                await self.claim_and_send(group)
        await self.drain()

    async def refill(self) -> bool:
        items = await asyncio.to_thread(self.d.read, outbox.fetch_pending, self.registration.id,
                                        self.cursor, self.d.options.fetch_size, self.d.clock.now())
        if not items:
            self.cursor = 0  # next time, look again from the start: retries may have come due
            return False
        self.cursor = items[-1].id
        self.buffer.extend(items)
        return True

    async def next_group(self) -> list[OutboxItem]:
        """Texts that may leave now: a free window slot each, and room in the pacer."""
        head = self.buffer[0]
        await self.slots.acquire()
        clock = self.d.clock
        while True:
            wait = self.pacer.ready_at(self.weight(head), clock.monotonic()) - clock.monotonic()
            if wait <= 0 or self.stopping:
                break
            await asyncio.sleep(min(wait, 0.25))
        if self.stopping or not self.buffer:
            self.slots.release()
            return []
        group = [self.buffer.popleft()]
        budget = self.pacer.available(clock.monotonic()) - self.weight(head)
        while (self.buffer and len(group) < self.d.options.max_group and not self.slots.locked()
               and self.weight(self.buffer[0]) <= budget):
            await self.slots.acquire()
            budget -= self.weight(self.buffer[0])
            group.append(self.buffer.popleft())
        return group

    async def claim_and_send(self, group: list[OutboxItem]) -> None:
        claim = await asyncio.to_thread(self.d.write, outbox.claim, group, self.dnc_list_id,
                                        self.d.clock.now())
        for item in group:
            if item.id not in claim.claimed:
                self.slots.release()
                if item.id in claim.dnc:
                    log.info("text %s to %s skipped: on the DNC list at send time", item.id,
                             mask(item.destination))
                continue
            # Counted at the moment the PDU is handed over, not when it was first considered.
            self.pacer.consume(self.weight(item), self.d.clock.monotonic())
            task = asyncio.create_task(self.submit(item))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)

    async def submit(self, item: OutboxItem) -> None:
        try:
            result = await self.carrier.submit(self.outbound(item))
        except Exception as exc:  # we cannot know whether it left: never re-send blindly
            log.exception("submit of text %s raised", item.id)
            result = SubmitResult(item.id, SubmitStatus.UNCERTAIN, detail=f"client error: {exc}")
        try:
            await self.d.results.add((item, result))
        finally:
            self.slots.release()
        self.after_result(item, result)

    def outbound(self, item: OutboxItem) -> OutboundText:
        validity_hours = self.d.validity_hours.get(item.skill_id)
        validity_until = (self.d.clock.now() + timedelta(hours=validity_hours)
                          if validity_hours else None)
        encoding = Encoding(item.encoding)
        return OutboundText(
            message_id=item.id, source=self.registration.code,
            source_kind=SourceKind(self.registration.kind), destination=item.destination,
            body=item.body, encoding=encoding.value, parts=tuple(split_parts(item.body, encoding)),
            validity_until=validity_until,
        )

    def after_result(self, item: OutboxItem, result: SubmitResult) -> None:
        if result.status is SubmitStatus.THROTTLED:
            # The carrier says we are too fast: pause the whole code, growing while it persists.
            self.paused_until = self.d.clock.monotonic() + self.throttle_pause_s
            self.throttle_pause_s = min(self.throttle_pause_s * 2,
                                        self.d.options.throttle_pause_max_s)
            self.buffer.appendleft(item)  # back at the head (its row is pending again)
        elif result.status is SubmitStatus.NOT_SENT:
            self.buffer.appendleft(item)
        elif result.status is SubmitStatus.ACCEPTED:
            self.throttle_pause_s = self.d.options.throttle_pause_s

    async def drain(self) -> None:
        if self.in_flight:
            await asyncio.gather(*self.in_flight, return_exceptions=True)
