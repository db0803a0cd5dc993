"""Binding, session commands and malformed input, over real TCP."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from proactive_sms.carriers.smsc_sim import SimulatorConfig, SmscSimulator, pdu

from .esme import TIMEOUT_S, RawEsme, bound


@pytest.mark.parametrize("command", [pdu.BIND_TRANSCEIVER, pdu.BIND_TRANSMITTER, pdu.BIND_RECEIVER])
@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [
        ("psms", "secret", pdu.ESME_ROK),
        ("psms", "wrong", pdu.ESME_RINVPASWD),
        ("nobody", "secret", pdu.ESME_RINVSYSID),
    ],
)
async def test_bind_checks_credentials(
    sim: SmscSimulator, command: int, system_id: str, password: str, status: int
) -> None:
    esme = await RawEsme.connect(sim.port)
    resp = await esme.bind(system_id, password, command)
    assert (resp.command_id, resp.status) == (command | pdu.RESP_BIT, status)
    assert resp.body.startswith(b"PSMS-SIM\0")
    await esme.close()


async def test_credentials_changed_live_apply_to_the_next_bind(sim: SmscSimulator) -> None:
    sim.configure(credentials={"acme": "pw1"})
    esme = await RawEsme.connect(sim.port)
    assert (await esme.bind("psms", "secret")).status == pdu.ESME_RINVSYSID
    assert (await esme.bind("acme", "pw1")).status == pdu.ESME_ROK
    await esme.close()


async def test_second_bind_on_a_bound_session_is_refused(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    assert (await esme.bind()).status == pdu.ESME_RALYBND
    await esme.close()


@pytest.mark.parametrize("command", [None, pdu.BIND_RECEIVER])
async def test_submit_needs_a_sending_bind(sim: SmscSimulator, command: int | None) -> None:
    esme = await RawEsme.connect(sim.port)
    if command is not None:
        assert (await esme.bind(command=command)).status == 0
    resp = await esme.submit()
    assert (resp.name, resp.status) == ("submit_sm_resp", pdu.ESME_RINVBNDSTS)
    assert sim.accepted_submits() == []
    await esme.close()


async def test_enquire_link_is_answered_before_and_after_bind(sim: SmscSimulator) -> None:
    esme = await RawEsme.connect(sim.port)
    assert (await esme.request(pdu.ENQUIRE_LINK)).name == "enquire_link_resp"
    await esme.bind()
    resp = await esme.request(pdu.ENQUIRE_LINK)
    assert (resp.name, resp.status) == ("enquire_link_resp", 0)
    await esme.close()


async def test_unbind_is_answered_then_the_connection_closes(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    resp = await esme.request(pdu.UNBIND)
    assert (resp.name, resp.status) == ("unbind_resp", 0)
    await asyncio.wait_for(esme.closed.wait(), TIMEOUT_S)
    assert sim.stats()["sessions"] == []


# A submit_sm body up to (not including) sm_length.
_SUBMIT_HEAD = b"\0\x01\x01a\0\x01\x01b\0" + b"\0" * 6 + b"\x01\0\0"


@pytest.mark.parametrize(
    ("command", "body", "status"),
    [
        (0x00000777, b"", pdu.ESME_RINVCMDID),  # unknown command id
        (pdu.QUERY_SM, b"1\0\x00\x00\0", pdu.ESME_RINVCMDID),  # known, not supported
        (pdu.SUBMIT_SM, b"\0\x01\x01123", pdu.ESME_RINVMSGLEN),  # truncated body
        (pdu.SUBMIT_SM, _SUBMIT_HEAD + b"\x09hi", pdu.ESME_RINVMSGLEN),  # sm_length 9, 2 sent
        (pdu.SUBMIT_SM, _SUBMIT_HEAD + b"\x02hi\x04\x24", pdu.ESME_RINVMSGLEN),  # cut TLV
    ],
)
async def test_garbage_gets_generic_nack_and_the_session_goes_on(
    sim: SmscSimulator, command: int, body: bytes, status: int
) -> None:
    esme = await bound(sim.port, command=pdu.BIND_TRANSMITTER)
    resp = await esme.request(command, body)
    assert (resp.name, resp.status) == ("generic_nack", status)
    assert (await esme.request(pdu.ENQUIRE_LINK)).name == "enquire_link_resp"
    assert (await esme.submit()).status == 0
    await esme.close()


async def test_truncated_bind_gets_generic_nack_and_binding_still_works(sim: SmscSimulator) -> None:
    esme = await RawEsme.connect(sim.port)
    resp = await esme.request(pdu.BIND_TRANSCEIVER, b"psms")  # no terminator, no password
    assert (resp.name, resp.status) == ("generic_nack", pdu.ESME_RINVMSGLEN)
    assert (await esme.bind()).status == 0
    await esme.close()


@pytest.mark.parametrize("length", [8, 15, 10_000_000])
async def test_impossible_command_length_gets_generic_nack_and_a_close(
    sim: SmscSimulator, length: int
) -> None:
    esme = await RawEsme.connect(sim.port)
    resp = await asyncio.wait_for(
        esme.send_raw(struct.pack(">IIII", length, pdu.ENQUIRE_LINK, 0, 42), 42), TIMEOUT_S
    )
    assert (resp.name, resp.status) == ("generic_nack", pdu.ESME_RINVCMDLEN)
    await asyncio.wait_for(esme.closed.wait(), TIMEOUT_S)
    assert sim.stats()["counters"]["malformed_pdu"] == 1


async def test_pdus_split_across_reads_are_reassembled(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    body = pdu.build_sm_body("12345", 3, 0, "15551234567", 1, 1, 0, 0, b"split")
    data = pdu.pdu(pdu.SUBMIT_SM, 0, 99, body)
    future = esme.send_raw(data[:5], 99)
    await esme.writer.drain()
    await asyncio.sleep(0.01)
    esme.writer.write(data[5:])
    resp = await asyncio.wait_for(future, TIMEOUT_S)
    assert (resp.name, resp.status) == ("submit_sm_resp", 0)
    await esme.close()


async def test_received_pdus_are_counted_by_command(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    await esme.request(pdu.ENQUIRE_LINK)
    await esme.submit(registered_delivery=0)
    await esme.submit(registered_delivery=0)
    received = sim.stats()["received"]
    assert received == {"bind_transceiver": 1, "enquire_link": 1, "submit_sm": 2}
    await esme.close()


def test_thread_mode_serves_a_blocking_client() -> None:
    config = SimulatorConfig(message_id_start=5)
    with SmscSimulator(config) as sim, socket.create_connection(("127.0.0.1", sim.port)) as sock:
        sock.sendall(pdu.pdu(pdu.BIND_TRANSMITTER, 0, 1, pdu.bind_body("psms", "secret")))
        body = pdu.build_sm_body("12345", 3, 0, "15551234567", 1, 1, 0, 0, b"sync")
        sock.sendall(pdu.pdu(pdu.SUBMIT_SM, 0, 2, body))
        replies = _read_pdus(sock, 2)
        assert [(c, s, q) for c, s, q, _ in replies] == [
            (pdu.BIND_TRANSMITTER | pdu.RESP_BIT, 0, 1),
            (pdu.SUBMIT_SM | pdu.RESP_BIT, 0, 2),
        ]
        assert replies[1][3] == b"5\0"
        assert [s.text for s in sim.accepted_submits()] == ["sync"]
        assert sim.stats()["accepted"] == 1


def _read_pdus(sock: socket.socket, count: int) -> list[tuple[int, int, int, bytes]]:
    sock.settimeout(TIMEOUT_S)
    data = b""
    found: list[tuple[int, int, int, bytes]] = []
    while len(found) < count:
        data += sock.recv(4096)
        while len(data) >= 16 and len(data) >= struct.unpack_from(">I", data)[0]:
            length, command, status, sequence = struct.unpack_from(">IIII", data)
            found.append((command, status, sequence, data[16:length]))
            data = data[length:]
    return found
