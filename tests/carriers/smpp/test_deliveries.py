"""deliver_sm -> handler -> deliver_sm_resp, with the acknowledgement captured: a resp is only
ever sent after the handler returned, and never ESME_ROK for a handler that failed."""

from __future__ import annotations

import asyncio
import struct

from proactive_sms.carriers.base import DeliveryReceipt, InboundText
from proactive_sms.carriers.smpp.deliveries import Deliveries


def deliver_sm(
    sequence: int,
    short_message: bytes,
    esm_class: int = 0,
    data_coding: int = 0,
    sender: bytes = b"15557654321",
) -> bytes:
    body = (
        b"\x00"
        + b"\x01\x01"
        + sender
        + b"\x00"
        + b"\x01\x0115550001111\x00"
        + bytes([esm_class, 0, 0])
        + b"\x00\x00\x00\x00"
        + bytes([data_coding, 0, len(short_message)])
        + short_message
    )
    return struct.pack("!IIII", 16 + len(body), 0x05, 0, sequence) + body


def part(sequence: int, ref: int, total: int, seq: int, payload: bytes) -> bytes:
    return deliver_sm(sequence, bytes([5, 0, 3, ref, total, seq]) + payload, esm_class=0x40)


class Harness:
    def __init__(self, reassembly_timeout_s: float = 30.0) -> None:
        self.acks: list[tuple[int, int]] = []
        self.receipts: list[DeliveryReceipt] = []
        self.inbound: list[InboundText] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False
        self.deliveries = Deliveries(
            self.on_receipt, self.on_inbound, self.ack, 4, reassembly_timeout_s
        )
        self.deliveries.session_started(1)

    async def on_receipt(self, receipt: DeliveryReceipt) -> None:
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("store down")
        self.receipts.append(receipt)

    async def on_inbound(self, text: InboundText) -> None:
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("store down")
        self.inbound.append(text)

    async def ack(self, sequence_num: int, command_status: int, generation: int) -> bool:
        self.acks.append((sequence_num, command_status))
        return True

    async def settle(self) -> None:
        await self.deliveries.drain(1.0)


async def test_receipt_is_acknowledged_only_after_its_handler_returned() -> None:
    harness = Harness()
    harness.gate.clear()
    await harness.deliveries.received(deliver_sm(7, b"id:1A stat:DELIVRD", esm_class=4), 7, 1)
    await asyncio.sleep(0.01)
    assert harness.acks == []  # the handler is still storing it
    harness.gate.set()
    await harness.settle()
    assert harness.acks == [(7, 0)]
    assert harness.receipts[0].carrier_message_id == "1A"


async def test_failing_handler_is_answered_0x64() -> None:
    harness = Harness()
    harness.fail = True
    await harness.deliveries.received(deliver_sm(8, b"id:1 stat:DELIVRD", esm_class=4), 8, 1)
    await harness.deliveries.received(deliver_sm(9, b"hello"), 9, 1)
    await harness.settle()
    assert sorted(harness.acks) == [(8, 0x64), (9, 0x64)]


async def test_unreadable_deliver_sm_is_refused_permanently() -> None:
    harness = Harness()
    broken = deliver_sm(3, b"hello")[:-3]
    broken = struct.pack("!I", len(broken)) + broken[4:]
    await harness.deliveries.received(broken, 3, 1)
    assert harness.acks == [(3, 0x65)]


async def test_parts_of_a_long_reply_are_acknowledged_together_after_the_whole_text() -> None:
    harness = Harness()
    await harness.deliveries.received(part(21, 9, 2, 2, b"world"), 21, 1)
    await harness.settle()
    assert harness.acks == [] and harness.inbound == []
    await harness.deliveries.received(part(20, 9, 2, 1, b"hello "), 20, 1)
    await harness.settle()
    assert [t.text for t in harness.inbound] == ["hello world"]
    assert sorted(harness.acks) == [(20, 0), (21, 0)]
    assert harness.inbound[0].sender == "+15557654321"


async def test_an_incomplete_reply_is_handed_up_after_the_timeout() -> None:
    harness = Harness(reassembly_timeout_s=0.05)
    await harness.deliveries.received(part(30, 4, 3, 1, b"first "), 30, 1)
    await harness.deliveries.received(part(32, 4, 3, 3, b"third"), 32, 1)
    await asyncio.sleep(0.15)
    await harness.settle()
    assert [t.text for t in harness.inbound] == ["first third"]
    assert sorted(harness.acks) == [(30, 0), (32, 0)]


async def test_held_parts_are_forgotten_when_the_session_ends() -> None:
    harness = Harness(reassembly_timeout_s=0.05)
    await harness.deliveries.received(part(40, 5, 2, 1, b"a"), 40, 1)
    harness.deliveries.session_ended()  # the SMSC will send the unacknowledged part again
    await asyncio.sleep(0.1)
    await harness.settle()
    assert harness.acks == [] and harness.inbound == []


async def test_concurrency_is_bounded_and_the_reader_waits() -> None:
    harness = Harness()  # 4 slots
    harness.gate.clear()
    for sequence in range(4):
        await harness.deliveries.received(deliver_sm(sequence, b"x"), sequence, 1)
    fifth = asyncio.ensure_future(harness.deliveries.received(deliver_sm(4, b"x"), 4, 1))
    await asyncio.sleep(0.02)
    assert not fifth.done()  # back-pressure on aiosmpplib's reader
    harness.gate.set()
    await fifth
    await harness.settle()
    assert len(harness.acks) == 5


class SinkHarness:
    """Deliveries with a ReceiptSink (as the dispatcher gives): receipts are taken with a
    callback, each stored when the test says so, and the resps queued without waiting."""

    def __init__(self, slots: int = 4) -> None:
        self.acks: list[tuple[int, int]] = []
        self.waiting: list[tuple[DeliveryReceipt, object]] = []
        self.deliveries = Deliveries(self, self.inbound, self.ack, slots, 30.0,
                                     acknowledge_now=self.ack_now)
        self.deliveries.session_started(1)

    async def __call__(self, receipt: DeliveryReceipt) -> None:
        raise AssertionError("a sink's receipts go through add_soon")

    def add_soon(self, receipt: DeliveryReceipt, done) -> None:
        self.waiting.append((receipt, done))

    def store(self, error: BaseException | None = None) -> None:
        for _receipt, done in self.waiting:
            done(error)
        self.waiting.clear()

    async def inbound(self, text: InboundText) -> None:
        return None

    async def ack(self, sequence_num: int, command_status: int, generation: int) -> bool:
        raise AssertionError("a sink's receipts are acknowledged with acknowledge_now")

    def ack_now(self, sequence_num: int, command_status: int, generation: int) -> bool:
        self.acks.append((sequence_num, command_status))
        return True


async def test_a_sink_receipt_is_acknowledged_only_once_stored() -> None:
    harness = SinkHarness()
    await harness.deliveries.received(deliver_sm(7, b"id:1A stat:DELIVRD", esm_class=4), 7, 1)
    await asyncio.sleep(0.01)
    assert [r.carrier_message_id for r, _ in harness.waiting] == ["1A"]
    assert harness.acks == []  # not stored yet
    harness.store()
    assert harness.acks == [(7, 0)]
    await harness.deliveries.drain(1.0)


async def test_a_sink_receipt_that_could_not_be_stored_is_answered_0x64() -> None:
    harness = SinkHarness()
    await harness.deliveries.received(deliver_sm(8, b"id:1 stat:DELIVRD", esm_class=4), 8, 1)
    harness.store(RuntimeError("store down"))
    assert harness.acks == [(8, 0x64)]


async def test_sink_receipts_hold_slots_until_stored_and_drain_waits_for_them() -> None:
    harness = SinkHarness(slots=2)
    for sequence in range(2):
        await harness.deliveries.received(
            deliver_sm(sequence, b"id:%d stat:DELIVRD" % sequence, esm_class=4), sequence, 1)
    third = asyncio.ensure_future(harness.deliveries.received(
        deliver_sm(2, b"id:2 stat:DELIVRD", esm_class=4), 2, 1))
    await asyncio.sleep(0.02)
    assert not third.done()  # back-pressure on the reader, as with tasks
    draining = asyncio.ensure_future(harness.deliveries.drain(1.0))
    await asyncio.sleep(0.02)
    assert not draining.done()  # stop() waits for receipts on their way to the store
    harness.store()
    await third
    harness.store()
    await draining
    assert sorted(harness.acks) == [(0, 0), (1, 0), (2, 0)]
