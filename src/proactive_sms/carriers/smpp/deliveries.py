"""deliver_sm from the SMSC -> on_receipt / on_inbound, and the deliver_sm_resp only after them.

The deliver_sm_resp tells the SMSC it may forget the message, so it is sent only once the
application's handler has returned: a crash before that means the SMSC sends it again (at least
once, never lost). A handler that raises gets ESME_RX_T_APPN (0x64, "temporary application
error") instead of ESME_ROK, which asks the SMSC to redeliver later; the failure is logged.

Handlers run as tasks (at most handler_concurrency at once) rather than inline in aiosmpplib's
reader, so that a slow store never stalls the reading of submit_sm_resp (which would turn good
submits into UNCERTAIN ones); when all slots are busy the reader waits, which is the back-pressure
the SMSC sees. A receipt handler that is a ReceiptSink (the dispatcher's) takes receipts with a
callback instead of a task each (receipts come at the submit rate, and a task, a coroutine and a
future per receipt were a large part of the event loop's time per text), under the same slots
and with the same deliver_sm_resp once its callback says it is stored.

Receipts are passed up whatever their id: matching, de-duplication and early receipts are the
store's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from proactive_sms.carriers.base import InboundHandler, InboundText, ReceiptHandler
from proactive_sms.carriers.smpp.addressing import inbound_number
from proactive_sms.carriers.smpp.inbound import (
    AssembledText,
    Reassembler,
    decode_text,
    split_udh,
)
from proactive_sms.carriers.smpp.pdus import DeliverSmFields, parse_deliver_sm
from proactive_sms.carriers.smpp.receipts import parse_receipt
from proactive_sms.carriers.smpp.statuses import ESME_ROK, ESME_RX_P_APPN, ESME_RX_T_APPN

log = logging.getLogger(__name__)

# (sequence_num, command_status, generation) -> sent?
Acknowledge = Callable[[int, int, int], Awaitable[bool]]
AcknowledgeNow = Callable[[int, int, int], bool]  # the same, queued without waiting
_FAILURE_LOG_EVERY_S = 10.0  # a failing store must not write a traceback per receipt


class Deliveries:
    def __init__(
        self,
        on_receipt: ReceiptHandler,
        on_inbound: InboundHandler,
        acknowledge: Acknowledge,
        concurrency: int,
        reassembly_timeout_s: float,
        acknowledge_now: AcknowledgeNow | None = None,
    ) -> None:
        self._on_receipt = on_receipt
        self._on_inbound = on_inbound
        self._acknowledge = acknowledge
        self._acknowledge_now = acknowledge_now
        # A ReceiptSink takes receipts with a callback (no task each), when resps can be queued.
        add_soon = getattr(on_receipt, "add_soon", None)
        self._add_receipt_soon = add_soon if acknowledge_now is not None else None
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._receipts_out = 0  # receipts given to add_soon, not stored yet
        self._receipts_idle = asyncio.Event()
        self._receipts_idle.set()
        self._reassembly_timeout_s = reassembly_timeout_s
        self._reassembler = Reassembler(reassembly_timeout_s)
        self._generation = 0
        self._failures = 0
        self._last_failure_log = 0.0

    def session_started(self, generation: int) -> None:
        self._generation = generation

    def session_ended(self) -> None:
        # Held parts were never acknowledged, so the SMSC sends them again on the next session.
        self._reassembler.clear()

    async def received(self, pdu: bytes, sequence_num: int, generation: int) -> None:
        """Called from aiosmpplib's reader for every deliver_sm; returns once a task holds it."""
        try:
            fields = parse_deliver_sm(pdu)
        except ValueError as exc:
            # Redelivering a PDU we cannot read would loop; 0x65 asks the SMSC not to.
            log.warning("unreadable deliver_sm (%s octets) refused: %s", len(pdu), exc)
            await self._acknowledge(sequence_num, ESME_RX_P_APPN, generation)
            return
        if fields.is_receipt:
            recipient = inbound_number(fields.source.ton, fields.source.address)
            receipt = parse_receipt(_receipt_text(fields), fields.tlvs, recipient)
            if self._add_receipt_soon is not None:
                await self._hand_receipt_soon(receipt, sequence_num, generation)
            else:
                await self._spawn(lambda: self._on_receipt(receipt), [sequence_num], generation)
            return
        await self._inbound(fields, generation)

    async def _hand_receipt_soon(self, receipt, sequence_num: int, generation: int) -> None:
        await self._slots.acquire()
        self._receipts_out += 1
        self._receipts_idle.clear()
        stored = functools.partial(self._receipt_stored, sequence_num, generation)
        try:
            self._add_receipt_soon(receipt, stored)
        except Exception as exc:  # noqa: BLE001 - not taken: not stored, the SMSC redelivers
            stored(exc)

    def _receipt_stored(self, sequence_num: int, generation: int,
                        error: BaseException | None) -> None:
        try:
            if error is not None:
                self._note_failure(error)
            assert self._acknowledge_now is not None
            try:
                self._acknowledge_now(sequence_num, ESME_ROK if error is None else ESME_RX_T_APPN,
                                      generation)
            except (ConnectionError, OSError, AssertionError) as exc:
                # The link broke under us: without the resp the SMSC sends it again.
                log.debug("deliver_sm_resp %d not sent: %r", sequence_num, exc)
        finally:
            self._slots.release()
            self._receipts_out -= 1
            if not self._receipts_out:
                self._receipts_idle.set()

    async def drain(self, timeout_s: float) -> None:
        """Wait for running handlers (stop()); cancel those still running after timeout_s (a
        receipt given to a ReceiptSink cannot be cancelled: its resp finds the session ended)."""
        if self._receipts_out:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._receipts_idle.wait(), timeout_s)
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _inbound(self, fields: DeliverSmFields, generation: int) -> None:
        sender = inbound_number(fields.source.ton, fields.source.address)
        recipient = inbound_number(fields.destination.ton, fields.destination.address)
        payload = fields.short_message
        if fields.has_udh:
            try:
                concat, payload = split_udh(fields.short_message)
            except ValueError:
                concat = None  # a broken header: pass the octets up rather than lose them
            if concat is not None and concat.total > 1:
                ready = self._reassembler.add(
                    sender, recipient, fields.data_coding, concat, payload, fields.sequence_num
                )
                if len(self._reassembler):  # a set is still open: look at it when it is due
                    asyncio.get_running_loop().call_later(
                        self._reassembly_timeout_s, self._flush_expired
                    )
                for text in ready:
                    await self._hand_up(text, generation)
                return
        text = AssembledText(sender, recipient, fields.data_coding, payload, [fields.sequence_num])
        await self._hand_up(text, generation)

    async def _hand_up(self, text: AssembledText, generation: int) -> None:
        body = decode_text(text.data_coding, text.payload)
        if text.missing:
            log.warning(
                "long reply handed up without parts %s after %.0f s",
                list(text.missing),
                self._reassembly_timeout_s,
            )
        inbound = InboundText(
            sender=text.sender,
            recipient=text.recipient,
            text=body,
            received_at=datetime.now(UTC),
        )
        await self._spawn(lambda: self._on_inbound(inbound), text.sequence_nums, generation)

    def _flush_expired(self) -> None:
        expired = self._reassembler.expired()
        if expired:
            task = asyncio.ensure_future(self._hand_up_all(expired, self._generation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _hand_up_all(self, texts: list[AssembledText], generation: int) -> None:
        for text in texts:
            await self._hand_up(text, generation)

    async def _spawn(
        self, handler: Callable[[], Awaitable[None]], sequence_nums: list[int], generation: int
    ) -> None:
        await self._slots.acquire()
        task = asyncio.ensure_future(self._run(handler, sequence_nums, generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, handler: Callable[[], Awaitable[None]], sequence_nums: list[int], generation: int
    ) -> None:
        try:
            try:
                await handler()
                status = ESME_ROK
            except Exception as exc:  # noqa: BLE001 - any failure means "not stored": no ROK
                self._note_failure(exc)
                status = ESME_RX_T_APPN
            for sequence_num in sequence_nums:
                try:
                    await self._acknowledge(sequence_num, status, generation)
                except (ConnectionError, OSError, AssertionError) as exc:
                    # The link broke under us: without the resp the SMSC sends it again.
                    log.debug("deliver_sm_resp %d not sent: %r", sequence_num, exc)
                    break
        finally:
            self._slots.release()

    def _note_failure(self, error: BaseException) -> None:
        self._failures += 1
        now = time.monotonic()
        if now - self._last_failure_log >= _FAILURE_LOG_EVERY_S:
            self._last_failure_log = now
            log.error(
                "deliver_sm handler failed (%d so far); answered 0x64 so the SMSC redelivers",
                self._failures, exc_info=error,
            )


def _receipt_text(fields: DeliverSmFields) -> str:
    # Receipt texts are ASCII in practice; UCS-2 ones exist on a few SMSCs.
    if fields.data_coding == 0x08:
        return decode_text(0x08, fields.short_message)
    return fields.short_message.decode("latin-1")
