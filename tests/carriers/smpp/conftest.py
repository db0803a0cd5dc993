"""A real SMSC simulator on loopback and SmppCarrier factories with short timeouts."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from proactive_sms.carriers.base import (
    DeliveryReceipt,
    InboundText,
    OutboundText,
    SourceKind,
)
from proactive_sms.carriers.smpp import SmppCarrier, SmppConfig
from proactive_sms.carriers.smsc_sim import SimulatorConfig, SmscSimulator
from proactive_sms.domain.encoding import analyze, split_parts

SOURCE = "+15550001111"
_message_ids = itertools.count(1)
_destinations = itertools.count(2_000_000)


def fast_config(port: int, **overrides: Any) -> SmppConfig:
    """Timeouts short enough for tests, long enough for a loaded CI machine."""
    config = SmppConfig(
        host="127.0.0.1",
        port=port,
        system_id="psms",
        password="secret",
        window_size=10,
        enquire_link_interval_s=1.0,
        response_timeout_s=1.0,
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
    )
    return replace(config, **overrides)


def text_to(body: str, destination: str | None = None, **overrides: Any) -> OutboundText:
    """An OutboundText split and encoded the way the domain does it; a fresh destination each time
    unless one is given, so that records at the simulator can be traced back to one submit."""
    report = analyze(body)
    values: dict[str, Any] = {
        "message_id": next(_message_ids),
        "source": SOURCE,
        "source_kind": SourceKind.LONG,
        "destination": destination or f"+1555{next(_destinations):07d}",
        "body": body,
        "encoding": report.encoding.value,
        "parts": tuple(split_parts(body, report.encoding)),
    }
    values.update(overrides)
    return OutboundText(**values)


@dataclass
class Recorder:
    """on_receipt / on_inbound that keep what they got; `fail` makes them raise instead."""

    receipts: list[DeliveryReceipt] = field(default_factory=list)
    inbound: list[InboundText] = field(default_factory=list)
    fail: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_receipt(self, receipt: DeliveryReceipt) -> None:
        if self.fail:
            raise RuntimeError("store unavailable")
        self.receipts.append(receipt)
        self._changed.set()

    async def on_inbound(self, text: InboundText) -> None:
        if self.fail:
            raise RuntimeError("store unavailable")
        self.inbound.append(text)
        self._changed.set()

    async def wait_for(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
        async def loop() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout_s)


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll a condition that no event signals (simulator state, connection state)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def sim() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator(SimulatorConfig(receipt_delay_s=0.01, seed=7)) as simulator:
        yield simulator


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


CarrierFactory = Callable[..., Awaitable[SmppCarrier]]


@pytest.fixture
async def carrier_for(sim: SmscSimulator, recorder: Recorder) -> AsyncIterator[Callable[..., Any]]:
    """`async with carrier_for(**config) as carrier:` a started carrier, stopped on exit."""

    @asynccontextmanager
    async def make(bind: bool = True, **overrides: Any) -> AsyncIterator[SmppCarrier]:
        carrier = SmppCarrier(
            fast_config(sim.port, **overrides), recorder.on_receipt, recorder.on_inbound
        )
        await carrier.start()
        try:
            if bind:
                assert await carrier.wait_bound(5.0)
            yield carrier
        finally:
            await carrier.stop()

    yield make
