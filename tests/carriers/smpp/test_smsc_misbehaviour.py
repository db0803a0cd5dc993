"""The misbehaviour catalogue of the simulator (docs/smsc_simulator.md), one fault at a time,
against our real SmppCarrier over TCP: no text lost, none sent twice, uncertain where we cannot
know, the link comes back with backoff, and sending resumes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from proactive_sms.carriers.base import SubmitStatus
from proactive_sms.carriers.smsc_sim import SmscSimulator

from .conftest import Recorder, eventually, text_to


def _at_simulator(sim: SmscSimulator) -> Counter[str]:
    return Counter("+" + r.destination_addr.lstrip("+") for r in sim.accepted_submits())


async def _resumes(carrier, sim: SmscSimulator) -> None:
    """The link is back and a new text goes out once."""
    assert await carrier.wait_bound(5.0)
    text = text_to("after the fault")
    assert (await carrier.submit(text)).status is SubmitStatus.ACCEPTED
    assert _at_simulator(sim)[text.destination] == 1


async def test_black_hole_leaves_the_text_uncertain_and_reconnects_with_backoff(
    sim: SmscSimulator, carrier_for
) -> None:
    async with carrier_for(reconnect_min_s=0.2, reconnect_max_s=0.4) as carrier:
        sim.configure(black_hole=True)
        text = text_to("into the void")
        result = await carrier.submit(text)
        # Written, never answered: it may or may not have reached a handset.
        assert result.status is SubmitStatus.UNCERTAIN
        await eventually(lambda: not carrier.bound, timeout_s=5.0)
        before = sim.stats()["counters"].get("connections", 0)
        started = time.monotonic()
        await asyncio.sleep(2.0)
        attempts = sim.stats()["counters"].get("connections", 0) - before
        elapsed_s = time.monotonic() - started
        # Each attempt waits for a bind_resp that never comes (1 s) and then backs off: a
        # client in a tight reconnect loop would open hundreds of sockets here.
        assert 1 <= attempts <= elapsed_s / 1.0 + 1
        assert not carrier.bound
        assert (await carrier.submit(text_to("meanwhile"))).status is SubmitStatus.NOT_SENT
        sim.configure(black_hole=False)
        await _resumes(carrier, sim)
        assert carrier.stats.reconnects >= 1
    assert text.destination not in _at_simulator(sim)  # the black hole kept nothing


async def test_generic_nack_is_a_temporary_refusal_and_the_session_stays(
    sim: SmscSimulator, carrier_for
) -> None:
    async with carrier_for() as carrier:
        sim.configure(generic_nack_ratio=1.0)
        text = text_to("nacked")
        result = await carrier.submit(text)
        assert result.status is SubmitStatus.TEMPORARY and result.retryable
        assert text.destination not in _at_simulator(sim)
        sim.configure(generic_nack_ratio=0.0)
        await _resumes(carrier, sim)
        assert carrier.stats.reconnects == 0


async def test_bind_refused_keeps_retrying_with_backoff_then_binds(
    sim: SmscSimulator, carrier_for
) -> None:
    sim.configure(bind_refusal_status=0x0D)  # ESME_RBINDFAIL
    async with carrier_for(bind=False, reconnect_min_s=0.1, reconnect_max_s=0.4) as carrier:
        started = time.monotonic()
        await asyncio.sleep(1.5)
        refused = sim.stats()["counters"].get("bind_refused", 0)
        elapsed_s = time.monotonic() - started
        # 0.1, 0.2, 0.4, 0.4 ... s apart: a handful, not a storm.
        assert 2 <= refused <= elapsed_s / 0.1 + 1
        assert not carrier.bound
        result = await carrier.submit(text_to("not yet"))
        assert result.status is SubmitStatus.NOT_SENT and result.retryable
        sim.configure(bind_refusal_status=None)
        await _resumes(carrier, sim)
    assert len(sim.accepted_submits()) == 1


# Frames that break the framing: the session must end (the stream cannot be trusted), the text
# whose answer was garbled is uncertain (the SMSC did take it) unless its answer could still be
# read whole, and the link comes back.
FRAMING_BREAKERS = ["short_length", "huge_length", "long_length", "random_bytes"]
# Frames that keep the framing: answered or refused one by one, the session goes on.
FRAMED_GARBAGE = ["unknown_command", "truncated_deliver_sm"]


@pytest.mark.parametrize("kind", FRAMING_BREAKERS)
async def test_wrong_command_length_ends_the_session_text_uncertain_then_resumes(
    sim: SmscSimulator, carrier_for, kind: str
) -> None:
    async with carrier_for() as carrier:
        sim.configure(malformed_ratio=1.0, malformed_kind=kind)
        text = text_to(f"garbled answer: {kind}")
        result = await carrier.submit(text)
        sim.configure(malformed_ratio=0.0)
        assert _at_simulator(sim)[text.destination] == 1
        if kind == "long_length":
            # The answer is read whole (with 4 octets of the next PDU); its id is the right one,
            # and it is the next header that gives the broken framing away.
            assert result.status is SubmitStatus.ACCEPTED
            assert result.carrier_message_ids == (sim.accepted_submits()[-1].message_id,)
        else:
            assert result.status is SubmitStatus.UNCERTAIN
        await eventually(lambda: carrier.stats.reconnects >= 1, timeout_s=5.0)
        await _resumes(carrier, sim)
    assert sim.stats()["counters"]["malformed_sent"] == 1


@pytest.mark.parametrize("kind", FRAMED_GARBAGE)
async def test_framed_garbage_is_answered_and_the_session_goes_on(
    sim: SmscSimulator, carrier_for, kind: str
) -> None:
    async with carrier_for() as carrier:
        sim.configure(malformed_ratio=1.0, malformed_kind=kind)
        texts = [text_to(f"with garbage {n}") for n in range(3)]
        results = [await carrier.submit(text) for text in texts]
        sim.configure(malformed_ratio=0.0)
        assert [r.status for r in results] == [SubmitStatus.ACCEPTED] * 3
        await _resumes(carrier, sim)
        assert carrier.stats.reconnects == 0
    received = sim.stats()["received"]
    # Every garbage request got an answer (generic_nack for an unknown command, a refusing
    # deliver_sm_resp for an unreadable deliver_sm), so the SMSC has nothing to wait for.
    answers = received.get("generic_nack", 0) + received.get("deliver_sm_resp", 0)
    assert answers >= 3


async def test_pdus_split_across_reads_are_reassembled(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    sim.configure(split_writes_octets=3)
    async with carrier_for() as carrier:
        texts = [text_to(f"in pieces {n}") for n in range(10)]
        results = await asyncio.gather(*(carrier.submit(text) for text in texts))
        assert [r.status for r in results] == [SubmitStatus.ACCEPTED] * 10
        await recorder.wait_for(lambda: len(recorder.receipts) == 10)
        assert carrier.stats.reconnects == 0
    assert set(_at_simulator(sim).values()) == {1}


async def test_deliver_sm_before_the_bind_resp_neither_blocks_the_bind_nor_is_lost(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    sim.configure(deliver_before_bind_resp=True, redelivery_delay_s=0.1)
    pending = sim.inject_inbound_nowait("+15557654321", "12345", "STOP")  # held: nobody bound
    async with carrier_for(bind=False) as carrier:
        assert await carrier.wait_bound(5.0), "the early deliver_sm must not refuse the bind"
        await recorder.wait_for(lambda: len(recorder.inbound) == 1)
        await _resumes(carrier, sim)
    # Answered "not now" (0x64) before the bind_resp, taken once it was bound.
    assert await asyncio.wait_for(pending, 5.0) == 0x64
    assert [t.text for t in recorder.inbound] == ["STOP"]
    counters = sim.stats()["counters"]
    assert counters["inbound_nacked"] == 1 and counters["inbound_acked"] == 1


async def test_receipts_for_unknown_ids_are_acknowledged_and_passed_up_once(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    sim.configure(unknown_receipt_ratio=1.0)
    async with carrier_for() as carrier:
        results = [await carrier.submit(text_to(f"known {n}")) for n in range(3)]
        assert [r.status for r in results] == [SubmitStatus.ACCEPTED] * 3
        await recorder.wait_for(lambda: len(recorder.receipts) == 6)
    issued = {i for r in results for i in r.carrier_message_ids}
    unknown = [r for r in recorder.receipts if r.carrier_message_id not in issued]
    assert len(unknown) == 3
    counters = sim.stats()["counters"]
    assert counters["receipt_acked"] == 6 and "deliver_sm_redelivered" not in counters


async def test_receipt_before_the_submit_sm_resp_still_reaches_the_handler(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    sim.configure(receipt_before_resp=1.0)
    async with carrier_for() as carrier:
        results = [await carrier.submit(text_to(f"early {n}")) for n in range(3)]
        assert [r.status for r in results] == [SubmitStatus.ACCEPTED] * 3
        await recorder.wait_for(lambda: len(recorder.receipts) == 3)
    ids = {r.carrier_message_ids[0] for r in results}
    assert {r.carrier_message_id for r in recorder.receipts} == ids


async def test_duplicate_receipts_are_acknowledged_each_time(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    sim.configure(duplicate_receipts=1.0)
    async with carrier_for() as carrier:
        results = [await carrier.submit(text_to(f"twice {n}")) for n in range(3)]
        await recorder.wait_for(lambda: len(recorder.receipts) == 6)
    ids = Counter(r.carrier_message_id for r in recorder.receipts)
    assert ids == Counter({r.carrier_message_ids[0]: 2 for r in results})
    assert "deliver_sm_redelivered" not in sim.stats()["counters"]


async def test_connection_dropped_mid_pdu_uncertain_never_twice_then_resumes(
    sim: SmscSimulator, carrier_for
) -> None:
    sim.configure(drop_connection_after=5, drop_mid_pdu=True)
    async with carrier_for(window_size=10, reconnect_min_s=0.2, reconnect_max_s=0.4) as carrier:
        texts = [text_to(f"cut {n}") for n in range(12)]
        results = await asyncio.gather(*(carrier.submit(text) for text in texts))
        at_sim = _at_simulator(sim)
        by_status = Counter(r.status for r in results)
        assert by_status[SubmitStatus.ACCEPTED] == 4  # the fifth answer was cut in half
        assert by_status[SubmitStatus.UNCERTAIN] >= 1
        for text, result in zip(texts, results, strict=True):
            if result.status is SubmitStatus.ACCEPTED:
                assert at_sim[text.destination] == 1
            if result.status is SubmitStatus.NOT_SENT:
                assert text.destination not in at_sim
        assert set(by_status) <= {SubmitStatus.ACCEPTED, SubmitStatus.UNCERTAIN,
                                  SubmitStatus.NOT_SENT}
        await _resumes(carrier, sim)
        assert carrier.stats.reconnects == 1
    assert set(_at_simulator(sim).values()) == {1}
