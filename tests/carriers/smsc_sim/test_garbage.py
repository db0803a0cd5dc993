"""Malformed frames never crash the simulator's connection loop: a test per kind of garbage an ESME
can send, over TCP. Each one is answered (generic_nack) or ends that connection alone; the
simulator goes on serving, and no exception reaches the event loop."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proactive_sms.carriers.smsc_sim import SmscSimulator, pdu

from .esme import TIMEOUT_S, RawEsme, bound

_SUBMIT_HEAD = b"\0\x03\x0012345\0\x01\x0115551234567\0\x00\x00\x00\0\0\x01\x00\x00\x00"


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """Whatever the event loop was told about an exception in a callback (data_received...)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    loop.set_exception_handler(previous)


async def _still_serves(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    assert (await esme.submit()).status == 0
    await esme.close()


async def _answered_or_closed(esme: RawEsme) -> None:
    """The connection is either still answering enquire_link or was closed by the simulator."""
    if esme.closed.is_set():
        return
    try:
        resp = await asyncio.wait_for(esme.send(pdu.ENQUIRE_LINK), TIMEOUT_S)
    except ConnectionError:
        return
    except TimeoutError:
        # Garbage that announced a long PDU leaves the simulator waiting for the rest of it;
        # it is waiting, not dead: closing our side must not disturb anything else.
        return
    assert resp.name in ("enquire_link_resp", "generic_nack")


GARBAGE = {
    "random_octets": bytes(range(7, 70)),
    "header_only_below_16": struct.pack(">IIII", 12, pdu.SUBMIT_SM, 0, 1),
    "huge_length": struct.pack(">IIII", 0xFFFFFFF0, pdu.SUBMIT_SM, 0, 1) + b"x" * 20,
    "unknown_command": pdu.pdu(0x0000ABCD, 0, 5, b"abc"),
    "response_for_nothing": pdu.pdu(pdu.SUBMIT_SM | pdu.RESP_BIT, 0, 77, b"1\0"),
    "deliver_sm_resp_for_nothing": pdu.pdu(pdu.DELIVER_SM | pdu.RESP_BIT, 0, 12345, b"\0"),
    "generic_nack_for_nothing": pdu.pdu(pdu.GENERIC_NACK, 8, 999),
    "submit_sm_without_terminators": pdu.pdu(pdu.SUBMIT_SM, 0, 6, b"\x01" * 40),
    "submit_sm_udh_longer_than_message": pdu.pdu(
        pdu.SUBMIT_SM, 0, 7, _SUBMIT_HEAD[:-1] + b"\x40\x00\x00\0\0\x01\x00\x00\x00\x03\xff\x00\x03"
    ),
    "submit_sm_tlv_past_the_end": pdu.pdu(
        pdu.SUBMIT_SM, 0, 8, _SUBMIT_HEAD + b"\x02hi\x04\x24\xff"
    ),
    "submit_sm_odd_ucs2_with_receipt": pdu.pdu(
        pdu.SUBMIT_SM, 0, 9, _SUBMIT_HEAD[:-3] + b"\x00\x08\x00\x03\xd8\x00\x41"
    ),
    "bind_without_terminators": pdu.pdu(pdu.BIND_TRANSCEIVER, 0, 10, b"psms"),
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
async def test_garbage_never_crashes_the_connection_loop(
    sim: SmscSimulator, loop_errors: list[dict[str, Any]], kind: str
) -> None:
    esme = await bound(sim.port)
    esme.writer.write(GARBAGE[kind])
    await _answered_or_closed(esme)
    await esme.close()
    await _still_serves(sim)
    assert loop_errors == []


async def test_a_pdu_cut_by_the_client_closing_leaves_the_simulator_serving(
    sim: SmscSimulator, loop_errors: list[dict[str, Any]]
) -> None:
    esme = await bound(sim.port)
    whole = pdu.pdu(pdu.SUBMIT_SM, 0, 3, _SUBMIT_HEAD + b"\x02hi")
    esme.writer.write(whole[: len(whole) // 2])
    await esme.writer.drain()
    await esme.close()
    await _still_serves(sim)
    assert sim.stats()["accepted"] == 1  # only the later, whole submit
    assert loop_errors == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    command=st.sampled_from(
        [pdu.SUBMIT_SM, pdu.BIND_TRANSCEIVER, pdu.DELIVER_SM | pdu.RESP_BIT, pdu.ENQUIRE_LINK,
         pdu.UNBIND, pdu.GENERIC_NACK, 0x12345678]
    ),
    body=st.binary(max_size=300),
)
async def test_any_body_after_a_valid_header_is_answered_or_ends_only_its_connection(
    sim: SmscSimulator, loop_errors: list[dict[str, Any]], command: int, body: bytes
) -> None:
    esme = await bound(sim.port)
    esme.writer.write(pdu.pdu(command, 0, 11, body))
    await _answered_or_closed(esme)
    await esme.close()
    assert loop_errors == []
