"""An SMSC that crashes and comes back (SmscSimulator.crash_after / restart), against our real
SmppCarrier: the text whose answer died with it is uncertain, the link is refused while it is
down, and once we bind again the receipt it owed that text arrives."""

from __future__ import annotations

from proactive_sms.carriers.base import ReceiptState, SubmitStatus
from proactive_sms.carriers.smsc_sim import SmscSimulator

from .conftest import Recorder, eventually, text_to


async def test_a_crashed_smsc_keeps_what_it_accepted_and_delivers_the_receipt_after_restart(
    sim: SmscSimulator, carrier_for, recorder: Recorder
) -> None:
    async with carrier_for(reconnect_min_s=0.1, reconnect_max_s=0.2) as carrier:
        assert (await carrier.submit(text_to("before"))).status is SubmitStatus.ACCEPTED
        await eventually(lambda: len(recorder.receipts) == 1, timeout_s=5.0)
        sim.crash_after(1)
        lost = text_to("the one whose answer dies")
        assert (await carrier.submit(lost)).status is SubmitStatus.UNCERTAIN
        assert sim.crashed
        await eventually(lambda: not carrier.bound, timeout_s=5.0)
        assert (await carrier.submit(text_to("meanwhile"))).status is SubmitStatus.NOT_SENT
        recorded = [r.destination_addr for r in sim.accepted_submits()]
        assert recorded[-1].lstrip("+") == lost.destination.lstrip("+")  # it reached the SMSC

        await sim.restart()
        assert await carrier.wait_bound(5.0)
        await eventually(lambda: len(recorder.receipts) == 2, timeout_s=5.0)
        owed = recorder.receipts[1]
        assert owed.state is ReceiptState.DELIVERED
        assert owed.recipient.lstrip("+") == lost.destination.lstrip("+")
        assert sim.stats()["counters"]["crashes"] == 1
        assert (await carrier.submit(text_to("after"))).status is SubmitStatus.ACCEPTED
