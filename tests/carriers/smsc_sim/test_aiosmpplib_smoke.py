"""One smoke test with the library the production client is built on: it binds, submits, gets
its submit_sm_resp and a receipt it can parse, and unbinds cleanly."""

from __future__ import annotations

import asyncio
import logging

from aiosmpplib import ESME, AbstractHook, PhoneNumber, SmppMessage, SubmitSm
from aiosmpplib.broker import SimpleBroker
from aiosmpplib.protocol import DeliverSm, SubmitSmResp
from aiosmpplib.state import NPI, TON

from proactive_sms.carriers.smsc_sim import SmscSimulator


class _Collect(AbstractHook):
    def __init__(self) -> None:
        self.messages: asyncio.Queue[SmppMessage] = asyncio.Queue()

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        pass

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        if smpp_message is not None:
            self.messages.put_nowait(smpp_message)

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        pass


async def test_aiosmpplib_esme_binds_submits_and_parses_the_receipt(sim: SmscSimulator) -> None:
    hook, broker = _Collect(), SimpleBroker()
    esme = ESME(
        "127.0.0.1", sim.port, "psms", "secret",
        hook=hook, broker=broker, log_level=logging.WARNING,
    )  # fmt: skip
    runner = asyncio.create_task(esme.start())
    await broker.enqueue(
        SubmitSm(
            short_message="Hello from aiosmpplib",
            source=PhoneNumber("12345", TON.NETWORK_SPECIFIC, NPI.UNKNOWN),
            destination=PhoneNumber("15551234567", TON.INTERNATIONAL, NPI.ISDN),
            log_id="m1",
        )
    )
    seen: dict[type, SmppMessage] = {}
    async with asyncio.timeout(5):
        while not {SubmitSmResp, DeliverSm} <= set(seen):
            message = await hook.messages.get()
            seen[type(message)] = message
    resp, receipt = seen[SubmitSmResp], seen[DeliverSm]
    assert isinstance(resp, SubmitSmResp) and isinstance(receipt, DeliverSm)
    assert receipt.is_receipt()
    parsed = receipt.parse_receipt()
    assert (parsed["id"], parsed["stat"]) == (resp.message_id, "DELIVRD")
    [record] = sim.accepted_submits()
    assert record.text == "Hello from aiosmpplib"
    await esme.stop()
    await asyncio.wait_for(runner, 5)
