"""What the simulator records: AcceptedSubmit fields, the JSONL log, reassembly, resets."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from proactive_sms.carriers.smsc_sim import SimulatorConfig, SmscSimulator, gsm7, pdu

from .esme import bound


async def test_accepted_submit_holds_what_was_sent(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    before_s, before_mono = time.time(), time.monotonic()
    resp = await esme.submit(
        "15551234567",
        text=gsm7.encode("Bonus 5€ @ {6pm}"),
        source="18005550100",
        registered_delivery=1,
    )
    [record] = sim.accepted_submits()
    assert before_s <= record.time_s <= time.time()
    assert before_mono <= record.monotonic_s <= time.monotonic()
    assert (record.system_id, record.message_id, record.answered) == ("psms", resp.message_id, True)
    assert (record.source_addr, record.source_ton, record.source_npi) == ("18005550100", 3, 0)
    assert (record.destination_addr, record.destination_ton, record.destination_npi) == (
        "15551234567",
        1,
        1,
    )
    assert (record.esm_class, record.data_coding, record.registered_delivery) == (0, 0, 1)
    assert record.validity_period == ""
    assert record.short_message == gsm7.encode("Bonus 5€ @ {6pm}")
    assert (record.udh, record.text) == (None, "Bonus 5€ @ {6pm}")
    await esme.close()


@pytest.mark.parametrize(
    ("udh", "data_coding", "payload", "expected_udh", "text"),
    [
        (bytes((5, 0, 3, 7, 2, 1)), 0, gsm7.encode("Hello "), (7, 2, 1), "Hello "),
        (bytes((6, 8, 4, 1, 2, 3, 2)), 0, b"ab", (0x0102, 3, 2), "ab"),
        (bytes((5, 0, 3, 1, 2, 2)), 8, "مرحبا".encode("utf-16-be"), (1, 2, 2), "مرحبا"),
        (bytes((3, 0x24, 1, 1)), 0, b"x", None, "x"),  # no concatenation element in the UDH
    ],
)
async def test_udh_is_parsed_and_the_part_text_decoded(
    sim: SmscSimulator,
    udh: bytes,
    data_coding: int,
    payload: bytes,
    expected_udh: tuple[int, int, int] | None,
    text: str,
) -> None:
    esme = await bound(sim.port)
    await esme.submit(text=udh + payload, esm_class=pdu.ESM_UDHI, data_coding=data_coding)
    [record] = sim.accepted_submits()
    assert (record.udh, record.payload, record.text) == (expected_udh, payload, text)
    await esme.close()


async def test_reassembled_joins_parts_by_source_destination_and_ref(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)

    def part(ref: int, total: int, seq: int, text: str) -> bytes:
        return bytes((5, 0, 3, ref, total, seq)) + text.encode("ascii")

    sends = [
        ("15550000001", part(1, 2, 2, "world")),  # parts may arrive out of order
        ("15550000002", part(1, 2, 1, "other ")),  # same ref, other destination
        ("15550000001", part(1, 2, 1, "hello ")),
        ("15550000002", part(1, 2, 2, "number")),
        ("15550000003", b"single"),
        ("15550000001", part(1, 2, 1, "hello ")),  # the whole message re-sent: a duplicate
        ("15550000001", part(1, 2, 2, "world")),
    ]
    for destination, short_message in sends:
        esm_class = pdu.ESM_UDHI if short_message != b"single" else 0
        await esme.submit(destination, text=short_message, esm_class=esm_class)
    assert sim.reassembled() == [
        ("15550000001", "hello world"),
        ("15550000002", "other number"),
        ("15550000003", "single"),
        ("15550000001", "hello world"),
    ]
    await esme.close()


async def test_message_ids_are_unique_across_connections(sim: SmscSimulator) -> None:
    clients = [await bound(sim.port, command=pdu.BIND_TRANSMITTER) for _ in range(3)]
    answers = await asyncio.gather(*(c.submit_nowait() for c in clients for _ in range(20)))
    ids = [a.message_id for a in answers]
    assert len(set(ids)) == 60
    for client in clients:
        await client.close()


async def test_jsonl_log_has_one_line_per_accepted_submit(
    sim: SmscSimulator, tmp_path: Path
) -> None:
    log_path = tmp_path / "sim" / "submits.jsonl"
    sim.configure(log_path=str(log_path), invalid_destination_pattern=r"\+44.*")
    esme = await bound(sim.port)
    answers = await asyncio.gather(
        *(esme.submit_nowait(f"1555000{i:04d}", text=f"n{i}") for i in range(10)),
        esme.submit_nowait("442071234567"),  # refused: not logged
    )
    await asyncio.sleep(0.15)  # flushed within 50 ms, without stopping the simulator
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert len(lines) == 10
    assert [line["message_id"] for line in lines] == [a.message_id for a in answers[:10]]
    assert lines[0] == {
        **lines[0],
        "system_id": "psms",
        "destination_addr": "15550000000",
        "destination_ton": 1,
        "text": "n0",
        "short_message_hex": b"n0".hex(),
        "udh": None,
        "answered": True,
    }
    assert set(lines[0]) >= {"time_s", "monotonic_s", "source_addr", "data_coding", "esm_class"}
    await esme.close()


async def test_jsonl_log_is_complete_after_stop(tmp_path: Path) -> None:
    log_path = tmp_path / "submits.jsonl"
    async with SmscSimulator(SimulatorConfig(log_path=str(log_path))) as sim:
        esme = await bound(sim.port)
        await asyncio.gather(*(esme.submit_nowait(registered_delivery=0) for _ in range(25)))
        await esme.close()
    assert len(log_path.read_text().splitlines()) == 25


async def test_reset_forgets_records_and_counters_but_ids_go_on(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    first = await esme.submit(registered_delivery=0)
    sim.reset()
    assert sim.accepted_submits() == []
    assert sim.stats()["accepted"] == 0
    second = await esme.submit(registered_delivery=0)
    assert int(second.message_id) > int(first.message_id)
    assert sim.stats()["received"] == {"submit_sm": 1}
    await esme.close()


async def test_accepted_submits_since_returns_the_tail(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    for i in range(5):
        await esme.submit(text=f"m{i}", registered_delivery=0)
    assert [r.text for r in sim.accepted_submits(since=3)] == ["m3", "m4"]
    copy = sim.accepted_submits()
    copy.clear()
    assert len(sim.accepted_submits()) == 5
    await esme.close()


async def test_log_path_switched_live_closes_the_old_log_and_fills_the_new(
    sim: SmscSimulator, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    esme = await bound(sim.port)
    sim.configure(log_path=str(first))
    await esme.submit(registered_delivery=0)
    sim.configure(log_path=str(second))
    await esme.submit(registered_delivery=0)
    await esme.submit(registered_delivery=0)
    await esme.close()
    await sim.stop()
    assert len(first.read_text().splitlines()) == 1
    assert len(second.read_text().splitlines()) == 2
