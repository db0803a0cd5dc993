"""One ESME connection: framing, bind state, submit_sm handling and deliver_sm acknowledgement.

An asyncio.Protocol rather than streams: data_received gets whatever the socket delivered, so a
pipelined window of PDUs is parsed in one call and all its responses leave in one write. That, and
no per-PDU logging, is most of what lets the simulator outrun the client it serves.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import pdu, receipts
from .delivery import Delivery, DeliveryRouter
from .faults import NACK, SubmitPolicy, e164, malformed_frame
from .records import AcceptedSubmit, RecordBook, decode_text

SMSC_ID = "PSMS-SIM"
TRANSCEIVER, TRANSMITTER, RECEIVER = "transceiver", "transmitter", "receiver"
_BIND_MODES = {
    pdu.BIND_TRANSCEIVER: TRANSCEIVER,
    pdu.BIND_TRANSMITTER: TRANSMITTER,
    pdu.BIND_RECEIVER: RECEIVER,
}
_MAX_SEQUENCE = 0x7FFFFFFF
_FINAL_REFUSALS = frozenset((pdu.ESME_RX_P_APPN, pdu.ESME_RX_R_APPN))
_SPLIT_PAUSE_S = 0.001  # between the pieces of a split write: enough for each to be its own read


@dataclass
class SessionContext:
    """The simulator-wide state every session works on; `policy` is swapped on config changes."""

    policy: SubmitPolicy
    book: RecordBook
    router: DeliveryRouter
    ids: itertools.count[int]
    clock: receipts.ReceiptClock = field(default_factory=receipts.ReceiptClock)
    sessions: set[SmppSession] = field(default_factory=set)
    stopping: bool = False
    drop_done: bool = False  # the one drop of drop_connection_after (without repeat) happened
    # An outage on demand (SmscSimulator.crash_after): accepted submits left before the crash,
    # and what crashes the simulator (called on its loop at the end of the read that hit 0).
    crash_countdown: int | None = None
    crash: Callable[[], None] | None = None


def spell_id(number: int, id_format: str) -> str:
    return format(number, "X") if id_format == "hex" else str(number)


class SmppSession(asyncio.Protocol):
    def __init__(self, context: SessionContext) -> None:
        self._ctx = context
        self._buf = bytearray()
        self._out: list[bytes] = []
        self._in_batch = False
        self._flush_scheduled = False
        self._closing = False
        self._accepted_here = 0
        self._sequence = 0
        self._unacked: dict[int, Delivery] = {}
        self._drip = bytearray()  # split_writes_octets: what is still to leave, piece by piece
        self._drip_timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None
        self.system_id: str | None = None
        self.mode: str | None = None
        self.peer = ""

    # -- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # asyncio already sets it on TCP sockets; stated here because receipts depend on it.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self._ctx.sessions.add(self)
        self._ctx.book.count("connections")

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        if self._drip_timer is not None:
            self._drip_timer.cancel()
        ctx = self._ctx
        ctx.sessions.discard(self)
        ctx.router.detach(self)
        unacked, self._unacked = list(self._unacked.values()), {}
        if unacked and not ctx.stopping:
            # A real SMSC retries what was never acknowledged; so does the simulator.
            ctx.book.count("deliver_sm_redelivered", len(unacked))
            for delivery in unacked:
                ctx.router.route(delivery)

    def pause_writing(self) -> None:
        # The client stopped reading: stop reading its submits too, rather than buffer without end.
        assert self.transport is not None
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self._ctx.policy.config.black_hole:
            self._ctx.book.count("black_holed_reads")
            return  # read and forgotten: the peer hears nothing, not even a TCP reset
        buf = self._buf
        buf += data
        received = self._ctx.book.received
        now, now_mono = time.time(), time.monotonic()  # one reading per batch: same arrival
        pos, end = 0, len(buf)
        delayed: list[bytes] = []
        self._in_batch = True
        try:
            while end - pos >= pdu.HEADER_LEN and not self._closing:
                length, command, status, sequence = pdu.HEADER.unpack_from(buf, pos)
                if length < pdu.HEADER_LEN or length > pdu.MAX_PDU_LEN:
                    # The framing is lost: nothing after this can be trusted.
                    self._ctx.book.count("malformed_pdu")
                    self._out.append(pdu.generic_nack(pdu.ESME_RINVCMDLEN, sequence))
                    self._close_after_flush()
                    break
                if end - pos < length:
                    break
                body = bytes(buf[pos + pdu.HEADER_LEN : pos + length])
                pos += length
                received[command] = received.get(command, 0) + 1
                if command == pdu.SUBMIT_SM:
                    self._submit(sequence, body, now, now_mono, delayed)
                else:
                    self._other(command, status, sequence, body)
            del buf[:pos]
        finally:
            self._in_batch = False
        ctx = self._ctx
        if ctx.crash_countdown is not None and ctx.crash_countdown <= 0 and ctx.crash:
            # Everything this read brought is recorded; its answers die with the process.
            ctx.crash_countdown = None
            self._out.clear()
            ctx.crash()
            return
        if delayed:
            asyncio.get_running_loop().call_later(
                self._ctx.policy.config.response_delay_s, self._write_late, b"".join(delayed)
            )
        self.flush()

    # -- writing ----------------------------------------------------------------------------------

    def flush(self) -> None:
        self._flush_scheduled = False
        if self._out:
            self._write(b"".join(self._out))
        self._out.clear()
        if self._closing and self.transport is not None and not self._drip:
            self.transport.close()

    def _write_late(self, data: bytes) -> None:
        self._write(data)

    def _write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        config = self._ctx.policy.config
        if config.black_hole:
            return  # deliver_sm stay unacknowledged and are routed again when the link goes
        piece = config.split_writes_octets
        if piece is None and not self._drip:
            transport.write(data)
            return
        self._drip += data  # behind what is already dripping, so the order on the wire holds
        if self._drip_timer is None:
            self._drip_out()

    def _drip_out(self) -> None:
        """Write the next piece of a split write; the rest follows _SPLIT_PAUSE_S later."""
        self._drip_timer = None
        transport = self.transport
        if transport is None or transport.is_closing():
            self._drip.clear()
            return
        piece = self._ctx.policy.config.split_writes_octets or len(self._drip)
        transport.write(bytes(self._drip[:piece]))
        del self._drip[:piece]
        if self._drip:
            loop = asyncio.get_running_loop()
            self._drip_timer = loop.call_later(_SPLIT_PAUSE_S, self._drip_out)
        elif self._closing:
            transport.close()

    def _close_after_flush(self) -> None:
        self._closing = True
        self._ctx.router.detach(self)

    def enqueue(self, delivery: Delivery) -> bool:
        """Write a deliver_sm soon (in this batch's write, or on the next loop turn)."""
        if self._closing or self.transport is None or self.transport.is_closing():
            return False
        self._sequence = self._sequence % _MAX_SEQUENCE + 1
        self._unacked[self._sequence] = delivery
        self._out.append(pdu.pdu(pdu.DELIVER_SM, 0, self._sequence, delivery.body))
        self._ctx.book.count(f"{delivery.kind}_sent")
        if not self._in_batch and not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)
        return True

    @property
    def unacked_count(self) -> int:
        return len(self._unacked)

    # -- requests and responses -------------------------------------------------------------------

    def _other(self, command: int, status: int, sequence: int, body: bytes) -> None:
        out = self._out
        if command in _BIND_MODES:
            self._bind(command, sequence, body)
        elif command == pdu.ENQUIRE_LINK:
            out.append(pdu.pdu(pdu.ENQUIRE_LINK | pdu.RESP_BIT, 0, sequence))
        elif command == pdu.DELIVER_SM | pdu.RESP_BIT:
            self._answered(sequence, status)
        elif command == pdu.GENERIC_NACK:
            # The client could not read our deliver_sm: never an acknowledgement, whatever status.
            self._answered(sequence, status or pdu.ESME_RSYSERR)
        elif command == pdu.UNBIND:
            out.append(pdu.pdu(pdu.UNBIND | pdu.RESP_BIT, 0, sequence))
            self._close_after_flush()
        elif command & pdu.RESP_BIT:
            pass  # enquire_link_resp, unbind_resp: nothing waits for them
        else:
            out.append(pdu.generic_nack(pdu.ESME_RINVCMDID, sequence))
            self._ctx.book.count("generic_nack_sent")

    def _bind(self, command: int, sequence: int, body: bytes) -> None:
        if self.mode is not None:
            self._out.append(pdu.bind_resp(command, pdu.ESME_RALYBND, sequence, SMSC_ID))
            return
        try:
            bind = pdu.parse_bind(body)
        except pdu.PduError as exc:
            self._out.append(pdu.generic_nack(exc.status, sequence))
            return
        config = self._ctx.policy.config
        expected = config.credentials.get(bind.system_id)
        if config.bind_refusal_status is not None:
            status = config.bind_refusal_status
        elif expected is None:
            status = pdu.ESME_RINVSYSID
        elif expected != bind.password:
            status = pdu.ESME_RINVPASWD
        else:
            status = pdu.ESME_ROK
        if status:
            self._out.append(pdu.bind_resp(command, status, sequence, SMSC_ID))
            self._ctx.book.count("bind_refused")
            return
        self.mode, self.system_id = _BIND_MODES[command], bind.system_id
        early = config.deliver_before_bind_resp and self.mode != TRANSMITTER
        if early:
            # A misbehaving SMSC: what it held for this account leaves ahead of the bind_resp.
            self._ctx.router.attach(self)
        self._out.append(pdu.bind_resp(command, status, sequence, SMSC_ID))
        if self.mode != TRANSMITTER and not early:
            self._ctx.router.attach(self)  # after the bind_resp, so held PDUs follow it

    def _answered(self, sequence: int, status: int) -> None:
        delivery = self._unacked.pop(sequence, None)
        if delivery is None:
            return
        ctx = self._ctx
        ctx.book.count(f"{delivery.kind}_acked" if status == 0 else f"{delivery.kind}_nacked")
        if delivery.ticket is not None:
            delivery.ticket.part_answered(status)
        delay_s = ctx.policy.config.redelivery_delay_s
        if status and status not in _FINAL_REFUSALS and delay_s is not None and not ctx.stopping:
            ctx.book.count("deliver_sm_redelivered")
            ctx.router.schedule(delivery, delay_s)

    def _submit(
        self, sequence: int, body: bytes, now: float, now_mono: float, delayed: list[bytes]
    ) -> None:
        ctx = self._ctx
        book = ctx.book
        policy = ctx.policy
        config = policy.config
        answers = delayed if config.response_delay_s else self._out
        if self.mode is None or self.mode == RECEIVER:
            book.refused[pdu.ESME_RINVBNDSTS] = book.refused.get(pdu.ESME_RINVBNDSTS, 0) + 1
            answers.append(pdu.submit_sm_resp(pdu.ESME_RINVBNDSTS, sequence))
            return
        try:
            sm = pdu.parse_submit_sm(body)
        except pdu.PduError as exc:
            book.count("generic_nack_sent")
            answers.append(pdu.generic_nack(exc.status, sequence))
            return
        destination = sm.destination_addr
        if policy.reads_destination:
            destination = e164(destination, sm.dest_addr_ton)
        assert self.system_id is not None
        refusal = policy.refusal(self.system_id, destination, now_mono)
        if refusal is not None:
            if refusal == NACK:
                book.count("generic_nack_sent")
                answers.append(pdu.generic_nack(pdu.ESME_RSYSERR, sequence))
            else:
                book.refused[refusal] = book.refused.get(refusal, 0) + 1
                answers.append(pdu.submit_sm_resp(refusal, sequence))
            return

        number = next(ctx.ids)
        message_id = spell_id(number, config.message_id_format)
        silent = policy.silent(destination)
        udh, payload = pdu.concat_info(sm.esm_class, sm.short_message, sm.tlvs)
        book.add(
            AcceptedSubmit(
                now,
                now_mono,
                self.system_id,
                sm.source_addr,
                sm.source_addr_ton,
                sm.source_addr_npi,
                sm.destination_addr,
                sm.dest_addr_ton,
                sm.dest_addr_npi,
                sm.esm_class,
                sm.data_coding,
                sm.registered_delivery,
                sm.validity_period,
                sm.short_message,
                udh,
                payload,
                message_id,
                not silent,
            )
        )
        if sm.registered_delivery & 0x03:
            self._receipt(sm, number, message_id, destination, payload, now)
            if policy.unknown_receipt():
                # An id this simulator never gave ('X' is no digit in either id format).
                book.count("unknown_receipts_sent")
                self._receipt(sm, number, message_id, destination, payload, now, f"X{number}")
        if silent:
            book.count("no_response")
        else:
            resp = pdu.submit_sm_resp(pdu.ESME_ROK, sequence, message_id)
            if policy.malformed():
                book.count("malformed_sent")
                resp = malformed_frame(
                    config.malformed_kind, sequence, resp, policy.random_octets(64)
                )
            answers.append(resp)

        self._accepted_here += 1
        if ctx.crash_countdown is not None:
            ctx.crash_countdown -= 1
        limit = config.drop_connection_after
        if (
            limit
            and self._accepted_here >= limit
            and (config.drop_connection_repeat or not ctx.drop_done)
        ):
            ctx.drop_done = True
            book.count("connections_dropped")
            if config.drop_mid_pdu and answers and not silent:
                # The connection dies with half of this resp on the wire.
                answers[-1] = answers[-1][: len(answers[-1]) // 2]
            self._close_after_flush()

    def _receipt(
        self,
        sm: pdu.SubmitSm,
        number: int,
        message_id: str,
        destination: str,
        payload: bytes,
        now: float,
        unknown_id: str | None = None,
    ) -> None:
        policy = self._ctx.policy
        config = policy.config
        outcome = policy.outcome(destination)
        if sm.registered_delivery & 0x03 == 2 and outcome == "delivered":
            return  # 2 = receipt on failure only
        id_format = config.receipt_id_format
        if unknown_id is not None:
            receipt_id = unknown_id
        elif id_format == "same":
            receipt_id = message_id
        else:
            receipt_id = spell_id(number, id_format)
        delay_s = config.receipt_delay_s
        clock = self._ctx.clock
        # 20 characters take at most 80 octets (UCS-2 surrogate pairs), so decode no more.
        excerpt = receipts.excerpt(decode_text(sm.data_coding, payload[:80]))
        text = receipts.receipt_text(
            receipt_id, outcome, clock.stamp(now), clock.stamp(now + delay_s), excerpt
        )
        assert self.system_id is not None
        delivery = Delivery(
            self.system_id, receipts.receipt_body(receipt_id, outcome, text, sm), "receipt"
        )
        router = self._ctx.router
        if policy.receipt_first():
            router.route(delivery, prefer=self)  # into this batch's write, ahead of the resp
        else:
            router.schedule(delivery, delay_s)
        if policy.duplicate_receipt():
            router.schedule(Delivery(delivery.system_id, delivery.body, "receipt"), 2 * delay_s)
