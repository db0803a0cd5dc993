"""The misbehaviour catalogue's knobs, seen from the wire with the raw ESME: what each one makes
the simulator do, that each is settable from a JSON config file and over the control API like the
older knobs, and that a bad value is refused naming the knob."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from proactive_sms.carriers.smsc_sim import (
    ConfigError,
    SimulatorConfig,
    SimulatorControl,
    SmscSimulator,
    pdu,
)
from proactive_sms.carriers.smsc_sim.config import MALFORMED_KINDS

from .esme import TIMEOUT_S, RawEsme, bound

CATALOGUE = {
    "black_hole": True,
    "bind_refusal_status": 0x0D,
    "malformed_ratio": 0.5,
    "malformed_kind": "long_length",
    "split_writes_octets": 3,
    "deliver_before_bind_resp": True,
    "unknown_receipt_ratio": 0.25,
    "drop_mid_pdu": True,
}


def test_every_catalogue_knob_is_read_from_a_json_config(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    path.write_text(json.dumps(CATALOGUE))
    config = SimulatorConfig.from_json_file(path)
    assert {knob: getattr(config, knob) for knob in CATALOGUE} == CATALOGUE


def test_every_catalogue_knob_is_set_over_the_control_api() -> None:
    with SmscSimulator(SimulatorConfig(), control_port=0) as sim:
        assert sim.control_url is not None
        config = SimulatorControl(sim.control_url).configure(**CATALOGUE)
    assert {knob: config[knob] for knob in CATALOGUE} == CATALOGUE


@pytest.mark.parametrize(
    ("knobs", "named"),
    [
        ({"black_hole": "yes"}, "black_hole"),
        ({"bind_refusal_status": 0}, "bind_refusal_status"),
        ({"malformed_ratio": 1.5}, "malformed_ratio"),
        ({"malformed_kind": "gibberish"}, "malformed_kind"),
        ({"split_writes_octets": 0}, "split_writes_octets"),
        ({"unknown_receipt_ratio": -0.1}, "unknown_receipt_ratio"),
        ({"drop_mid_pdu": 1}, "drop_mid_pdu"),
    ],
)
def test_bad_catalogue_values_are_refused_naming_the_knob(knobs: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        SimulatorConfig().with_knobs(**knobs)


async def test_black_hole_reads_everything_and_answers_nothing(sim: SmscSimulator) -> None:
    sim.configure(black_hole=True)
    esme = await RawEsme.connect(sim.port)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(esme.bind(), 0.3)
    assert not esme.closed.is_set()  # accepted and held open: a hole, not a refusal
    sim.configure(black_hole=False)
    assert (await esme.bind()).status == 0
    await esme.close()


async def test_bind_refusal_status_refuses_good_credentials(sim: SmscSimulator) -> None:
    sim.configure(bind_refusal_status=0x0D)
    esme = await RawEsme.connect(sim.port)
    assert (await esme.bind()).status == 0x0D
    sim.configure(bind_refusal_status=None)
    assert (await esme.bind()).status == 0
    await esme.close()


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
async def test_malformed_kinds_replace_the_resp_of_a_recorded_submit(
    sim: SmscSimulator, kind: str
) -> None:
    sim.configure(malformed_ratio=1.0, malformed_kind=kind)
    esme = await bound(sim.port)
    answer = esme.submit_nowait(registered_delivery=0)
    await asyncio.sleep(0.2)
    assert len(sim.accepted_submits()) == 1
    assert sim.stats()["counters"]["malformed_sent"] == 1
    answered = answer.done() and answer.exception() is None
    # The real resp follows framed garbage only; the rest leaves the raw client nothing to read.
    assert answered == (kind in ("unknown_command", "truncated_deliver_sm"))
    if answered:
        assert answer.result().status == 0
    answer.cancel()
    await esme.close()


async def test_split_writes_arrive_in_pieces_and_whole(sim: SmscSimulator) -> None:
    sim.configure(split_writes_octets=4)
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(pdu.pdu(pdu.ENQUIRE_LINK, 0, 1))
    pieces = [await asyncio.wait_for(reader.read(100), TIMEOUT_S) for _ in range(4)]
    assert [len(p) for p in pieces] == [4, 4, 4, 4]
    assert b"".join(pieces) == pdu.pdu(pdu.ENQUIRE_LINK | pdu.RESP_BIT, 0, 1)
    writer.close()


async def test_deliver_before_bind_resp_puts_held_texts_ahead_of_it(sim: SmscSimulator) -> None:
    sim.configure(deliver_before_bind_resp=True)
    sim.inject_inbound_nowait("+15557654321", "12345", "STOP")
    esme = await RawEsme.connect(sim.port)
    await esme.bind()
    assert [p.name for p in esme.arrivals] == ["deliver_sm", "bind_transceiver_resp"]
    await esme.close()


async def test_unknown_receipt_carries_an_id_never_issued(sim: SmscSimulator) -> None:
    sim.configure(unknown_receipt_ratio=1.0)
    esme = await bound(sim.port)
    resp = await esme.submit()
    ids = {(await esme.next_deliver()).sm.tlvs[pdu.TLV_RECEIPTED_MESSAGE_ID] for _ in range(2)}
    assert ids == {resp.message_id.encode() + b"\0", b"X" + resp.message_id.encode() + b"\0"}
    await esme.close()


async def test_drop_mid_pdu_closes_with_half_a_resp_on_the_wire(sim: SmscSimulator) -> None:
    sim.configure(drop_connection_after=1, drop_mid_pdu=True)
    esme = await bound(sim.port)
    raw_reads: list[bytes] = []
    assert esme._task is not None
    esme._task.cancel()  # read the socket ourselves: the half PDU is the point
    await asyncio.gather(esme._task, return_exceptions=True)
    esme.submit_nowait(registered_delivery=0)
    while chunk := await asyncio.wait_for(esme.reader.read(100), TIMEOUT_S):
        raw_reads.append(chunk)
    received = b"".join(raw_reads)
    assert 0 < len(received) < 16 + len(sim.accepted_submits()[0].message_id) + 1
    assert sim.stats()["counters"]["connections_dropped"] == 1
    esme.writer.close()
