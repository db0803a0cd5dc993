"""SmppCarrier.submit() over real TCP against the SMSC simulator: what leaves, what comes back."""

from __future__ import annotations

import asyncio
import time

from proactive_sms.carriers.base import SourceKind, SubmitStatus, receipt_id_candidates
from proactive_sms.carriers.smsc_sim import SmscSimulator

from .conftest import Recorder, eventually, text_to

ARABIC = (
    "مرحبا بكم في خدمة العملاء، نود إعلامكم بأن طلبكم رقم ١٢٣٤ جاهز للاستلام من الفرع الرئيسي اليوم"
)


async def test_binds_as_transceiver(sim: SmscSimulator, carrier_for) -> None:
    async with carrier_for() as carrier:
        assert carrier.bound
        (session,) = sim.stats()["sessions"]
        assert session["mode"] == "transceiver"


async def test_200_submits_are_accepted_with_ids_and_every_receipt_arrives(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    async with carrier_for(window_size=20) as carrier:
        texts = [text_to(f"Your code is {n}") for n in range(200)]
        results = await asyncio.gather(*(carrier.submit(text) for text in texts))

        assert {r.status for r in results} == {SubmitStatus.ACCEPTED}
        assert [r.message_id for r in results] == [t.message_id for t in texts]
        ids = {r.carrier_message_ids for r in results}
        assert len(ids) == 200 and all(len(i) == 1 for i in ids)
        await recorder.wait_for(lambda: len(recorder.receipts) == 200)
        assert {r.carrier_message_id for r in recorder.receipts} == {i[0] for i in ids}
        assert carrier.stats.submitted_pdus == carrier.stats.accepted_pdus == 200

    records = sim.accepted_submits()
    assert len(records) == 200
    for record in records:
        assert (record.source_ton, record.source_npi, record.source_addr) == (1, 1, "15550001111")
        assert (record.destination_ton, record.destination_npi) == (1, 1)
        assert not record.destination_addr.startswith("+")
        assert (record.esm_class, record.data_coding, record.udh) == (0, 0, None)
        assert record.registered_delivery == 1


async def test_hex_submit_ids_and_decimal_receipt_ids_are_both_passed_up(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    sim.configure(message_id_format="hex", receipt_id_format="decimal", duplicate_receipts=1.0)
    async with carrier_for() as carrier:
        results = await asyncio.gather(*(carrier.submit(text_to("hello")) for _ in range(10)))
        await recorder.wait_for(lambda: len(recorder.receipts) == 20)
    submitted = {r.carrier_message_ids[0] for r in results}
    for receipt in recorder.receipts:
        assert submitted & set(receipt_id_candidates(receipt.carrier_message_id))


async def test_three_part_gsm_text_leaves_as_udh_parts(sim: SmscSimulator, carrier_for) -> None:
    body = "Dear customer, your {order} of 3 items is ready [ref: A-1] " * 7  # 3 GSM-7 parts
    text = text_to(body)
    assert len(text.parts) == 3 and text.encoding == "gsm7"
    async with carrier_for() as carrier:
        result = await carrier.submit(text)
    assert result.status is SubmitStatus.ACCEPTED
    assert len(result.carrier_message_ids) == 3
    records = sim.accepted_submits()
    assert [(r.esm_class, r.data_coding) for r in records] == [(0x40, 0x00)] * 3
    (ref,) = {r.udh[0] for r in records}
    assert [r.udh for r in records] == [(ref, 3, 1), (ref, 3, 2), (ref, 3, 3)]
    assert all(r.short_message[:3] == bytes([5, 0, 3]) for r in records)
    assert {r.registered_delivery for r in records} == {1}
    assert b"\x1b\x28" in records[0].short_message  # '{' as an escape pair, unpacked
    assert sim.reassembled() == [(text.destination[1:], body)]


async def test_two_part_arabic_text_leaves_as_ucs2_udh_parts(
    sim: SmscSimulator, carrier_for
) -> None:
    text = text_to(ARABIC)
    assert len(text.parts) == 2 and text.encoding == "ucs2"
    async with carrier_for() as carrier:
        result = await carrier.submit(text)
    assert result.status is SubmitStatus.ACCEPTED
    records = sim.accepted_submits()
    assert [(r.esm_class, r.data_coding, r.udh[1:]) for r in records] == [
        (0x40, 0x08, (2, 1)),
        (0x40, 0x08, (2, 2)),
    ]
    assert records[0].payload == text.parts[0].encode("utf-16-be")
    assert sim.reassembled() == [(text.destination[1:], ARABIC)]


async def test_short_code_and_alphanumeric_senders_get_their_ton_npi(
    sim: SmscSimulator, carrier_for
) -> None:
    async with carrier_for() as carrier:
        await carrier.submit(text_to("hi", source="12345", source_kind=SourceKind.SHORT))
        await carrier.submit(text_to("hi", source="ACME", source_kind=SourceKind.ALPHANUMERIC))
        await carrier.submit(text_to("hi", source="+18005550100", source_kind=SourceKind.TOLL_FREE))
    assert [(r.source_ton, r.source_npi, r.source_addr) for r in sim.accepted_submits()] == [
        (3, 0, "12345"),
        (5, 0, "ACME"),
        (1, 1, "18005550100"),
    ]


async def test_consecutive_long_texts_use_different_refs(sim: SmscSimulator, carrier_for) -> None:
    async with carrier_for() as carrier:
        for _ in range(3):
            await carrier.submit(text_to("x" * 200))
    refs = [r.udh[0] for r in sim.accepted_submits()]
    assert len(set(refs)) == 3


async def test_validity_is_sent_as_absolute_utc(sim: SmscSimulator, carrier_for) -> None:
    from datetime import UTC, datetime

    until = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with carrier_for() as carrier:
        await carrier.submit(text_to("soon", validity_until=until))
    assert sim.accepted_submits()[0].validity_period == "300102030405000+"


async def test_throttled_first_part_is_throttled(sim: SmscSimulator, carrier_for) -> None:
    sim.configure(throttle_above_per_s=5)
    async with carrier_for() as carrier:
        results = await asyncio.gather(*(carrier.submit(text_to("hi")) for _ in range(20)))
    throttled = [r for r in results if r.status is SubmitStatus.THROTTLED]
    assert throttled and all(r.error_code == 0x58 and r.retryable for r in throttled)
    assert all(r.carrier_message_ids == () for r in throttled)


async def test_refusals_of_a_first_part(sim: SmscSimulator, carrier_for) -> None:
    async with carrier_for() as carrier:
        sim.configure(invalid_destination_pattern=r"\+1555999.*")
        bad = await carrier.submit(text_to("hi", destination="+15559990000"))
        sim.configure(invalid_destination_pattern=None, queue_full_ratio=1.0)
        full = await carrier.submit(text_to("hi"))
        sim.configure(queue_full_ratio=0.0, generic_nack_ratio=1.0)
        nack = await carrier.submit(text_to("hi"))
    assert (bad.status, bad.error_code, bad.retryable) == (SubmitStatus.PERMANENT, 0x0B, False)
    assert (full.status, full.error_code) == (SubmitStatus.QUEUE_FULL, 0x14)
    assert (nack.status, nack.error_code) == (SubmitStatus.TEMPORARY, 0x08)
    assert carrier.stats.errors_by_code == {0x0B: 1, 0x14: 1, 0x08: 1}


async def test_no_answer_is_uncertain_after_the_timeout(sim: SmscSimulator, carrier_for) -> None:
    sim.configure(no_response_ratio=1.0)
    async with carrier_for(response_timeout_s=0.3) as carrier:
        started = time.monotonic()
        result = await carrier.submit(text_to("hi"))
        elapsed = time.monotonic() - started
        assert result.status is SubmitStatus.UNCERTAIN and not result.retryable
        # Not before the timeout; the upper bound only says it did not hang (a loaded
        # machine may wake the timer late).
        assert 0.25 < elapsed < 10.0
        sim.configure(no_response_ratio=0.0)  # the slot was given back: the next one goes
        assert (await carrier.submit(text_to("hi"))).status is SubmitStatus.ACCEPTED


async def test_window_holds_at_most_window_size_unanswered_pdus(
    sim: SmscSimulator, carrier_for
) -> None:
    sim.configure(no_response_ratio=1.0)
    async with carrier_for(window_size=4, response_timeout_s=0.6) as carrier:
        submits = [asyncio.ensure_future(carrier.submit(text_to("hi"))) for _ in range(10)]
        await eventually(lambda: len(sim.accepted_submits()) >= 4)
        await asyncio.sleep(0.2)  # room for a fifth to slip out, if the window leaked
        assert len(sim.accepted_submits()) == 4
        results = await asyncio.gather(*submits)
    assert {r.status for r in results} == {SubmitStatus.UNCERTAIN}
    assert len(sim.accepted_submits()) == 10


async def test_a_later_part_refused_is_retried_and_no_accepted_part_is_sent_twice(
    sim: SmscSimulator, carrier_for
) -> None:
    sim.configure(queue_full_ratio=0.4, seed=11)
    async with carrier_for(partial_retry_limit=5) as carrier:
        texts = [text_to("z" * 400) for _ in range(12)]  # 3 parts each
        results = [await carrier.submit(text) for text in texts]
    records = sim.accepted_submits()
    statuses = [r.status for r in results]
    assert set(statuses) <= {SubmitStatus.ACCEPTED, SubmitStatus.QUEUE_FULL}
    # Some refusals hit later parts (more refusals than refused texts), and were retried.
    refused_pdus = sim.stats()["refused"]["0x14"]
    assert refused_pdus > statuses.count(SubmitStatus.QUEUE_FULL)
    assert SubmitStatus.ACCEPTED in statuses
    for text, result in zip(texts, results, strict=True):
        parts = [r.udh[2] for r in records if "+" + r.destination_addr == text.destination]
        if result.status is SubmitStatus.ACCEPTED:
            assert sorted(parts) == [1, 2, 3]  # each part accepted exactly once
            assert len(result.carrier_message_ids) == 3
        else:
            assert parts == [] and result.carrier_message_ids == ()


async def test_a_later_part_still_refused_is_permanent_and_keeps_the_accepted_ids(
    sim: SmscSimulator, carrier_for
) -> None:
    async with carrier_for(partial_retry_limit=1) as carrier:
        sim.configure(queue_full_ratio=0.5, seed=3)
        partial = None
        for _ in range(40):
            result = await carrier.submit(text_to("q" * 300))  # 2 parts
            if result.status is SubmitStatus.PERMANENT:
                partial = result
                break
    assert partial is not None, "the seed never refused a second part twice"
    assert partial.error_code == 0x14
    assert len(partial.carrier_message_ids) == 1
    assert partial.detail.startswith("part 2/2 refused after earlier parts were accepted")


async def test_unsendable_text_is_permanent_without_touching_the_network(
    sim: SmscSimulator, carrier_for
) -> None:
    async with carrier_for() as carrier:
        result = await carrier.submit(text_to("hi", destination="+1-555-0100"))
    assert result.status is SubmitStatus.PERMANENT and result.error_code is None
    assert "cannot be sent as given" in result.detail
    assert sim.accepted_submits() == []
