"""Injected mobile-originated texts: encoding, addressing, parts, routing and acknowledgement."""

from __future__ import annotations

import asyncio

import pytest

from proactive_sms.carriers.smsc_sim import SimulatorConfig, SmscSimulator, pdu
from proactive_sms.carriers.smsc_sim.inbound import address

from .esme import TIMEOUT_S, bound


@pytest.mark.parametrize(
    ("text", "data_coding"),
    [
        ("STOP", 0),
        ("Price is 5€ [ok] {yes} ~ \\ |", 0),  # extension-table characters stay GSM-7
        ("شكرا لكم", 8),  # Arabic needs UCS-2
        ("Thanks 🙂", 8),  # a surrogate pair
    ],
)
async def test_inject_reaches_a_transceiver_and_returns_once_acknowledged(
    sim: SmscSimulator, text: str, data_coding: int
) -> None:
    esme = await bound(sim.port)
    status = await asyncio.wait_for(sim.inject_inbound("+15551234567", "12345", text), TIMEOUT_S)
    assert status == 0
    deliver = await esme.next_deliver()
    sm = deliver.sm
    assert (sm.esm_class, sm.data_coding) == (0, data_coding)
    assert (sm.source_addr, sm.source_addr_ton, sm.source_addr_npi) == ("15551234567", 1, 1)
    assert (sm.destination_addr, sm.dest_addr_ton, sm.dest_addr_npi) == ("12345", 3, 0)
    assert deliver.text == text
    assert sim.stats()["counters"]["inbound_acked"] == 1
    await esme.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+15551234567", ("15551234567", 1, 1)),
        ("12345", ("12345", 3, 0)),
        ("5551234567", ("5551234567", 0, 1)),
        ("ACME", ("ACME", 5, 0)),
    ],
)
def test_inbound_addresses_get_the_usual_ton_npi(
    value: str, expected: tuple[str, int, int]
) -> None:
    assert address(value) == expected


@pytest.mark.parametrize(
    ("text", "parts", "data_coding"),
    [("x" * 161, 2, 0), ("€" * 100, 2, 0), ("ع" * 71, 2, 8), ("🙂" * 40, 2, 8)],
)
async def test_long_inbound_text_arrives_as_udh_parts(
    sim: SmscSimulator, text: str, parts: int, data_coding: int
) -> None:
    esme = await bound(sim.port)
    assert await asyncio.wait_for(sim.inject_inbound("+15551234567", "12345", text), TIMEOUT_S) == 0
    delivers = [await esme.next_deliver() for _ in range(parts)]
    udhs = [d.sm.short_message[:6] for d in delivers]
    assert [u[:3] for u in udhs] == [b"\x05\x00\x03"] * parts
    assert [(u[4], u[5]) for u in udhs] == [(parts, seq) for seq in range(1, parts + 1)]
    assert len({u[3] for u in udhs}) == 1  # one reference for all parts
    assert all(d.sm.esm_class == pdu.ESM_UDHI and d.sm.data_coding == data_coding for d in delivers)
    assert "".join(d.text for d in delivers) == text
    await esme.close()


async def test_forced_gsm7_refuses_text_outside_the_alphabet(sim: SmscSimulator) -> None:
    with pytest.raises(ValueError, match="GSM"):
        await sim.inject_inbound("+15551234567", "12345", "مرحبا", data_coding=0)


async def test_inject_before_any_bind_is_held_and_completes_on_bind(sim: SmscSimulator) -> None:
    pending = asyncio.ensure_future(sim.inject_inbound("+15551234567", "12345", "hello"))
    await asyncio.sleep(0.05)
    assert not pending.done()
    assert sim.stats()["held_deliver_sm"] == 1
    esme = await bound(sim.port, command=pdu.BIND_RECEIVER)
    assert await asyncio.wait_for(pending, TIMEOUT_S) == 0
    assert (await esme.next_deliver()).text == "hello"
    await esme.close()


async def test_inject_never_goes_to_a_transmitter(sim: SmscSimulator) -> None:
    transmitter = await bound(sim.port, command=pdu.BIND_TRANSMITTER)
    pending = asyncio.ensure_future(sim.inject_inbound("+15551234567", "12345", "hi"))
    assert await transmitter.no_deliver_within(0.05)
    assert not pending.done()
    receiver = await bound(sim.port, command=pdu.BIND_TRANSCEIVER)
    assert await asyncio.wait_for(pending, TIMEOUT_S) == 0
    await transmitter.close()
    await receiver.close()


async def test_inject_returns_the_clients_error_status(sim: SmscSimulator) -> None:
    esme = await bound(sim.port, ack_status=pdu.ESME_RSYSERR)
    status = await asyncio.wait_for(sim.inject_inbound("+15551234567", "12345", "hi"), TIMEOUT_S)
    assert status == pdu.ESME_RSYSERR
    assert sim.stats()["counters"]["inbound_nacked"] == 1
    await esme.close()


async def test_pending_injection_fails_when_the_simulator_stops() -> None:
    sim = SmscSimulator(SimulatorConfig())
    await sim.start()
    pending = asyncio.ensure_future(sim.inject_inbound("+15551234567", "12345", "hi"))
    await asyncio.sleep(0.01)
    await sim.stop()
    with pytest.raises(ConnectionError):
        await pending


async def test_thread_mode_injection_from_another_loop() -> None:
    with SmscSimulator(SimulatorConfig()) as sim:
        esme = await bound(sim.port)
        # Awaited from this loop while the simulator runs its own loop in a thread.
        assert await asyncio.wait_for(sim.inject_inbound("+15551234567", "12345", "a"), 2) == 0
        future = sim.inject_inbound_threadsafe("+15551234567", "12345", "b")
        assert await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT_S) == 0
        assert [(await esme.next_deliver()).text for _ in range(2)] == ["a", "b"]
        await esme.close()
