"""A transport code's route: its carrier connections in order, and which one carries now.

The first connection whose circuit breaker lets texts through carries them (failover); when an
earlier one recovers (its probe is answered) texts go back to it. What a caller may rely on:
- a group of texts is picked for one connection and goes through it, or not at all: a text is
  never handed to two connections. A text whose answer is unknown (`uncertain`) stays with the
  connection that carried it (its row says which); only texts no PDU left for (NOT_SENT) go
  back to the queue, where the next pick may give them to another connection.
- the code's pace is not the route's business: the lane keeps one pacer for the code whatever
  connection carries, so its limit holds across a switch.
- breakers and windows belong to connections, shared by every code whose route names them (one
  SMSC that stops answering opens one breaker for all of them).

Works with any carrier behind carriers/base.py that has `bound` (and, to tell a refused bind
from a lost link, `last_error`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from proactive_sms.carriers.base import SubmitResult, SubmitStatus
from proactive_sms.domain.circuit_breaker import (
    BreakerState,
    CircuitBreaker,
    OpenReason,
    Permit,
    Transition,
)

log = logging.getLogger(__name__)

# Answers that prove the carrier's side works, whatever they say of the text.
_ANSWERED = (SubmitStatus.ACCEPTED, SubmitStatus.THROTTLED, SubmitStatus.QUEUE_FULL,
             SubmitStatus.TEMPORARY, SubmitStatus.PERMANENT)


@dataclass(eq=False)
class Leg:
    """One connection as the dispatcher runs it: its carrier session, its window of slots and
    its breaker (one of each per connection, shared by the routes that name it)."""

    connection_id: int
    name: str
    carrier: object
    window: object  # code_lane.ConnectionWindow
    breaker: CircuitBreaker

    @property
    def link_up(self) -> bool:
        return bool(getattr(self.carrier, "bound", True))

    @property
    def starting(self) -> bool:
        """Not bound yet, and nothing has gone wrong: the first bind is on its way. Such a link
        carries nothing and is not down either (its breaker stays as it is)."""
        return not self.link_up and not getattr(self.carrier, "last_error", None)

    def down_reason(self) -> OpenReason:
        error = (getattr(self.carrier, "last_error", None) or "").lower()
        return OpenReason.BIND_REFUSED if "bind refused" in error else OpenReason.CONNECTION_LOST


@dataclass(frozen=True)
class Switch:
    """The code's texts moved from one connection to another (None: none can carry)."""

    registration_id: int
    code: str
    before: int | None
    after: int | None
    failover: bool  # to a later connection of the route than the last that carried
    came_back: bool  # to an earlier one


class CarrierRoute:
    def __init__(self, registration_id: int, code: str, legs: Sequence[Leg]) -> None:
        if not legs:
            raise ValueError("a route needs at least one connection")
        self.registration_id = registration_id
        self.code = code
        self.legs = list(legs)
        self.carrying: Leg | None = None
        self._last_position: int | None = None  # of the last leg that carried
        # Switches not yet stored (the dispatcher writes them at its next tick); the first one
        # says which connection carries from the start.
        self.switches: list[Switch] = []

    def connection_ids(self) -> list[int]:
        return [leg.connection_id for leg in self.legs]

    def ready(self) -> bool:
        """Whether some connection's link is up (a pick may still wait for a probe)."""
        return any(leg.link_up for leg in self.legs)

    async def wait_ready(self, timeout_s: float) -> None:
        """Wait until some link is up, at most timeout_s (one link: woken by its bind)."""
        if len(self.legs) == 1 and hasattr(self.legs[0].carrier, "wait_bound"):
            await self.legs[0].carrier.wait_bound(timeout_s)
            return
        waits = [asyncio.ensure_future(leg.carrier.wait_bound(timeout_s))
                 for leg in self.legs if hasattr(leg.carrier, "wait_bound")]
        if not waits:
            await asyncio.sleep(timeout_s)
            return
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    def pick(self) -> tuple[Leg, Permit] | None:
        """The connection the next group goes through, and how many it may be (a probe: one).

        In order, the first whose breaker lets texts through; a later one is used only while
        every earlier one is open (or probing). With none, the first bound one whose breaker
        is open is probed at once: with nowhere else to send, a cool-down protects nothing."""
        for leg in self.legs:
            if leg.starting:
                continue
            self._observe(leg)
            permit = leg.breaker.permit(leg.link_up)
            if permit is not None:
                self._carried_by(leg, permit)
                return leg, permit
        for leg in self.legs:
            if leg.breaker.state is BreakerState.OPEN and leg.link_up:
                permit = leg.breaker.permit(True, skip_cool_down=True)
                if permit is not None:
                    note_transition(leg, None, "probed at once: no other connection can carry")
                    return leg, permit
        if self.carrying is not None:
            self._switch(None)
        return None

    def observe_links(self) -> None:
        """Tell each breaker what its link says now, and say which connection would carry
        (the dispatcher's tick: the status is right even while the code has nothing to send).
        Takes no probe: only texts probe."""
        for leg in self.legs:
            self._observe(leg)
        ready = [leg for leg in self.legs if leg.link_up and not leg.starting
                 and leg.breaker.state is BreakerState.CLOSED]
        if ready:
            if ready[0] is not self.carrying:
                self._switch(ready[0])
        elif self.carrying is not None and not any(leg.link_up or leg.starting
                                                   for leg in self.legs):
            self._switch(None)

    def answered(self, leg: Leg, result: SubmitResult) -> None:
        """A text's answer through `leg`: feeds its breaker."""
        if result.status in _ANSWERED:
            change = leg.breaker.answered()
        elif result.status is SubmitStatus.UNCERTAIN:
            change = leg.breaker.no_answer()
        else:  # NOT_SENT: the link went down before the PDU left
            change = leg.breaker.link_down(leg.down_reason())
        note_transition(leg, change)

    def unused(self, leg: Leg, permit: Permit) -> None:
        """A picked group was not sent after all (its claim dropped it, the lane stopped)."""
        if permit is Permit.PROBE:
            leg.breaker.probe_unused()

    # --- inside ------------------------------------------------------------------------------

    def _observe(self, leg: Leg) -> None:
        if not leg.link_up and not leg.starting:
            note_transition(leg, leg.breaker.observe(False, leg.down_reason()))

    def _carried_by(self, leg: Leg, permit: Permit) -> None:
        # A probe is not yet a switch: texts go on through the leg that carries them until the
        # probe's answer closes the breaker.
        if permit is Permit.NORMAL and leg is not self.carrying:
            self._switch(leg)

    def _switch(self, leg: Leg | None) -> None:
        before = self.carrying
        position = self.legs.index(leg) if leg is not None else None
        last = self._last_position
        failover = position is not None and last is not None and position > last
        came_back = position is not None and last is not None and position < last
        self.carrying = leg
        if position is not None:
            self._last_position = position
        switch = Switch(self.registration_id, self.code,
                        before.connection_id if before else None,
                        leg.connection_id if leg else None, failover, came_back)
        self.switches.append(switch)
        if failover or came_back or (leg is None and before is not None):
            first = self.legs[0]
            log.warning(
                "code %s: %s%s", self.code,
                f"texts now go through {leg.name}" if leg else "no connection can carry texts",
                f" (was {before.name}; {first.name}: breaker {first.breaker.state.value}"
                f"{', ' + first.breaker.reason if first.breaker.reason else ''})"
                if before else "")


def note_transition(leg: Leg, change: Transition | None, why: str = "") -> None:
    """One log line per change of a connection's breaker."""
    if change is None and not why:
        return
    if change is None:
        log.info("connection %s: %s", leg.name, why)
        return
    level = logging.WARNING if change.after is BreakerState.OPEN else logging.INFO
    log.log(level, "connection %s: breaker %s -> %s (%s)", leg.name, change.before.value,
            change.after.value, change.reason)
