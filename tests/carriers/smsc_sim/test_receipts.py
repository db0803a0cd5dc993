"""Delivery receipts: text, TLVs, id spellings, outcomes, duplicates, ordering and routing."""

from __future__ import annotations

import asyncio
import re

import pytest

from proactive_sms.carriers.smsc_sim import SmscSimulator, pdu

from .esme import Pdu, bound

RECEIPT_RE = re.compile(
    r"id:(?P<id>\w+) sub:001 dlvrd:(?P<dlvrd>\d{3}) submit date:(?P<submit>\d{10}) "
    r"done date:(?P<done>\d{10}) stat:(?P<stat>[A-Z]{7}) err:(?P<err>\d{3}) text:(?P<text>.*)"
)


def receipt_fields(deliver: Pdu) -> dict[str, str | int]:
    sm = deliver.sm
    assert sm.esm_class == pdu.ESM_RECEIPT
    match = RECEIPT_RE.fullmatch(sm.short_message.decode("ascii"))
    assert match, sm.short_message
    return {
        **match.groupdict(),
        "receipted_message_id": sm.tlvs[pdu.TLV_RECEIPTED_MESSAGE_ID].rstrip(b"\0").decode(),
        "message_state": sm.tlvs[pdu.TLV_MESSAGE_STATE][0],
        "source": sm.source_addr,
        "destination": sm.destination_addr,
    }


async def test_submit_gets_an_id_and_a_receipt_with_text_and_tlvs(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    resp = await esme.submit("15551234567", text="Bonus shift open tonight at 6")
    assert (resp.name, resp.status, resp.message_id) == ("submit_sm_resp", 0, "1000")
    fields = receipt_fields(await esme.next_deliver())
    assert fields | {"submit": "", "done": ""} == {
        "id": "1000",
        "dlvrd": "001",
        "submit": "",
        "done": "",
        "stat": "DELIVRD",
        "err": "000",
        "text": "Bonus shift open ton",  # the first 20 characters
        "receipted_message_id": "1000",
        "message_state": 2,
        "source": "15551234567",  # addresses swapped: the receipt comes from the handset
        "destination": "12345",
    }
    await esme.close()


@pytest.mark.parametrize(
    ("message_id_format", "receipt_id_format", "resp_id", "receipt_id"),
    [
        ("decimal", "same", "1000", "1000"),
        ("hex", "same", "3E8", "3E8"),
        ("hex", "decimal", "3E8", "1000"),
        ("decimal", "hex", "1000", "3E8"),
    ],
)
async def test_receipt_id_spelling(
    sim: SmscSimulator,
    message_id_format: str,
    receipt_id_format: str,
    resp_id: str,
    receipt_id: str,
) -> None:
    sim.configure(message_id_format=message_id_format, receipt_id_format=receipt_id_format)
    esme = await bound(sim.port)
    assert (await esme.submit()).message_id == resp_id
    fields = receipt_fields(await esme.next_deliver())
    assert (fields["id"], fields["receipted_message_id"]) == (receipt_id, receipt_id)
    assert sim.accepted_submits()[0].message_id == resp_id
    await esme.close()


@pytest.mark.parametrize(
    ("knobs", "destination", "stat", "err", "state"),
    [
        ({"receipt_outcomes": {"undeliverable": 1}}, "15551234567", "UNDELIV", "001", 5),
        ({"receipt_outcomes": {"expired": 1}}, "15551234567", "EXPIRED", "000", 3),
        (
            {"receipt_outcome_by_destination": {r"\+1555.*": "undeliverable"}},
            "15551234567",
            "UNDELIV",
            "001",
            5,
        ),
        (
            {"receipt_outcome_by_destination": {r"\+1555.*": "undeliverable"}},
            "15559990000",  # also matches: the pattern sees E.164 with '+'
            "UNDELIV",
            "001",
            5,
        ),
        (
            {"receipt_outcome_by_destination": {r"\+1555.*": "undeliverable"}},
            "442071234567",
            "DELIVRD",
            "000",
            2,
        ),
    ],
)
async def test_receipt_outcome_by_mix_and_by_destination(
    sim: SmscSimulator, knobs: dict[str, object], destination: str, stat: str, err: str, state: int
) -> None:
    sim.configure(**knobs)
    esme = await bound(sim.port)
    await esme.submit(destination)
    fields = receipt_fields(await esme.next_deliver())
    assert (fields["stat"], fields["err"], fields["message_state"]) == (stat, err, state)
    assert fields["dlvrd"] == ("001" if stat == "DELIVRD" else "000")
    await esme.close()


async def test_outcome_ratios_follow_the_mix_reproducibly(sim: SmscSimulator) -> None:
    sim.configure(receipt_outcomes={"delivered": 0.5, "undeliverable": 0.5}, seed=3)
    esme = await bound(sim.port)
    await asyncio.gather(*(esme.submit_nowait() for _ in range(200)))
    stats = [receipt_fields(await esme.next_deliver())["stat"] for _ in range(200)]
    assert 60 < stats.count("DELIVRD") < 140
    assert set(stats) == {"DELIVRD", "UNDELIV"}
    await esme.close()


@pytest.mark.parametrize(
    ("registered_delivery", "outcome", "receipts"),
    [(0, "delivered", 0), (1, "delivered", 1), (2, "delivered", 0), (2, "undeliverable", 1)],
)
async def test_receipt_only_when_registered_delivery_asks(
    sim: SmscSimulator, registered_delivery: int, outcome: str, receipts: int
) -> None:
    sim.configure(receipt_outcomes={outcome: 1})
    esme = await bound(sim.port)
    await esme.submit(registered_delivery=registered_delivery)
    if receipts:
        await esme.next_deliver()
    assert await esme.no_deliver_within(0.05)
    await esme.close()


async def test_duplicate_receipts_send_the_same_receipt_twice(sim: SmscSimulator) -> None:
    sim.configure(duplicate_receipts=1.0)
    esme = await bound(sim.port)
    resp = await esme.submit()
    first, second = await esme.next_deliver(), await esme.next_deliver()
    assert first.body == second.body
    assert receipt_fields(first)["id"] == resp.message_id
    assert await esme.no_deliver_within(0.05)
    await esme.close()


async def test_receipt_before_resp_is_written_ahead_of_the_submit_sm_resp(
    sim: SmscSimulator,
) -> None:
    sim.configure(receipt_before_resp=1.0, receipt_delay_s=1.0)
    esme = await bound(sim.port)
    resp = await esme.submit()
    names = [p.name for p in esme.arrivals]
    assert names[-2:] == ["deliver_sm", "submit_sm_resp"]
    assert receipt_fields(esme.arrivals[-2])["id"] == resp.message_id
    await esme.close()


async def test_one_receipt_per_part_of_a_long_message(sim: SmscSimulator) -> None:
    esme = await bound(sim.port)
    ids = []
    for seq in (1, 2, 3):
        udh = bytes((5, 0, 3, 9, 3, seq))
        ids.append((await esme.submit(text=udh + b"part", esm_class=pdu.ESM_UDHI)).message_id)
    receipt_ids = sorted([str(receipt_fields(await esme.next_deliver())["id"]) for _ in ids])
    assert receipt_ids == sorted(ids)
    await esme.close()


async def test_receipts_of_a_transmitter_go_to_a_receiver_of_the_same_system_id(
    sim: SmscSimulator,
) -> None:
    sim.configure(credentials={"psms": "secret", "other": "pw"})
    sender = await bound(sim.port, command=pdu.BIND_TRANSMITTER)
    stranger = await bound(sim.port, command=pdu.BIND_RECEIVER, system_id="other", password="pw")
    receiver = await bound(sim.port, command=pdu.BIND_RECEIVER)
    resp = await sender.submit()
    assert receipt_fields(await receiver.next_deliver())["id"] == resp.message_id
    assert await stranger.no_deliver_within(0.05)
    assert sender.delivers.empty()
    for esme in (sender, stranger, receiver):
        await esme.close()


async def test_receipts_round_robin_over_receivers(sim: SmscSimulator) -> None:
    sender = await bound(sim.port, command=pdu.BIND_TRANSMITTER)
    receivers = [await bound(sim.port, command=pdu.BIND_RECEIVER) for _ in range(2)]
    await asyncio.gather(*(sender.submit_nowait() for _ in range(10)))
    await asyncio.sleep(0.1)
    assert [r.delivers.qsize() for r in receivers] == [5, 5]
    for esme in (sender, *receivers):
        await esme.close()


async def test_receipts_are_held_until_a_receiver_binds(sim: SmscSimulator) -> None:
    sender = await bound(sim.port, command=pdu.BIND_TRANSMITTER)
    resp = await sender.submit()
    await asyncio.sleep(0.05)
    assert sim.stats()["held_deliver_sm"] == 1
    receiver = await bound(sim.port, command=pdu.BIND_RECEIVER)
    assert receipt_fields(await receiver.next_deliver())["id"] == resp.message_id
    await sender.close()
    await receiver.close()


async def test_unacknowledged_receipts_are_counted_and_redelivered_after_a_reconnect(
    sim: SmscSimulator,
) -> None:
    silent = await bound(sim.port, ack_status=None)
    resp = await silent.submit()
    first = await silent.next_deliver()
    await asyncio.sleep(0.02)
    assert sim.stats()["unacknowledged_deliver_sm"] == 1
    await silent.close()
    await asyncio.sleep(0.02)
    again = await bound(sim.port)
    redelivered = await again.next_deliver()
    assert redelivered.body == first.body
    assert receipt_fields(redelivered)["id"] == resp.message_id
    await asyncio.sleep(0.02)
    stats = sim.stats()
    assert stats["unacknowledged_deliver_sm"] == 0
    assert stats["counters"]["deliver_sm_redelivered"] == 1
    assert stats["counters"]["receipt_acked"] == 1
    await again.close()


@pytest.mark.parametrize(
    ("status", "redelivered"),
    [
        (0x64, True),  # ESME_RX_T_APPN: temporary, the client asks for it again
        (pdu.ESME_RSYSERR, True),
        (pdu.ESME_RX_P_APPN, False),  # permanent: never again
        (pdu.ESME_RX_R_APPN, False),
    ],
)
async def test_receipt_answered_with_an_error_is_redelivered_unless_final(
    sim: SmscSimulator, status: int, redelivered: bool
) -> None:
    sim.configure(redelivery_delay_s=0.02)
    esme = await bound(sim.port, ack_status=status)
    await esme.submit()
    first = await esme.next_deliver()
    esme.ack_status = 0
    if redelivered:
        assert (await esme.next_deliver()).body == first.body
        await asyncio.sleep(0.01)
        counters = sim.stats()["counters"]
        assert (counters["receipt_nacked"], counters["receipt_acked"]) == (1, 1)
        assert counters["deliver_sm_redelivered"] == 1
    else:
        assert await esme.no_deliver_within(0.1)
    assert sim.stats()["unacknowledged_deliver_sm"] == 0
    await esme.close()
