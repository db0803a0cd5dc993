"""Our correlator for aiosmpplib: O(1) by sequence number, bounded, nothing kept after an answer.

aiosmpplib's SimpleCorrelator rescans its whole store on every call and keeps submit -> receipt
links for 72 hours, which makes throughput fall quadratically (shared SMPP.md). Here a pending part
lives in a dict from the moment it is queued until its answer, its timeout or the end of its
session; receipts are not correlated at all (the store matches them), so the delivery methods of
the interface are no-ops. At most window_size parts exist, which is the memory bound.
"""

from __future__ import annotations

import asyncio
import enum
from typing import NamedTuple

from aiosmpplib.correlator import AbstractCorrelator, SegmentStatus
from aiosmpplib.protocol import DeliverSm, SmppMessage, SubmitSm
from aiosmpplib.state import SmppCommand

from proactive_sms.carriers.smpp.pdus import PreEncodedSubmitSm

_MAX_OTHER_REQUESTS = 64  # enquire_link / unbind awaiting an answer; normally 0 or 1


class PartFate(enum.IntEnum):
    """How the wait for one submit_sm ended."""

    ANSWERED = 1  # a submit_sm_resp or generic_nack came; see command_status
    NOT_SENT = 2  # never written to the socket: safe to send again
    NO_ANSWER = 3  # written, no answer within response_timeout_s
    LOST = 4  # written, then the session ended before an answer


class PartOutcome(NamedTuple):
    fate: PartFate
    command_status: int = 0
    message_id: str = ""
    generic_nack: bool = False


class PendingPart:
    """One submit_sm between queueing and its outcome (a future per sequence number)."""

    __slots__ = ("deadline", "future", "generation", "message", "sequence_num", "written")

    def __init__(self, future: asyncio.Future[PartOutcome], generation: int, body: bytes) -> None:
        self.future = future
        self.generation = generation  # the session it was queued for; never sent on another
        self.message = PreEncodedSubmitSm(body, self)
        self.sequence_num = 0
        self.written = False
        self.deadline = 0.0  # once written: the loop time by which its answer must come

    @property
    def done(self) -> bool:
        return self.future.done()

    def settle(self, outcome: PartOutcome) -> None:
        if not self.future.done():
            self.future.set_result(outcome)


class WindowCorrelator(AbstractCorrelator):
    """The pending parts of one connection, queued (unsent) or written (awaiting an answer)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._unsent: dict[int, PendingPart] = {}  # id(part) -> part; dict for O(1) removal
        self._written: dict[int, PendingPart] = {}  # sequence_num -> part
        self._others: dict[int, SmppMessage] = {}  # sequence_num -> enquire_link, unbind
        # command_status values aiosmpplib's enum does not know (vendor codes), by sequence_num:
        # the session substitutes a known code so that aiosmpplib can parse the PDU, and the
        # real one is read back here.
        self._raw_status: dict[int, int] = {}

    # Not __len__: aiosmpplib picks `correlator or SimpleCorrelator(...)`, and an empty
    # correlator with a length of 0 would be falsy and silently replaced.
    @property
    def pending(self) -> int:
        return len(self._unsent) + len(self._written)

    # --- our side -------------------------------------------------------------------------

    def queued(self, part: PendingPart) -> None:
        if self.pending >= self._capacity:
            # The window semaphore makes this impossible; failing loudly beats growing silently.
            raise RuntimeError(f"more than {self._capacity} submit_sm pending")
        self._unsent[id(part)] = part

    def written(self, part: PendingPart, sequence_num: int,
                deadline: float = float("inf")) -> None:
        """Called just before the PDU is handed to the socket (so its answer can never be early);
        `deadline`: the loop time by which its answer must come (SmppCarrier's timeouts)."""
        self._unsent.pop(id(part), None)
        part.written = True
        part.sequence_num = sequence_num
        part.deadline = deadline
        self._written[sequence_num] = part

    def first_deadline(self) -> float | None:
        """The deadline of the part written first of those still waiting (the earliest: every
        part gets the same timeout, and the dict keeps the order they were written in)."""
        for part in self._written.values():
            return part.deadline
        return None

    def overdue(self, now: float) -> list[PendingPart]:
        """Take out the written parts whose deadline has passed (they are settled NO_ANSWER)."""
        late = []
        for part in self._written.values():
            if part.deadline > now:
                break
            late.append(part)
        for part in late:
            del self._written[part.sequence_num]
        return late

    def discard(self, part: PendingPart) -> None:
        """Forget a part whose wait ended without an answer (timeout, cancelled caller)."""
        self._unsent.pop(id(part), None)
        if part.written and self._written.get(part.sequence_num) is part:
            del self._written[part.sequence_num]

    def note_raw_status(self, sequence_num: int, command_status: int) -> None:
        if len(self._raw_status) < self._capacity + _MAX_OTHER_REQUESTS:
            self._raw_status[sequence_num] = command_status

    def begin_session(self) -> None:
        # Cleared here rather than at the end of a session: aiosmpplib's unbind_resp can
        # still be read after the session was reported ended.
        self._others.clear()
        self._raw_status.clear()

    def end_session(self) -> None:
        """The connection is gone: written parts are LOST, queued ones NOT_SENT."""
        written, unsent = list(self._written.values()), list(self._unsent.values())
        self._written.clear()
        self._unsent.clear()
        for part in written:
            part.settle(PartOutcome(PartFate.LOST))
        for part in unsent:
            part.settle(PartOutcome(PartFate.NOT_SENT))

    # --- aiosmpplib's side ----------------------------------------------------------------

    async def put(self, smpp_message: SmppMessage) -> None:
        # Called after the write; submit parts were registered before it (see `written`).
        if isinstance(smpp_message, PreEncodedSubmitSm):
            return
        if len(self._others) >= _MAX_OTHER_REQUESTS:
            self._others.pop(next(iter(self._others)))
        self._others[smpp_message.sequence_num] = smpp_message

    def answer(
        self, sequence_num: int, command_status: int, message_id: str, generic_nack: bool
    ) -> bool:
        """Settle the part a submit_sm_resp / generic_nack answers; False if none waits for it."""
        part = self._written.pop(sequence_num, None)
        if part is None:
            return False
        command_status = self._raw_status.pop(sequence_num, command_status)
        part.settle(PartOutcome(PartFate.ANSWERED, command_status, message_id, generic_nack))
        return True

    async def get(self, response: SmppMessage) -> SmppMessage | None:
        # Reached for answers to enquire_link / unbind, and for any submit answer the session's
        # fast path did not take (see Session._handle_response).
        sequence_num = response.sequence_num
        part = self._written.get(sequence_num)
        if part is not None and self.answer(
            sequence_num,
            int(response.command_status),
            getattr(response, "message_id", ""),
            response.smpp_command == SmppCommand.GENERIC_NACK,
        ):
            return part.message
        self._raw_status.pop(sequence_num, None)
        return self._others.pop(sequence_num, None)

    async def put_delivery(self, smsc_message_id: str, submit_sm: SubmitSm) -> None:
        return None  # receipts are matched by the store, not here

    async def put_delivery_segmented(self, deliver_sm: DeliverSm) -> DeliverSm | None:
        return deliver_sm  # deliver_sm never reaches aiosmpplib's handling (see session.py)

    async def get_segmented(
        self, smpp_seq_num: int, remove: bool = False
    ) -> tuple[SegmentStatus | None, int]:
        return None, 0

    async def get_delivery(self, receipt: DeliverSm) -> SubmitSm | None:
        return None

    def get_cumulated_status(self, ref_num: int) -> int:
        return 0

    async def expired(self, smpp_message: SmppMessage) -> None:
        return None  # timeouts: SmppCarrier sweeps the overdue parts (first_deadline, overdue)
