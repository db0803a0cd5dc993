"""Reconnect delays (aiosmpplib's retry-timer seam)."""

from __future__ import annotations

import asyncio
import contextlib
import random

from aiosmpplib.retrytimer import AbstractRetryTimer


class Backoff(AbstractRetryTimer):
    """Exponential reconnect delay from min_s to max_s, with jitter; stop() cuts a wait short.

    aiosmpplib calls wait() after every failed connect and every ended session, and reset()
    after every successful bind. The jitter (up to a quarter) keeps many workers that lost the
    same SMSC from knocking on it in the same instant.
    """

    def __init__(self, min_s: float, max_s: float) -> None:
        self._min_s = min_s
        self._max_s = max_s
        self._next_s = min_s
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    def next_delay(self) -> float:
        return self._next_s

    def reset(self) -> None:
        self._next_s = self._min_s

    async def wait(self) -> None:
        delay = self._next_s * (1 - random.random() / 4)
        self._next_s = min(self._next_s * 2, self._max_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
