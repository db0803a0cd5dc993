"""Fault knobs: each one alone, as incoming submit_sm -> expected answer and record."""

from __future__ import annotations

import asyncio
import time

import pytest

from proactive_sms.carriers.smsc_sim import (
    ConfigError,
    SimulatorConfig,
    SmscSimulator,
    pdu,
)
from proactive_sms.carriers.smsc_sim.faults import ThrottleWindows

from .esme import TIMEOUT_S, RawEsme, bound


async def _start_of_a_second() -> None:
    """Wait until early in a whole second of time.monotonic(), so a burst fits in one window."""
    fraction = time.monotonic() % 1
    if fraction > 0.5:
        await asyncio.sleep(1.0 - fraction + 0.01)


@pytest.mark.parametrize(
    ("knobs", "destination", "answer", "status", "recorded"),
    [
        ({}, "15551234567", "submit_sm_resp", pdu.ESME_ROK, True),
        ({"queue_full_ratio": 1.0}, "15551234567", "submit_sm_resp", pdu.ESME_RMSGQFUL, False),
        (
            {"invalid_destination_pattern": r"\+1555.*"},
            "15551234567",
            "submit_sm_resp",
            pdu.ESME_RINVDSTADR,
            False,
        ),
        (
            {"invalid_destination_pattern": r"\+1555.*"},
            "442071234567",
            "submit_sm_resp",
            pdu.ESME_ROK,
            True,
        ),
        ({"generic_nack_ratio": 1.0}, "15551234567", "generic_nack", pdu.ESME_RSYSERR, False),
    ],
)
async def test_refusals(
    sim: SmscSimulator,
    knobs: dict[str, object],
    destination: str,
    answer: str,
    status: int,
    recorded: bool,
) -> None:
    sim.configure(**knobs)
    esme = await bound(sim.port)
    resp = await esme.submit(destination)
    assert (resp.name, resp.status) == (answer, status)
    assert len(sim.accepted_submits()) == int(recorded)
    if not recorded:
        assert await esme.no_deliver_within(0.05)  # a refused submit never gets a receipt
    await esme.close()


async def test_refused_submits_are_counted_by_error_code(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    sim.configure(queue_full_ratio=1.0)
    await asyncio.gather(esme.submit(), esme.submit())
    sim.configure(queue_full_ratio=0.0, invalid_destination_pattern=r"\+1555.*")
    await esme.submit()
    assert sim.stats()["refused"] == {"0x0B": 1, "0x14": 2}
    await esme.close()


async def test_throttle_answers_0x58_only_above_n_in_one_second(sim: SmscSimulator) -> None:
    sim.configure(
        throttle_above_per_s=5,
        credentials={"psms": "secret", "other": "pw"},
        receipt_delay_s=0,
    )
    first = await bound(sim.port, command=pdu.BIND_TRANSMITTER)
    second = await bound(sim.port, command=pdu.BIND_TRANSMITTER, system_id="other", password="pw")
    await _start_of_a_second()
    answers = await asyncio.gather(*(first.submit_nowait() for _ in range(8)))
    other = await asyncio.gather(*(second.submit_nowait() for _ in range(5)))
    assert [a.status for a in answers] == [0] * 5 + [pdu.ESME_RTHROTTLED] * 3
    assert [a.status for a in other] == [0] * 5  # the window is per system_id
    for esme in (first, second):
        await esme.close()


@pytest.mark.parametrize(
    ("arrivals_s", "admitted"),
    [
        ([10.0, 10.1, 10.2, 10.99], [True, True, False, False]),
        ([10.5, 10.9, 11.0, 11.1, 11.2], [True, True, True, True, False]),  # a new second
        ([10.0, 10.5, 12.0, 12.5, 12.6], [True, True, True, True, False]),
    ],
)
def test_throttle_windows_are_whole_seconds(arrivals_s: list[float], admitted: list[bool]) -> None:
    windows = ThrottleWindows()
    assert [windows.admit("psms", 2, t) for t in arrivals_s] == admitted


async def test_no_response_accepts_and_records_but_never_answers(sim: SmscSimulator) -> None:
    sim.configure(no_response_ratio=1.0)
    esme = await bound(sim.port)
    future = esme.submit_nowait()
    await asyncio.sleep(0.1)
    assert not future.done()
    [record] = sim.accepted_submits()
    assert record.answered is False
    assert sim.stats()["counters"]["no_response"] == 1
    await esme.close()


async def test_no_response_pattern_silences_matching_destinations_only(sim: SmscSimulator) -> None:
    sim.configure(no_response_pattern=r"\+1555.*")
    esme = await bound(sim.port)
    silent = esme.submit_nowait("15551234567")
    assert (await esme.submit("442071234567")).status == 0
    await asyncio.sleep(0.05)
    assert not silent.done()
    assert [r.answered for r in sim.accepted_submits()] == [False, True]
    await esme.close()


async def test_response_delay_holds_every_submit_sm_resp(sim: SmscSimulator) -> None:
    sim.configure(response_delay_s=0.1)
    esme = await bound(sim.port)
    started = time.monotonic()
    answers = await asyncio.gather(*(esme.submit_nowait() for _ in range(3)))
    assert time.monotonic() - started >= 0.1
    assert [a.status for a in answers] == [0, 0, 0]
    await esme.close()


@pytest.mark.parametrize(("repeat", "second_drops"), [(False, False), (True, True)])
async def test_drop_connection_after_n_accepted_submits(
    sim: SmscSimulator, repeat: bool, second_drops: bool
) -> None:
    sim.configure(drop_connection_after=3, drop_connection_repeat=repeat, receipt_delay_s=0)
    esme = await bound(sim.port, command=pdu.BIND_TRANSMITTER)
    futures = [esme.submit_nowait() for _ in range(5)]
    await asyncio.wait_for(esme.closed.wait(), TIMEOUT_S)
    answered = [f.result().status for f in futures[:3]]
    assert answered == [0, 0, 0]
    assert all(isinstance(f.exception(), ConnectionError) for f in futures[3:])
    assert len(sim.accepted_submits()) == 3  # the two after the third were never taken

    again = await bound(sim.port, command=pdu.BIND_TRANSMITTER)
    for _ in range(3):
        assert (await again.submit()).status == 0
    await asyncio.sleep(0.05)
    assert again.closed.is_set() is second_drops
    assert sim.stats()["counters"]["connections_dropped"] == (2 if second_drops else 1)
    await again.close()


async def test_same_seed_gives_the_same_faults(sim: SmscSimulator) -> None:
    async def pattern(simulator: SmscSimulator) -> list[int]:
        esme = await bound(simulator.port, command=pdu.BIND_TRANSMITTER)
        answers = await asyncio.gather(*(esme.submit_nowait() for _ in range(40)))
        await esme.close()
        return [a.status for a in answers]

    config = SimulatorConfig(queue_full_ratio=0.5, seed=11)
    async with SmscSimulator(config) as one, SmscSimulator(config) as two:
        first, second = await pattern(one), await pattern(two)
    assert first == second
    assert set(first) == {0, pdu.ESME_RMSGQFUL}


@pytest.mark.parametrize(
    ("knobs", "named"),
    [
        ({"queue_full_ratio": 1.5}, "queue_full_ratio"),
        ({"invalid_destination_pattern": "("}, "invalid_destination_pattern"),
        ({"receipt_outcomes": {"lost": 1}}, "receipt_outcomes"),
        ({"message_id_format": "base64"}, "message_id_format"),
        ({"drop_connection_after": 0}, "drop_connection_after"),
        ({"no_such_knob": 1}, "no_such_knob"),
    ],
)
async def test_bad_knobs_are_refused_by_name_and_change_nothing(
    sim: SmscSimulator, knobs: dict[str, object], named: str
) -> None:
    before = sim.config
    with pytest.raises(ConfigError, match=named):
        sim.configure(**knobs)
    assert sim.config == before
    esme = await RawEsme.connect(sim.port)
    await esme.bind()
    assert (await esme.submit()).status == 0
    await esme.close()
