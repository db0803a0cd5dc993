"""The session around the submits: binding, losing and regaining the link, stopping, and the
deliver_sm the SMSC sends us (receipts, replies), against the simulator over real TCP."""

from __future__ import annotations

import asyncio
import struct

from proactive_sms.carriers.base import ReceiptState, SubmitStatus
from proactive_sms.carriers.smpp import SmppCarrier
from proactive_sms.carriers.smsc_sim import SmscSimulator

from .conftest import Recorder, eventually, fast_config, text_to

LONG_ARABIC_REPLY = "شكرا لكم على الرسالة، أود تغيير موعد التسليم إلى يوم الخميس القادم " * 3


async def test_wrong_password_keeps_retrying_until_the_smsc_accepts(
    sim: SmscSimulator, carrier_for
) -> None:
    async with carrier_for(bind=False, password="wrong") as carrier:
        assert not await carrier.wait_bound(0.5)
        await eventually(lambda: sim.stats()["counters"].get("bind_refused", 0) >= 3)
        result = await carrier.submit(text_to("hi"))
        assert result.status is SubmitStatus.NOT_SENT and result.retryable
        sim.configure(credentials={"psms": "wrong"})  # the carrier fixed its side
        assert await carrier.wait_bound(2.0)
        assert (await carrier.submit(text_to("hi"))).status is SubmitStatus.ACCEPTED
    assert sim.stats()["counters"]["connections"] >= 4  # one socket per attempt, all closed


async def test_dropped_connection_in_flight_uncertain_then_not_sent_then_accepted(
    sim: SmscSimulator, carrier_for
) -> None:
    sim.configure(drop_connection_after=25)
    async with carrier_for(window_size=10, reconnect_min_s=0.4, reconnect_max_s=0.4) as carrier:
        texts = [text_to("hi") for _ in range(60)]
        results = await asyncio.gather(*(carrier.submit(text) for text in texts))
        by_status = {status: [r for r in results if r.status is status] for status in SubmitStatus}
        assert len(by_status[SubmitStatus.ACCEPTED]) >= 25
        assert by_status[SubmitStatus.UNCERTAIN], "PDUs written before the drop had no answer"
        assert by_status[SubmitStatus.NOT_SENT], "texts still waiting for the window"
        assert len(results) == sum(len(v) for v in by_status.values()) == 60
        # The invariant the dispatcher relies on: a NOT_SENT text never reached the SMSC.
        reached = {"+" + r.destination_addr for r in sim.accepted_submits()}
        for text, result in zip(texts, results, strict=True):
            if result.status is SubmitStatus.NOT_SENT:
                assert text.destination not in reached

        assert not carrier.bound  # the reconnect waits reconnect_min_s (0.3 s or more)
        assert (await carrier.submit(text_to("hi"))).status is SubmitStatus.NOT_SENT
        assert await carrier.wait_bound(3.0)
        assert (await carrier.submit(text_to("hi"))).status is SubmitStatus.ACCEPTED
        assert carrier.stats.reconnects == 1


async def test_later_part_after_a_drop_goes_out_after_the_rebind_never_twice(
    sim: SmscSimulator, carrier_for
) -> None:
    sim.configure(drop_connection_after=1)
    async with carrier_for() as carrier:
        text = text_to("y" * 300)  # 2 parts; the link drops right after part 1 is accepted
        result = await carrier.submit(text)
    first_parts = [r for r in sim.accepted_submits() if r.udh and r.udh[2] == 1]
    assert len(first_parts) == 1
    if result.status is SubmitStatus.ACCEPTED:  # part 2 was not written before the drop
        assert len(result.carrier_message_ids) == 2
        assert sim.reassembled() == [(text.destination[1:], text.body)]
    else:  # part 2 was written into the dying connection
        assert result.status is SubmitStatus.UNCERTAIN
        assert len(result.carrier_message_ids) == 1


async def test_stop_unbinds_and_settles_what_is_outstanding(
    sim: SmscSimulator, carrier_for
) -> None:
    sim.configure(no_response_ratio=1.0)
    async with carrier_for(response_timeout_s=0.5) as carrier:
        pending = asyncio.ensure_future(carrier.submit(text_to("hi")))
        await eventually(lambda: len(sim.accepted_submits()) == 1)
    assert (await pending).status is SubmitStatus.UNCERTAIN
    assert not carrier.bound
    assert (await carrier.submit(text_to("hi"))).status is SubmitStatus.NOT_SENT
    await eventually(lambda: sim.stats()["sessions"] == [])
    assert sim.stats()["received"].get("unbind") == 1


async def test_stop_turns_texts_waiting_for_the_window_into_not_sent(
    sim: SmscSimulator, carrier_for
) -> None:
    sim.configure(response_delay_s=0.2)
    async with carrier_for(window_size=2) as carrier:
        texts = [text_to("hi") for _ in range(20)]
        submits = [asyncio.ensure_future(carrier.submit(text)) for text in texts]
        await eventually(lambda: len(sim.accepted_submits()) == 2)
        stopping = asyncio.ensure_future(carrier.stop())
        results = await asyncio.gather(*submits)
        await stopping
    statuses = [r.status for r in results]
    assert statuses[:2] == [SubmitStatus.ACCEPTED] * 2  # in flight: allowed to finish
    assert set(statuses[2:]) == {SubmitStatus.NOT_SENT}
    assert len(sim.accepted_submits()) == 2


async def test_dead_peer_is_detected_by_enquire_link_and_submits_do_not_hang() -> None:
    server_sockets: list[asyncio.StreamWriter] = []
    done = asyncio.Event()

    async def silent_after_bind(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_sockets.append(writer)
        header = await reader.readexactly(16)
        length, _command, _status, sequence = struct.unpack("!IIII", header)
        await reader.readexactly(length - 16)
        writer.write(struct.pack("!IIII", 17, 0x80000009, 0, sequence) + b"\x00")
        await done.wait()  # then never answers anything

    server = await asyncio.start_server(silent_after_bind, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    recorder = Recorder()
    carrier = SmppCarrier(
        fast_config(port, enquire_link_interval_s=0.2, response_timeout_s=0.3),
        recorder.on_receipt,
        recorder.on_inbound,
    )
    try:
        await carrier.start()
        assert await carrier.wait_bound(2.0)
        result = await carrier.submit(text_to("hi"))
        assert result.status is SubmitStatus.UNCERTAIN
        await eventually(lambda: len(server_sockets) >= 2, timeout_s=3.0)  # reconnected
    finally:
        await carrier.stop()
        done.set()
        for writer in server_sockets:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_vendor_status_code_refuses_the_submit_without_dropping_the_session() -> None:
    vendor_status = 0x0000040F  # outside SMPP 3.4's table: aiosmpplib alone would disconnect
    connections = 0

    async def smsc(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                length, command, _status, sequence = struct.unpack(
                    "!IIII", await reader.readexactly(16)
                )
                await reader.readexactly(length - 16)
                if command == 0x09:  # bind_transceiver
                    writer.write(struct.pack("!IIII", 17, 0x80000009, 0, sequence) + b"\x00")
                elif command == 0x04:  # submit_sm
                    writer.write(struct.pack("!IIII", 17, 0x80000004, vendor_status, sequence))
                    writer.write(b"\x00")
                elif command in (0x15, 0x06):  # enquire_link, unbind
                    writer.write(struct.pack("!IIII", 16, 0x80000000 | command, 0, sequence))
        except asyncio.IncompleteReadError:
            writer.close()

    server = await asyncio.start_server(smsc, "127.0.0.1", 0)
    recorder = Recorder()
    carrier = SmppCarrier(
        fast_config(server.sockets[0].getsockname()[1]), recorder.on_receipt, recorder.on_inbound
    )
    try:
        await carrier.start()
        assert await carrier.wait_bound(2.0)
        first = await carrier.submit(text_to("hi"))
        second = await carrier.submit(text_to("hi"))
        assert (first.status, first.error_code) == (SubmitStatus.PERMANENT, vendor_status)
        assert second.status is SubmitStatus.PERMANENT
        assert carrier.bound and connections == 1
    finally:
        await carrier.stop()
        server.close()
        await server.wait_closed()


async def test_receipts_reach_on_receipt_even_before_the_resp_and_twice(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    sim.configure(receipt_before_resp=1.0, duplicate_receipts=1.0)
    async with carrier_for() as carrier:
        result = await carrier.submit(text_to("hi"))
        await recorder.wait_for(lambda: len(recorder.receipts) == 2)
    (carrier_id,) = result.carrier_message_ids
    assert [r.carrier_message_id for r in recorder.receipts] == [carrier_id, carrier_id]
    assert {r.state for r in recorder.receipts} == {ReceiptState.DELIVERED}


async def test_undeliverable_receipt_carries_state_and_error(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    sim.configure(receipt_outcomes={"undeliverable": 1.0})
    async with carrier_for() as carrier:
        await carrier.submit(text_to("hi"))
        await recorder.wait_for(lambda: len(recorder.receipts) == 1)
    (receipt,) = recorder.receipts
    assert (receipt.state, receipt.error_code) == (ReceiptState.UNDELIVERABLE, 1)
    assert receipt.raw.startswith("id:")


async def test_inbound_texts_are_decoded_and_long_ones_reassembled(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    async with carrier_for():
        assert await sim.inject_inbound("+15557654321", "+15550001111", "STOP @ once {now}") == 0
        assert await sim.inject_inbound("+15557654321", "12345", LONG_ARABIC_REPLY) == 0
        await recorder.wait_for(lambda: len(recorder.inbound) == 2)
    short, long = recorder.inbound
    assert (short.sender, short.recipient, short.text) == (
        "+15557654321",
        "+15550001111",
        "STOP @ once {now}",
    )
    assert (long.recipient, long.text) == ("12345", LONG_ARABIC_REPLY)
    assert long.received_at is not None


async def test_a_failing_handler_gets_0x64_so_the_smsc_redelivers(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    recorder.fail = True
    async with carrier_for() as carrier:
        assert await sim.inject_inbound("+15557654321", "+15550001111", "STOP") == 0x64
        await carrier.submit(text_to("hi"))
        await eventually(lambda: sim.stats()["counters"].get("receipt_nacked") == 1)
        recorder.fail = False
        assert await sim.inject_inbound("+15557654321", "+15550001111", "START") == 0
    assert [t.text for t in recorder.inbound] == ["START"]
    assert sim.stats()["counters"].get("receipt_acked") is None
