"""aiosmpplib's ESME, fitted with our seams and with the few overrides production needs.

aiosmpplib keeps doing what it does well: connect, bind, the reconnect loop, enquire_link on an
idle link (and dropping a link that stays silent), answering enquire_link and unbind, framing.
What is ours (each one is an argument of ESME or a small override, pinned to aiosmpplib 0.7.4;
see shared SMPP.md for the traps behind them):

- submit_sm parts are written by write_part, called by the submitting task itself: numbered,
  registered by sequence number *before* the write (so that an answer can never arrive before
  its part is known), queued with the coalesced writes; parts of an ended session are refused.
  They no longer pass through aiosmpplib's broker and sender task (a task switch per PDU); the
  broker (broker.py) and hook.sending stay for a part that would come that way;
- correlator (correlator.py), retry timer (backoff.py); throttle handler: none (the dispatcher
  paces and pauses a code on THROTTLED; a second pacer here would only hide the signal);
- _get_pdu: a command_status outside aiosmpplib's enum (vendor codes 0x400+) or an unknown
  command id would raise ValueError there and drop the session, in a loop if the SMSC insists;
- _handle_response: submit_sm_resp / generic_nack settle their part straight from the octets;
- _handle_request: deliver_sm goes to our handler and gets its deliver_sm_resp only after the
  application has handled it (see deliveries.py); other unexpected requests get generic_nack;
- _send_data: coalesces the writes of one event-loop turn into one system call;
- the three session tasks: report the end of a session at once, and turn an unexpected
  exception into a clean end, since aiosmpplib's start() would otherwise die with it and leave
  the other tasks running; _end_task cancels them at once instead of waiting 0.5 s each;
- connect/start: close the sockets aiosmpplib opens and forgets (one per reconnect);
- a request the SMSC sends before our bind_resp (a deliver_sm it held for us, an enquire_link)
  is answered "not now" instead of failing the bind: aiosmpplib took it for a refused bind, and
  an SMSC that always does so kept us from binding at all while it redelivered the same PDU.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from asyncio import IncompleteReadError
from collections.abc import Awaitable
from typing import Protocol, TypeVar

from aiosmpplib import ESME
from aiosmpplib.hook import AbstractHook
from aiosmpplib.protocol import (
    PDU_HEADER_LENGTH,
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    GenericNack,
    SmppMessage,
)
from aiosmpplib.state import (
    COMMAND_RESPONSE_MAP,
    BindMode,
    PduHeader,
    SmppCommand,
    SmppCommandStatus,
    SmppError,
)
from aiosmpplib.throttle import AbstractThrottleHandler

from proactive_sms.carriers.smpp.backoff import Backoff
from proactive_sms.carriers.smpp.broker import PartBroker
from proactive_sms.carriers.smpp.config import SmppConfig
from proactive_sms.carriers.smpp.correlator import PendingPart, WindowCorrelator
from proactive_sms.carriers.smpp.pdus import PreEncodedSubmitSm
from proactive_sms.carriers.smpp.statuses import describe_bind_refusal

log = logging.getLogger(__name__)
_library_log = logging.getLogger("proactive_sms.carriers.smpp.aiosmpplib")

_HEADER = struct.Struct("!IIII")
_MAX_PDU_OCTETS = 2**16 + 1024  # message_payload may hold 64 KiB; more means a broken stream
# What aiosmpplib's start() expects from a session task and turns into a reconnect.
_SESSION_ERRORS = (ConnectionError, TimeoutError, IncompleteReadError, OSError, ValueError)
_T = TypeVar("_T")
_BIND_REQUESTS = (BindTransmitter, BindReceiver, BindTransceiver)
_WRITE_BUFFER_HIGH = 256 * 1024  # wait for the socket (drain) above this many unsent octets
_RESP_BIT = 0x80000000
# deliver_sm_resp status for a deliver_sm that comes before the bind_resp: "temporary
# application error", so the SMSC keeps it and sends it again once we are bound.
_ESME_RX_T_APPN = 0x64


class SessionEvents(Protocol):
    """What the carrier hears from the session (implemented by SmppCarrier)."""

    def session_started(self) -> int: ...  # returns the new session's generation
    def bind_failed(self, reason: str) -> None: ...  # why a connect or bind attempt failed
    def session_ended(self, generation: int) -> None: ...
    def connect_failed(self, error: BaseException) -> None: ...  # no session: why
    def may_send(self, part: PendingPart) -> bool: ...
    def part_written(self, part: PendingPart, sequence_num: int) -> None: ...
    async def deliver_sm(self, pdu: bytes, sequence_num: int, generation: int) -> None: ...


# aiosmpplib's own lines for a failed connect or bind ("Error response received from SMSC:
# BIND_TRANSCEIVER_RESP: ESME_RINVPASWD", with an empty "SmppError()"): the carrier says the same
# in words once (SmppCarrier.bind_failed), so these go down to INFO.
_SAID_BY_US = ("Error response received from SMSC", "Connection lost while connecting",
               "Timed out while connecting")


class _ForwardToLogging(logging.Handler):
    """aiosmpplib's StructuredLogger has no parent logger; route its records into ours."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno > logging.INFO and str(record.msg).startswith(_SAID_BY_US):
            record.levelno, record.levelname = logging.INFO, "INFO"
        if _library_log.isEnabledFor(record.levelno):
            record.name = _library_log.name
            _library_log.handle(record)


class _Hook(AbstractHook):
    def __init__(self, events: SessionEvents) -> None:
        self._events = events

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, PreEncodedSubmitSm):
            part = smpp_message.call
            assert isinstance(part, PendingPart)
            if not self._events.may_send(part):
                # aiosmpplib's sender logs a ValueError and goes on with the next message.
                raise ValueError("submit_sm of an ended session or abandoned call: not sent")
            self._events.part_written(part, smpp_message.sequence_num)

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        return None  # answers are settled in the correlator, deliver_sm in deliveries

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        return None  # only called for aiosmpplib's own SubmitSm, which we never send


class _NoThrottle(AbstractThrottleHandler):
    async def throttled(self) -> None:
        return None

    async def not_throttled(self) -> None:
        return None

    async def allow_request(self) -> bool:
        return True

    async def throttle_delay(self) -> float:
        return 0.0


class Session(ESME):
    """One ESME bound as transceiver, reporting to SessionEvents."""

    def __init__(
        self,
        config: SmppConfig,
        events: SessionEvents,
        correlator: WindowCorrelator,
        broker: PartBroker,
        backoff: Backoff,
    ) -> None:
        super().__init__(
            smsc_host=config.host,
            smsc_port=config.port,
            system_id=config.system_id,
            password=config.password,
            system_type=config.system_type,
            bind_mode=BindMode.TRANSCEIVER,
            enquire_link_interval=float(config.enquire_link_interval_s),
            # aiosmpplib uses it for connect, bind and the enquire_link answer
            socket_timeout=float(config.response_timeout_s),
            log_level=logging.INFO,  # its per-PDU lines are DEBUG: skipped, not formatted
            log_handler=_ForwardToLogging(),
            log_include_timestamp=False,
            hook=_Hook(events),
            broker=broker,
            throttle_handler=_NoThrottle(),
            correlator=correlator,
            retry_timer=backoff,
        )
        self._events = events
        self._window_correlator = correlator
        self._generation = 0
        # aiosmpplib's _disconnect forgets _writer without closing it; we keep our own handle.
        self._socket: asyncio.StreamWriter | None = None
        self._outbox: list[bytes] = []
        self._flush_scheduled = False
        self._binding = False  # between our bind request and its answer

    async def acknowledge(self, sequence_num: int, command_status: int, generation: int) -> bool:
        """Send a deliver_sm_resp, unless its session has ended (the SMSC will redeliver).

        Built as octets and queued with the coalesced writes: one resp per receipt makes this
        as hot as submit_sm, and aiosmpplib's DeliverSmResp dataclass costs more than the write.
        """
        writer = self._writer
        if not self.acknowledge_now(sequence_num, command_status, generation):
            return False
        if writer is not None and writer.transport.get_write_buffer_size() > _WRITE_BUFFER_HIGH:
            async with self._drain_lock:
                await writer.drain()
        return True

    def acknowledge_now(self, sequence_num: int, command_status: int, generation: int) -> bool:
        """acknowledge() without waiting for the socket: the resp is queued with the coalesced
        writes (a full socket buffer is waited for by the next submit_sm)."""
        writer = self._writer
        if (
            generation != self._generation
            or self.session_state != self.bind_mode.session_state
            or self._is_shutting_down  # unbind sent: the SMSC no longer expects answers
            or writer is None
        ):
            return False
        # header + the empty message_id C-string (unused in deliver_sm_resp)
        header = _HEADER.pack(17, SmppCommand.DELIVER_SM_RESP, command_status, sequence_num)
        self._queue_write(writer, header + b"\x00")
        return True

    def write_part(self, part: PendingPart) -> bool:
        """Number a submit_sm part, register it and queue its octets with this turn's writes,
        straight from the caller (no broker queue, no sender task: this is the hottest PDU
        there is). False, with nothing sent, when this session cannot take it (not bound, being
        unbound, or the part is of an ended session or already settled)."""
        writer = self._writer
        if (
            writer is None
            or not self._bound.is_set()
            or self._is_shutting_down
            or self.session_state != self.bind_mode.session_state
            or not self._events.may_send(part)
        ):
            return False
        message = part.message
        message.sequence_num = self.sequence_generator.next_sequence()
        # Registered before the write, so that its answer can never come first.
        self._events.part_written(part, message.sequence_num)
        self._queue_write(writer, message.pdu())
        return True

    def write_backlog(self) -> bool:
        """More unsent octets than the socket should hold: the writer waits (drain_writes)."""
        writer = self._writer
        return writer is not None and writer.transport.get_write_buffer_size() > _WRITE_BUFFER_HIGH

    async def drain_writes(self) -> None:
        writer = self._writer
        if writer is not None:
            async with self._drain_lock:
                await writer.drain()

    # --- overrides --------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await super().start()
        finally:
            self._close_socket()

    async def connect(self) -> None:
        # aiosmpplib opens a new socket per attempt and never closes the previous one (nor the
        # one of a refused bind): close it here, or every reconnect leaks a file descriptor.
        self._close_socket()
        self._outbox.clear()
        self._binding = True
        try:
            await super().connect()
        except SmppError as exc:  # start() retries it
            self._close_socket()
            self._events.bind_failed(_bind_refusal(exc))
            raise
        except _SESSION_ERRORS as exc:  # start() retries these
            self._close_socket()
            self._events.bind_failed(f"cannot connect or bind: {_network_error(exc)}")
            raise
        except Exception as exc:  # noqa: BLE001 - anything else would end start() for good
            self._close_socket()
            self._events.connect_failed(exc)
            raise OSError(f"bind failed: {exc!r}") from exc
        finally:
            self._binding = False
        self._socket = self._writer
        self._generation = self._events.session_started()

    async def _end_task(self, task: asyncio.Task[object]) -> None:
        # aiosmpplib gives each task 0.5 s to end by itself, so every reconnect and every stop
        # took a second. Nothing in these tasks needs a graceful end: what was pending is settled
        # by session_ended, and an unacknowledged deliver_sm comes again.
        if not task.done():
            task.cancel()
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            log.debug("SMPP session task %s ended with %r", task.get_name(), task.exception())

    async def _get_pdu(self) -> tuple[bytes, PduHeader]:
        assert self._reader is not None
        while True:
            header = await self._reader.readexactly(PDU_HEADER_LENGTH)
            length, command_id, status, sequence_num = _HEADER.unpack(header)
            if not PDU_HEADER_LENGTH <= length <= _MAX_PDU_OCTETS:
                raise ValueError(f"PDU length {length} is not plausible; stream is out of step")
            body = await self._reader.readexactly(length - PDU_HEADER_LENGTH)
            if self._binding and not command_id & _RESP_BIT:
                self._answer_before_bind(command_id, sequence_num)
                continue
            try:
                command = SmppCommand(command_id)
            except ValueError:
                log.warning("SMSC sent unknown command id 0x%08X; ignored", command_id)
                if not command_id & 0x80000000:  # a request expects an answer
                    await self._send_data(_generic_nack(sequence_num))
                continue
            try:
                command_status = SmppCommandStatus(status)
            except ValueError:
                self._window_correlator.note_raw_status(sequence_num, status)
                command_status = SmppCommandStatus.ESME_RUNKNOWNERR
            return header + body, PduHeader(length, command, command_status, sequence_num)

    def _answer_before_bind(self, command_id: int, sequence_num: int) -> None:
        """Answer a request that came ahead of the bind_resp, so the bind can go on."""
        writer = self._writer
        if writer is None:
            return
        if command_id == SmppCommand.DELIVER_SM:
            log.info("deliver_sm before the bind_resp: answered 0x64 so the SMSC sends it again")
            answer = _HEADER.pack(17, SmppCommand.DELIVER_SM_RESP, _ESME_RX_T_APPN, sequence_num)
            writer.write(answer + b"\x00")
        elif command_id == SmppCommand.ENQUIRE_LINK:
            writer.write(_HEADER.pack(16, SmppCommand.ENQUIRE_LINK_RESP, 0, sequence_num))
        else:
            nack = _HEADER.pack(16, SmppCommand.GENERIC_NACK, SmppCommandStatus.ESME_RINVBNDSTS,
                                sequence_num)
            writer.write(nack)

    async def _handle_request(self, pdu: bytes, header: PduHeader) -> SmppMessage | None:
        command = header.smpp_command
        if command == SmppCommand.DELIVER_SM:
            # Returning None makes aiosmpplib skip its automatic (always ESME_ROK) resp.
            await self._events.deliver_sm(pdu, header.sequence_num, self._generation)
            return None
        if command in (SmppCommand.ENQUIRE_LINK, SmppCommand.UNBIND):
            return await super()._handle_request(pdu, header)
        await self._send_data(_generic_nack(header.sequence_num))
        return None

    async def _handle_response(self, pdu: bytes, header: PduHeader) -> SmppMessage | None:
        # The answer to a submit_sm is the hottest PDU there is: settle its part straight from
        # the octets instead of through aiosmpplib's dataclass, logging, throttle and segment
        # bookkeeping. Returning None tells aiosmpplib's reader there is nothing more to do.
        command = header.smpp_command
        if command == SmppCommand.SUBMIT_SM_RESP or command == SmppCommand.GENERIC_NACK:
            message_id = pdu[PDU_HEADER_LENGTH:].split(b"\x00", 1)[0].decode("latin-1")
            if self._window_correlator.answer(
                header.sequence_num,
                int(header.command_status),
                message_id,
                command == SmppCommand.GENERIC_NACK,
            ):
                return None
            if command == SmppCommand.SUBMIT_SM_RESP:
                # Its part already timed out (and was reported UNCERTAIN); worth a trace, since
                # the text did reach the SMSC after all.
                log.warning(
                    "submit_sm_resp for sequence %d came after its timeout (status 0x%X, id %s)",
                    header.sequence_num,
                    int(header.command_status),
                    message_id,
                )
                return None
        return await super()._handle_response(pdu, header)

    async def _send_data(self, smpp_message: SmppMessage) -> None:
        """aiosmpplib's _send_data, with the writes of submit_sm coalesced (see acknowledge too).

        aiosmpplib writes (one send() system call) per PDU; under load that call is most of the
        cost of a submit, so the PDUs produced in one turn of the event loop leave in one write.
        Every other PDU (bind, unbind, enquire_link, generic_nack) first flushes what is
        pending and goes out at once, so order on the wire is the order of the calls.
        """
        is_part = isinstance(smpp_message, PreEncodedSubmitSm)
        if is_part:
            part = smpp_message.call
            assert isinstance(part, PendingPart)
            # A part dequeued just as its session ended must not wait for the next bind and
            # go out then: its submit() has already been answered NOT_SENT.
            if not self._events.may_send(part):
                return
        if not isinstance(smpp_message, _BIND_REQUESTS):
            await self._bound.wait()
        is_request = smpp_message.smpp_command in COMMAND_RESPONSE_MAP
        if is_request:
            smpp_message.sequence_num = self.sequence_generator.next_sequence()
        pdu = smpp_message.pdu()
        await self.hook.sending(smpp_message, pdu, self.client_id)
        writer = self._writer
        if writer is None:
            raise ConnectionResetError("SMPP connection already closed")
        if is_part:
            self._queue_write(writer, pdu)
        else:
            self._outbox.append(pdu)
            self._flush(writer)
        if writer.transport.get_write_buffer_size() > _WRITE_BUFFER_HIGH:
            async with self._drain_lock:
                await writer.drain()
        if is_request:
            await self.correlator.put(smpp_message)

    def _queue_write(self, writer: asyncio.StreamWriter, pdu: bytes) -> None:
        self._outbox.append(pdu)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush, writer)

    def _flush(self, writer: asyncio.StreamWriter) -> None:
        self._flush_scheduled = False
        outbox, self._outbox = self._outbox, []
        # A PDU queued for a connection that has since been replaced is dropped: its part was
        # settled (LOST) when that session ended.
        if outbox and writer is self._writer and not writer.is_closing():
            writer.write(b"".join(outbox))

    async def _receive_data(self) -> bytes | None:
        return await self._guard("receiver", super()._receive_data())

    async def _dequeue_messages(self) -> dict[str, object]:
        return await self._guard("sender", super()._dequeue_messages()) or {}

    async def _connection_keeper(self) -> None:
        await self._guard("keeper", super()._connection_keeper())

    async def _guard(self, name: str, task: Awaitable[_T]) -> _T | None:
        generation = self._generation
        try:
            return await task
        except _SESSION_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - ends the session cleanly instead of killing start()
            log.exception("SMPP session %s failed; reconnecting", name)
            return None
        finally:
            self._events.session_ended(generation)

    def _close_socket(self) -> None:
        for writer in {self._writer, self._socket}:
            if writer is not None:
                writer.close()
        self._writer = self._socket = None


def _bind_refusal(exc: SmppError) -> str:
    command = getattr(exc, "smpp_command", None)
    status = getattr(exc, "command_status", None)
    if command is not None and command not in COMMAND_RESPONSE_MAP.values():
        return f"the SMSC answered the bind with {command.name}"
    if status is None:
        return "bind refused"
    return "bind refused: " + describe_bind_refusal(int(status), getattr(status, "name", ""))


def _network_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, IncompleteReadError):
        return "the SMSC closed the connection"
    return str(exc) or type(exc).__name__


def _generic_nack(sequence_num: int) -> GenericNack:
    return GenericNack(sequence_num=sequence_num, command_status=SmppCommandStatus.ESME_RINVCMDID)
