"""A lane's reply gates over its buffer, with a fake clock: texts of a shut gate are set aside
and come back when it opens, the code's other skills and system texts go on, a skill started
since the dispatcher's last look waits for the next one, and a skill no longer paced gets its
texts back at once."""

from __future__ import annotations

import math
from collections import deque

from proactive_sms.domain.reply_pacing import ReplyFigures
from proactive_sms.services.reply_gating import LaneReplyGates, PacedSkill
from proactive_sms.store.outbox import OutboxItem

PACED, OTHER, NEW = 1, 2, 3


def item(text_id: int, skill_id: int | None) -> OutboxItem:
    return OutboxItem(text_id, skill_id, "+12125550100", "hi", "gsm7", 1, 0)


def paced(free: int, agents: int = 2) -> list[PacedSkill]:
    return [PacedSkill(PACED, 9, 0.1, ReplyFigures(agents, free, 0, 0, 0))]


def ids(buffer) -> list[int]:
    return [i.id for i in buffer]


def test_a_shut_gate_parks_its_texts_while_the_others_go_and_they_come_back_when_it_opens():
    gates = LaneReplyGates(reply_window_s=100.0)
    gates.refresh(paced(free=0, agents=0), 0.0, frozenset({PACED, OTHER}))
    buffer = deque([item(1, PACED), item(2, PACED), item(3, OTHER), item(4, None)])
    assert gates.park_shut_heads(buffer, 0.0)
    assert ids(buffer) == [3, 4] and ids(gates.parked[PACED]) == [1, 2]
    assert ids(gates.take(buffer, 5, 0.0)) == [3, 4]  # another skill, a system text
    assert gates.unpark(buffer, 1.0, poll_s=0.2) == math.inf  # waits for new figures
    assert not buffer

    gates.refresh(paced(free=4), 2.0, frozenset({PACED, OTHER}))  # an agent came back
    assert gates.unpark(buffer, 2.0, poll_s=0.2) == 0.2
    assert ids(buffer) == [1]  # one at a time, at the gate's pace
    assert ids(gates.take(buffer, 5, 2.0)) == [1]
    wait_s = gates.unpark(buffer, 2.0, poll_s=0.2)
    assert wait_s == 100.0 * 0.1 / 4 and not buffer  # 4 places / 10% / 100 s: one per 2.5 s
    assert gates.unpark(buffer, 2.0 + wait_s, poll_s=0.2) == 0.2
    assert ids(buffer) == [2] and PACED not in gates.parked and gates.rewind


def test_a_refused_text_ends_the_group_and_is_parked():
    gates = LaneReplyGates(reply_window_s=100.0)
    gates.refresh(paced(free=4), 0.0, frozenset({PACED, OTHER}))
    buffer = deque([item(1, OTHER), item(2, PACED), item(3, PACED), item(4, OTHER)])
    assert ids(gates.take(buffer, 4, 0.0)) == [1, 2]  # the second paced one is too early
    assert ids(gates.parked[PACED]) == [3] and ids(buffer) == [4]


def test_a_skill_started_since_the_last_look_waits_for_the_next_one():
    gates = LaneReplyGates(reply_window_s=100.0)
    gates.refresh([], 0.0, frozenset({OTHER}))
    buffer = deque([item(1, NEW), item(2, OTHER)])
    assert gates.park_shut_heads(buffer, 0.0) and ids(buffer) == [2]
    assert not gates.allows(NEW, 0.0) and gates.allows(OTHER, 0.0)
    assert gates.awaits_a_look()  # the lane asks the dispatcher for its next look now
    gates.refresh([], 0.5, frozenset({OTHER, NEW}))  # the look sees it: not reply-paced
    assert not gates.awaits_a_look()
    assert gates.unpark(buffer, 0.5, poll_s=0.2) == math.inf
    assert ids(buffer) == [1, 2]


def test_turning_pacing_off_gives_every_parked_text_back_at_once():
    gates = LaneReplyGates(reply_window_s=100.0)
    gates.refresh(paced(free=0, agents=0), 0.0, frozenset({PACED}))
    buffer = deque([item(1, PACED), item(2, PACED), item(3, PACED)])
    gates.park_shut_heads(buffer, 0.0)
    gates.refresh([], 1.0, frozenset({PACED}))  # the setting is off now
    gates.unpark(buffer, 1.0, poll_s=0.2)
    assert ids(buffer) == [1, 2, 3] and not gates.parked
    assert gates.bounds(1.0) == {}
