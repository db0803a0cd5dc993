"""The pending-part table (O(1), bounded, settled exactly once), refusal codes and backoff."""

from __future__ import annotations

import asyncio

import pytest
from aiosmpplib.protocol import EnquireLink, EnquireLinkResp, SubmitSmResp
from aiosmpplib.state import SmppCommandStatus

from proactive_sms.carriers.base import SubmitStatus
from proactive_sms.carriers.smpp.backoff import Backoff
from proactive_sms.carriers.smpp.correlator import (
    PartFate,
    PartOutcome,
    PendingPart,
    WindowCorrelator,
)
from proactive_sms.carriers.smpp.statuses import is_retryable, refusal_status


def _part(generation: int = 1) -> PendingPart:
    return PendingPart(asyncio.get_running_loop().create_future(), generation, b"body")


async def test_a_written_part_is_settled_by_its_answer_and_forgotten() -> None:
    correlator = WindowCorrelator(capacity=2)
    part = _part()
    correlator.queued(part)
    correlator.written(part, sequence_num=7)
    assert correlator.pending == 1
    assert correlator.answer(7, 0, "abc", generic_nack=False)
    assert part.future.result() == PartOutcome(PartFate.ANSWERED, 0, "abc", False)
    assert correlator.pending == 0
    assert not correlator.answer(7, 0, "abc", generic_nack=False)  # a second answer finds nothing


async def test_vendor_status_noted_by_the_session_replaces_the_substitute() -> None:
    correlator = WindowCorrelator(capacity=1)
    part = _part()
    correlator.queued(part)
    correlator.written(part, 9)
    correlator.note_raw_status(9, 0x40F)
    correlator.answer(9, int(SmppCommandStatus.ESME_RUNKNOWNERR), "", generic_nack=False)
    assert part.future.result().command_status == 0x40F


async def test_end_of_session_settles_written_as_lost_and_queued_as_not_sent() -> None:
    correlator = WindowCorrelator(capacity=3)
    written, queued = _part(), _part()
    correlator.queued(written)
    correlator.queued(queued)
    correlator.written(written, 1)
    correlator.end_session()
    assert written.future.result().fate is PartFate.LOST
    assert queued.future.result().fate is PartFate.NOT_SENT
    assert correlator.pending == 0


async def test_capacity_is_a_hard_bound() -> None:
    correlator = WindowCorrelator(capacity=1)
    correlator.queued(_part())
    with pytest.raises(RuntimeError):
        correlator.queued(_part())


async def test_discarded_part_ignores_a_late_answer() -> None:
    correlator = WindowCorrelator(capacity=1)
    part = _part()
    correlator.queued(part)
    correlator.written(part, 3)
    correlator.discard(part)
    part.settle(PartOutcome(PartFate.NO_ANSWER))
    assert not correlator.answer(3, 0, "late", generic_nack=False)
    assert part.future.result().fate is PartFate.NO_ANSWER


async def test_overdue_takes_out_only_the_parts_past_their_deadline() -> None:
    correlator = WindowCorrelator(capacity=3)
    first, answered, last = _part(), _part(), _part()
    for sequence_num, (part, deadline) in enumerate(
            [(first, 10.0), (answered, 11.0), (last, 12.0)], start=1):
        correlator.queued(part)
        correlator.written(part, sequence_num, deadline)
    assert correlator.first_deadline() == 10.0
    assert correlator.overdue(9.9) == []
    assert correlator.answer(2, 0, "b", generic_nack=False)
    assert correlator.overdue(11.5) == [first]  # the answered one is gone, the last not due
    assert correlator.first_deadline() == 12.0
    assert not correlator.answer(1, 0, "late", generic_nack=False)  # taken out: a late answer
    assert correlator.overdue(12.0) == [last]
    assert correlator.first_deadline() is None and correlator.pending == 0


async def test_other_requests_are_correlated_for_aiosmpplib() -> None:
    correlator = WindowCorrelator(capacity=1)
    probe = EnquireLink(sequence_num=5)
    await correlator.put(probe)
    assert await correlator.get(EnquireLinkResp(sequence_num=5)) is probe
    assert await correlator.get(EnquireLinkResp(sequence_num=5)) is None
    part = _part()
    correlator.queued(part)
    correlator.written(part, 6)
    assert await correlator.get(SubmitSmResp(sequence_num=6, message_id="x")) is part.message
    assert part.future.result().message_id == "x"


async def test_many_parts_in_flight_are_each_settled_once() -> None:
    # 100,000 parts in flight at once, answered out of order: each is settled by its own
    # answer and nothing stays pending. (Its speed, which aiosmpplib's SimpleCorrelator loses
    # by rescanning its store on every call, is not asserted here: tests never time.)
    correlator = WindowCorrelator(capacity=200_000)
    parts = [_part() for _ in range(100_000)]
    for sequence_num, part in enumerate(parts, start=1):
        correlator.queued(part)
        correlator.written(part, sequence_num)
    order = list(range(1, len(parts) + 1))
    order = order[1::2] + order[::2]
    for sequence_num in order:
        assert correlator.answer(sequence_num, 0, f"id{sequence_num}", generic_nack=False)
    assert correlator.pending == 0
    assert all(part.future.result().message_id == f"id{n}"
               for n, part in enumerate(parts, start=1))


@pytest.mark.parametrize(
    ("command_status", "nack", "status"),
    [
        (0x58, False, SubmitStatus.THROTTLED),
        (0x14, False, SubmitStatus.QUEUE_FULL),
        (0x08, False, SubmitStatus.TEMPORARY),
        (0x64, False, SubmitStatus.TEMPORARY),
        (0x04, False, SubmitStatus.TEMPORARY),
        (0x00, True, SubmitStatus.TEMPORARY),  # generic_nack, whatever its status
        (0x03, True, SubmitStatus.TEMPORARY),
        (0x0B, False, SubmitStatus.PERMANENT),
        (0x0A, False, SubmitStatus.PERMANENT),
        (0x45, False, SubmitStatus.PERMANENT),
        (0x40F, False, SubmitStatus.PERMANENT),  # vendor code: unknown meaning, not retried
    ],
)
def test_refusal_status(command_status: int, nack: bool, status: SubmitStatus) -> None:
    assert refusal_status(command_status, nack) is status
    assert is_retryable(command_status, nack) is (status is not SubmitStatus.PERMANENT)


async def test_backoff_doubles_to_the_maximum_and_resets() -> None:
    backoff = Backoff(0.01, 0.04)
    delays = []
    for _ in range(4):
        delays.append(backoff.next_delay())
        await backoff.wait()
    assert delays == [0.01, 0.02, 0.04, 0.04]
    backoff.reset()
    assert backoff.next_delay() == 0.01


async def test_backoff_wait_ends_at_stop() -> None:
    backoff = Backoff(30.0, 30.0)
    waiting = asyncio.ensure_future(backoff.wait())
    await asyncio.sleep(0)
    backoff.stop()
    await asyncio.wait_for(waiting, 1.0)
