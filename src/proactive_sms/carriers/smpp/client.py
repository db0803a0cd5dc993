"""SmppCarrier: the production SMPP 3.4 connection (one transceiver bind) behind the carrier seam.

What the dispatcher can rely on (see carriers/base.py for the statuses):
- submit() is safe from many tasks at once. At most window_size submit_sm (each part of a long
  text is one) await their answer at any moment; further parts wait for a slot.
- NOT_SENT means no octet of this text left the process: the text may be submitted again.
  UNCERTAIN means a PDU was handed to the socket and its answer is unknown (no answer within
  response_timeout_s, or the connection ended first): the text must not be sent again blindly.
  While unbound, submit() answers NOT_SENT at once; it never waits for a reconnect.
- A text that cannot be addressed or encoded as given is PERMANENT with no error_code, and
  nothing is sent.
- A long text is sent part after part. A refusal of the first part is reported as such
  (THROTTLED, QUEUE_FULL, TEMPORARY, PERMANENT with its code). Once a part was accepted, the
  carrier itself retries a retryable refusal of a later part (partial_retry_limit times, short
  backoff, through the window), and a later part that could not be written is retried after the
  re-bind; an accepted part is never sent again. If the refusal persists the text is PERMANENT
  ("part k/n refused after earlier parts were accepted"); if a later part gets no answer, or
  cannot be sent at all, it is UNCERTAIN. Both keep the carrier ids of the accepted parts.
- The link is probed with enquire_link after enquire_link_interval_s without traffic (any PDU
  from the SMSC proves it alive); no answer within response_timeout_s ends the session, and the
  carrier reconnects with exponential backoff (reconnect_min_s .. reconnect_max_s) until stop().
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from proactive_sms.carriers.base import (
    CarrierStats,
    InboundHandler,
    OutboundText,
    ReceiptHandler,
    SourceKind,
    SubmitResult,
    SubmitStatus,
    clean_message_id,
)
from proactive_sms.carriers.smpp.addressing import SmppAddress, e164_address, source_address
from proactive_sms.carriers.smpp.backoff import Backoff
from proactive_sms.carriers.smpp.broker import PartBroker
from proactive_sms.carriers.smpp.config import SmppConfig
from proactive_sms.carriers.smpp.correlator import (
    PartFate,
    PartOutcome,
    PendingPart,
    WindowCorrelator,
)
from proactive_sms.carriers.smpp.deliveries import Deliveries
from proactive_sms.carriers.smpp.parts import ConcatRefs, encode_parts
from proactive_sms.carriers.smpp.pdus import absolute_validity, submit_sm_body
from proactive_sms.carriers.smpp.session import Session
from proactive_sms.carriers.smpp.statuses import ESME_ROK, is_retryable, refusal_status

log = logging.getLogger(__name__)

_PARTIAL_RETRY_FIRST_S = 0.1  # later-part retry delays: 0.1, 0.2, 0.4 ... s
_PARTIAL_RETRY_MAX_S = 2.0


class SmppCarrier:
    """One SMPP transceiver session to one SMSC account, kept up until stop()."""

    def __init__(
        self, config: SmppConfig, on_receipt: ReceiptHandler, on_inbound: InboundHandler
    ) -> None:
        self.config = config
        self.stats = CarrierStats()
        self._window = asyncio.Semaphore(config.window_size)
        self._correlator = WindowCorrelator(config.window_size)
        self._broker = PartBroker(config.window_size)
        self._backoff = Backoff(config.reconnect_min_s, config.reconnect_max_s)
        self._deliveries = Deliveries(
            on_receipt,
            on_inbound,
            self._acknowledge,
            config.handler_concurrency,
            config.inbound_reassembly_timeout_s,
            acknowledge_now=self._acknowledge_now,
        )
        self._refs = ConcatRefs()
        self._session: Session | None = None
        self._runner: asyncio.Task[None] | None = None
        self._generation = 0
        self._live = False  # bound, and the session has not been seen ending
        self._bound_event = asyncio.Event()
        self._stopping = False
        # Why the link is down, in words ("bind refused: wrong password (...)"): a failed
        # connect or bind, or a session that ended while it was wanted; None once bound. The
        # dispatcher records each new one, with when, in the store (services.link_status), where
        # it is kept after a re-bind.
        self.last_error: str | None = None
        self.last_error_count = 0  # grows with each new error, so a repeat is seen as new
        self._active_submits = 0
        self._timeouts: asyncio.TimerHandle | None = None  # see part_written
        self._sources: dict[tuple[str, SourceKind], SmppAddress] = {}  # see _bodies
        self._validity: tuple[datetime | None, str] = (None, absolute_validity(None))
        self._submits_idle = asyncio.Event()
        self._submits_idle.set()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the session task (connect, bind, reconnect with backoff until stop())."""
        if self._runner is not None:
            return
        self._runner = asyncio.create_task(self._run(), name=f"smpp:{self.config.system_id}")
        await asyncio.sleep(0)  # let it begin, as callers expect the task to be running

    async def wait_bound(self, timeout_s: float) -> bool:
        """True once bound (at once if bound now); False if timeout_s passes first."""
        try:
            await asyncio.wait_for(self._bound_event.wait(), timeout_s)
        except TimeoutError:
            return False
        return self._live

    @property
    def bound(self) -> bool:
        return self._live

    async def stop(self) -> None:
        """Stop cleanly: refuse new texts, let started ones finish, unbind, end the task.

        Texts already being sent get up to response_timeout_s to finish (a long text in the
        middle of its parts is worth completing); whatever is still pending then is settled by
        the end of the session: UNCERTAIN when a PDU left, NOT_SENT when none did.
        """
        if self._stopping:
            return
        self._stopping = True
        grace_s = self.config.response_timeout_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._submits_idle.wait(), grace_s)
        await self._deliveries.drain(grace_s)
        self._backoff.stop()
        session = self._session
        if session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.stop(), grace_s)
        if self._runner is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._runner), grace_s)
            except TimeoutError:
                self._runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._runner
        self.session_ended(self._generation)
        # Handlers of deliver_sm that arrived during the unbind: none may run after stop().
        await self._deliveries.drain(grace_s)

    async def _run(self) -> None:
        # aiosmpplib's start() loops over connect/serve/backoff itself; this loop only restarts
        # it (on a fresh ESME) if it ever dies of something it does not catch.
        while not self._stopping:
            self._session = Session(
                self.config, self, self._correlator, self._broker, self._backoff
            )
            try:
                await self._session.start()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the connection must outlive any one bug
                log.exception("SMPP session loop died; starting a new one")
            self.session_ended(self._generation)
            if not self._stopping:
                await self._backoff.wait()

    # --- submit ------------------------------------------------------------------------------

    async def submit(self, text: OutboundText) -> SubmitResult:
        """Send one text (all its parts) and report what happened; never raises for the network."""
        if self._stopping or not self._live:
            return _result(text, SubmitStatus.NOT_SENT, detail="not bound to the SMSC")
        try:
            bodies = self._bodies(text)
        except ValueError as exc:
            return _result(text, SubmitStatus.PERMANENT, detail=f"cannot be sent as given: {exc}")
        self._active_submits += 1
        self._submits_idle.clear()
        try:
            return await self._submit_parts(text, bodies)
        finally:
            self._active_submits -= 1
            if not self._active_submits:
                self._submits_idle.set()

    def _bodies(self, text: OutboundText) -> list[bytes]:
        # A code's texts share their source, and texts to one zone their validity (the window's
        # close): each is worked out once, not for every text.
        source = self._sources.get((text.source, text.source_kind))
        if source is None:
            source = source_address(text.source, text.source_kind)
            if len(self._sources) >= 1000:
                self._sources.clear()
            self._sources[(text.source, text.source_kind)] = source
        destination = e164_address(text.destination)
        if text.validity_until != self._validity[0]:
            self._validity = (text.validity_until, absolute_validity(text.validity_until))
        validity = self._validity[1]
        ref = self._refs.next() if len(text.parts) > 1 else 1
        return [
            submit_sm_body(source, destination, part, validity, service_type="")
            for part in encode_parts(text.parts, text.encoding, ref)
        ]

    async def _submit_parts(self, text: OutboundText, bodies: list[bytes]) -> SubmitResult:
        total = len(bodies)
        ids: list[str] = []
        for number, body in enumerate(bodies, start=1):
            retries = 0
            while True:
                outcome = await self._send_part(body, first=number == 1)
                if _accepted(outcome):
                    ids.append(clean_message_id(outcome.message_id))
                    break
                if number == 1:
                    return _first_part_result(text, outcome)
                # An earlier part is out: the text can no longer be NOT_SENT or a clean refusal.
                if outcome.fate in (PartFate.NO_ANSWER, PartFate.LOST):
                    return _result(
                        text,
                        SubmitStatus.UNCERTAIN,
                        ids,
                        detail=f"no answer to part {number}/{total} after earlier parts were "
                        f"accepted ({_fate_text(outcome)})",
                    )
                retryable = outcome.fate is PartFate.NOT_SENT or is_retryable(
                    outcome.command_status, outcome.generic_nack
                )
                out_of_tries = retries >= self.config.partial_retry_limit
                if not retryable or out_of_tries or self._stopping:
                    return _later_part_failure(text, outcome, ids, number, total)
                retries += 1
                await self._partial_retry_pause(retries, outcome)
        return _result(text, SubmitStatus.ACCEPTED, ids)

    async def _partial_retry_pause(self, retries: int, outcome: PartOutcome) -> None:
        delay = min(_PARTIAL_RETRY_FIRST_S * 2 ** (retries - 1), _PARTIAL_RETRY_MAX_S)
        if outcome.fate is PartFate.NOT_SENT:
            # The link went down between parts: wait for the re-bind, within the same budget.
            await self.wait_bound(max(delay, self.config.response_timeout_s))
        else:
            await asyncio.sleep(delay)

    async def _send_part(self, body: bytes, first: bool) -> PartOutcome:
        await self._window.acquire()
        try:
            # Checked after the (possibly long) wait for a slot, and with no await before the
            # queueing, so a part can never be queued into a session that has already ended.
            # Once stop() began, only texts already started may go on (to finish long ones).
            if not self._live or (first and self._stopping):
                return PartOutcome(PartFate.NOT_SENT)
            loop = asyncio.get_running_loop()
            part = PendingPart(loop.create_future(), self._generation, body)
            self._correlator.queued(part)
            try:
                # Written from here (numbered, registered, queued with this turn's writes), not
                # through aiosmpplib's broker queue and sender task: a task switch and a chain of
                # awaits less for every submit_sm.
                session = self._session
                if session is None or not session.write_part(part):
                    part.settle(PartOutcome(PartFate.NOT_SENT))
                elif session.write_backlog():
                    await session.drain_writes()
                outcome = await part.future
            finally:
                if not part.done:  # our caller was cancelled: make sure it is never sent late
                    part.settle(PartOutcome(PartFate.NOT_SENT))
                self._correlator.discard(part)
            self._count(outcome)
            return outcome
        finally:
            self._window.release()

    # --- SessionEvents (called by session.Session) -------------------------------------------

    def session_started(self) -> int:
        self._generation += 1
        if self._generation > 1:
            self.stats.reconnects += 1
        self._live = True
        self.last_error = None
        self._correlator.begin_session()
        self._bound_event.set()
        self._deliveries.session_started(self._generation)
        log.info(
            "SMPP bound to %s:%s as %s", self.config.host, self.config.port, self.config.system_id
        )
        return self._generation

    def bind_failed(self, reason: str) -> None:
        # Said once per reason, not at every attempt of the reconnect loop.
        if reason != self.last_error:
            log.warning(
                "SMPP %s:%s as %s: %s; retrying with backoff",
                self.config.host, self.config.port, self.config.system_id, reason,
            )
        self._note_error(reason)

    def session_ended(self, generation: int) -> None:
        if generation != self._generation or not self._live:
            return
        self._live = False
        self._bound_event.clear()
        self._broker.drain()
        self._correlator.end_session()
        self._deliveries.session_ended()
        if not self._stopping:
            self._note_error("session ended by the SMSC or the network; reconnecting")
            log.warning(
                "SMPP session to %s:%s ended; reconnecting", self.config.host, self.config.port
            )

    def connect_failed(self, error: BaseException) -> None:
        if not self._stopping:
            self._note_error(f"connect or bind failed: {_describe(error)}")

    def _note_error(self, text: str) -> None:
        self.last_error = text
        self.last_error_count += 1

    def may_send(self, part: PendingPart) -> bool:
        return self._live and part.generation == self._generation and not part.done

    def part_written(self, part: PendingPart, sequence_num: int) -> None:
        loop = asyncio.get_running_loop()
        self._correlator.written(part, sequence_num, loop.time() + self.config.response_timeout_s)
        # One timer for all the parts (at the first one's deadline), not one per part: a timer
        # made and cancelled for every submit_sm was a measurable share of its cost.
        if self._timeouts is None:
            self._timeouts = loop.call_at(part.deadline, self._no_answers)
        self.stats.submitted_pdus += 1

    def _no_answers(self) -> None:
        """Settle the parts whose answer is overdue; set the timer again for the next one."""
        loop = asyncio.get_running_loop()
        self._timeouts = None
        for part in self._correlator.overdue(loop.time()):
            part.settle(PartOutcome(PartFate.NO_ANSWER))
        deadline = self._correlator.first_deadline()
        if deadline is not None:
            self._timeouts = loop.call_at(deadline, self._no_answers)

    async def deliver_sm(self, pdu: bytes, sequence_num: int, generation: int) -> None:
        await self._deliveries.received(pdu, sequence_num, generation)

    async def _acknowledge(self, sequence_num: int, command_status: int, generation: int) -> bool:
        session = self._session
        if session is None:
            return False
        return await session.acknowledge(sequence_num, command_status, generation)

    def _acknowledge_now(self, sequence_num: int, command_status: int, generation: int) -> bool:
        session = self._session
        return session is not None and session.acknowledge_now(sequence_num, command_status,
                                                               generation)

    def _count(self, outcome: PartOutcome) -> None:
        if outcome.fate is not PartFate.ANSWERED:
            return
        if _accepted(outcome):
            self.stats.accepted_pdus += 1
        else:
            errors = self.stats.errors_by_code
            errors[outcome.command_status] = errors.get(outcome.command_status, 0) + 1


def _describe(error: BaseException) -> str:
    """An error as a person reads it: its class and message; a refused bind names the command
    and the status the SMSC answered (e.g. bind_transceiver: ESME_RINVPASWD)."""
    status = getattr(error, "command_status", None)
    if status is not None:
        command = getattr(error, "smpp_command", None)
        name = getattr(status, "name", str(status))
        where = f"{getattr(command, 'name', command)}".lower() if command is not None else ""
        return f"{where}: {name}" if where else str(name)
    detail = str(error).strip()
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _result(
    text: OutboundText,
    status: SubmitStatus,
    ids: list[str] | None = None,
    error_code: int | None = None,
    detail: str = "",
) -> SubmitResult:
    return SubmitResult(text.message_id, status, tuple(ids or ()), error_code, detail)


def _accepted(outcome: PartOutcome) -> bool:
    # A generic_nack is never an acceptance, whatever status the SMSC put in it.
    return (
        outcome.fate is PartFate.ANSWERED
        and outcome.command_status == ESME_ROK
        and not outcome.generic_nack
    )


def _fate_text(outcome: PartOutcome) -> str:
    if outcome.fate is PartFate.NO_ANSWER:
        return "no submit_sm_resp within the response timeout"
    if outcome.fate is PartFate.LOST:
        return "connection lost while waiting for submit_sm_resp"
    if outcome.fate is PartFate.NOT_SENT:
        return "not bound; nothing was sent"
    kind = "generic_nack" if outcome.generic_nack else "submit_sm_resp"
    return f"{kind} 0x{outcome.command_status:08X}"


def _first_part_result(text: OutboundText, outcome: PartOutcome) -> SubmitResult:
    if outcome.fate is PartFate.NOT_SENT:
        return _result(text, SubmitStatus.NOT_SENT, detail=_fate_text(outcome))
    if outcome.fate is not PartFate.ANSWERED:
        return _result(text, SubmitStatus.UNCERTAIN, detail=_fate_text(outcome))
    status = refusal_status(outcome.command_status, outcome.generic_nack)
    return _result(text, status, error_code=outcome.command_status, detail=_fate_text(outcome))


def _later_part_failure(
    text: OutboundText, outcome: PartOutcome, ids: list[str], number: int, total: int
) -> SubmitResult:
    if outcome.fate is PartFate.NOT_SENT:
        # Earlier parts are on their way to the handset; sending the text again would repeat
        # them, so this is not retryable even though this part never left.
        return _result(
            text,
            SubmitStatus.UNCERTAIN,
            ids,
            detail=f"part {number}/{total} could not be sent after earlier parts were accepted",
        )
    return _result(
        text,
        SubmitStatus.PERMANENT,
        ids,
        error_code=outcome.command_status,
        detail=f"part {number}/{total} refused after earlier parts were accepted "
        f"({_fate_text(outcome)})",
    )
