"""The queue between submit() and aiosmpplib's sender loop (aiosmpplib's broker seam)."""

from __future__ import annotations

import asyncio

from aiosmpplib.broker import AbstractBroker
from aiosmpplib.protocol import SmppMessage

from proactive_sms.carriers.smpp.correlator import PendingPart
from proactive_sms.carriers.smpp.pdus import PreEncodedSubmitSm


class PartBroker(AbstractBroker):
    """The queue between submit() and aiosmpplib's sender loop; at most window_size entries."""

    def __init__(self, capacity: int) -> None:
        self._queue: asyncio.Queue[SmppMessage] = asyncio.Queue(maxsize=capacity)

    def offer(self, message: SmppMessage) -> None:
        self._queue.put_nowait(message)  # cannot be full: the window admits at most capacity

    def drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    async def enqueue(self, message: SmppMessage) -> None:
        await self._queue.put(message)

    async def dequeue(self) -> SmppMessage:
        while True:
            message = await self._queue.get()
            if isinstance(message, PreEncodedSubmitSm):
                part = message.call
                if isinstance(part, PendingPart) and part.done:
                    continue  # its submit() already has an answer (NOT_SENT, cancelled)
            return message
