"""One transport code's lane: its pacer, its queue of pending texts, its submits.

The lane reads pending texts in id order, waits for the pacer, claims a group in one transaction
(the DNC list is checked at that moment), and submits each claimed text at once. A text holds one
slot of its connection's window from before it is claimed until its answer is queued for the
store. A claim that takes the slot then is queued after that answer, on the same store queue,
and a store transaction writes answers before claims: the claim commits with the answer or after
it, never before. So at most `window` texts are ever `submitting` in the database (a crash leaves
at most that many `uncertain`), and the next claim shares the answer's transaction instead of
waiting for it to commit: one store transaction per turn of a slot, not two.

Each group goes through the connection its route picks at that moment (services.carrier_route:
the first whose breaker lets texts through), and stays with it; the pacer is the code's, so
the code's limit holds whichever connection carries.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

from proactive_sms.carriers.base import OutboundText, SourceKind, SubmitResult, SubmitStatus
from proactive_sms.domain.adaptive_rate import AdaptiveRate
from proactive_sms.domain.circuit_breaker import BreakerState, Permit
from proactive_sms.domain.encoding import Encoding, split_parts
from proactive_sms.domain.pacing import SlidingWindowPacer
from proactive_sms.domain.phone import mask
from proactive_sms.domain.spacing import EvenSpacer
from proactive_sms.services.carrier_route import CarrierRoute, Leg
from proactive_sms.services.reply_gating import LaneReplyGates
from proactive_sms.store import outbox
from proactive_sms.store.code_pace import CodePace
from proactive_sms.store.leases import Tenure
from proactive_sms.store.outbox import OutboxItem
from proactive_sms.store.registrations import Registration

if TYPE_CHECKING:
    from proactive_sms.services.dispatch import Dispatcher

log = logging.getLogger(__name__)

UNLIMITED_PER_S = 1_000_000.0  # benchmarks lift the limits
CLAIM_TICK_S = 0.02  # spaced claims of all codes fall on this grid of monotonic time
# A claim made ahead of its moment checks the DNC list that much (plus at most one tick) before
# the PDU leaves: small beside the time a STOP takes to reach us.
MAX_CLAIM_LEAD_S = 0.05
PICK_RETRY_S = 0.02  # no connection may carry now (a probe is out): look again this soon
LEAD_SMOOTHING = 0.2


class ConnectionWindow:
    """The slots of one connection's window, shared by the lanes of the codes that use it.

    Like a semaphore of `size`, except that a lane takes as many slots as its group may use (at
    least one) in one go, so that many codes sharing a connection claim their texts in groups of
    what their pacer allows rather than one text per slot and per transaction. Slots freed in one
    turn of the event loop (a batch of results stored) are handed out together, first come,
    first served, each waiter getting what it asked for while there is enough.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.free = size
        self._waiters: deque[tuple[asyncio.Future[int], int]] = deque()
        self._handing_out = False

    async def take(self, wanted: int) -> int:
        """Wait for a free slot; returns how many were taken (1 to `wanted`)."""
        if self.free > 0 and not self._waiters:
            taken = min(wanted, self.free)
            self.free -= taken
            return taken
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append((waiter, wanted))
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(waiter.result())  # handed over just as we were cancelled
            raise

    def release(self, count: int = 1) -> None:
        self.free += count
        if self._waiters and not self._handing_out:
            self._handing_out = True
            asyncio.get_running_loop().call_soon(self._hand_out)

    def _hand_out(self) -> None:
        self._handing_out = False
        while self.free > 0 and self._waiters:
            waiter, wanted = self._waiters.popleft()
            if waiter.done():  # cancelled
                continue
            given = min(wanted, self.free)
            self.free -= given
            waiter.set_result(given)


class CodeLane:
    def __init__(self, dispatcher: Dispatcher, registration: Registration, route: CarrierRoute,
                 dnc_list_id: int, rate_per_s: float) -> None:
        self.d = dispatcher
        self.registration = registration
        # Replaced whole when the code's route changes; a group keeps the leg it was given.
        self.route = route
        self.dnc_list_id = dnc_list_id
        # The connection and permit of the group next_group last returned.
        self.group_leg: Leg | None = None
        self.group_permit = Permit.NORMAL
        options = dispatcher.options
        # Three rules, each with one job: the window pacer never lets the code over its limit in
        # any second; the adaptive rate follows what the carrier accepts (below the limit after
        # it throttles); the spacer spreads the sends evenly inside the second at that rate.
        self.pacer = SlidingWindowPacer(rate_per_s, options.pacer_margin_s)
        self.adaptive = AdaptiveRate(rate_per_s, pause_s=options.throttle_pause_s,
                                     max_pause_s=options.throttle_pause_max_s)
        self.spacer = EvenSpacer(rate_per_s, options.spacing_burst_s)
        self.sent_at: dict[int, float] = {}  # text id -> when its claim began (for throttling)
        self.last_throttle_at: datetime | None = None
        # How long a claim takes (smoothed, at most MAX_CLAIM_LEAD_S): claims are made that much
        # ahead of the moment their texts may leave.
        self.lead_s = 0.0
        # When the group next_group returned may leave; also the latest moment the pacer was
        # asked about, below which no plan may go.
        self.planned_at = 0.0
        self.by_segments = registration.throughput_unit == "segments"
        self.source_kind = SourceKind(registration.kind)
        self.buffer: deque[OutboxItem] = deque()
        self.system_seen: list[OutboxItem] | None = None  # the last look's system texts
        self.system_queued: set[int] = set()  # system texts already in the buffer
        self.cursor = 0
        # Reply-aware pacing: each skill's gate, and the texts of skills whose gate is shut,
        # set aside so that the code's other skills go on (reply_gating.py).
        self.reply = LaneReplyGates(options.reply_window_s)
        self.paused_until = 0.0
        self.in_flight: set[asyncio.Task] = set()
        self.stopping = False
        # Weight claimed and not answered yet. A text counts against the limit from its claim
        # until a window after its answer: the SMSC received it somewhere between the two, so
        # no delay in between (a busy loop, a descheduled process) can put more than the limit
        # into one second as the SMSC sees it. The pacer holds the answered ones.
        self.unanswered = 0
        self._answered: asyncio.Future[None] | None = None
        self.failure: BaseException | None = None
        # The lease this lane sends under (store.leases): its fence, which every claim carries,
        # and until when (monotonic) the lease surely holds, renewed by the dispatcher. Past
        # it the lane neither claims nor submits: another worker may take the code then.
        self.fence = 0
        self.lease_valid_until = math.inf

    def start_tenure(self, tenure: Tenure, valid_until: float) -> None:
        """Begin under a lease just taken: the last holder's sends of its last window count
        against the limit here too; from a holder that did not hand the code back (killed,
        paused) they are unknown, so a whole window is counted as sent now."""
        self.fence = tenure.fence
        self.lease_valid_until = valid_until
        now = self.d.clock.monotonic()
        if tenure.unclean:
            self.pacer.seed([(now, self.pacer.limit)], now)
        elif tenure.handed_sends:
            ago = self.d.clock.now().timestamp() - now  # epoch seconds -> this monotonic clock
            self.pacer.seed([(moment - ago, weight) for moment, weight in tenure.handed_sends],
                            now)

    def handover_sends(self) -> list[tuple[float, int]]:
        """This lane's sends still in its pacer's window, in epoch seconds, for the code's next
        holder (called once the lane has ended: every text answered)."""
        now = self.d.clock.monotonic()
        ago = self.d.clock.now().timestamp() - now
        return [(moment + ago, weight) for moment, weight in self.pacer.recent(now)]

    def lease_valid(self) -> bool:
        return self.d.clock.monotonic() < self.lease_valid_until

    def weight(self, item: OutboxItem) -> int:
        return item.segments if self.by_segments else 1

    def set_rate(self, rate_per_s: float) -> None:
        """The code's limit (or its skills' pacing) changed."""
        if rate_per_s != self.pacer.rate_per_s:
            self.pacer.set_rate(rate_per_s)
            self.adaptive.set_limit(rate_per_s)

    def _follow_adaptive_rate(self, now: float) -> None:
        rate = self.adaptive.rate_at(now)
        if rate != self.spacer.rate_per_s:
            if rate >= self.adaptive.limit_per_s and self.adaptive.events:
                log.info("code %s is back at its limit of %g/s", self.registration.code, rate)
            self.spacer.set_rate(rate)

    async def run(self) -> None:
        clock = self.d.clock
        while not self.stopping:
            now = clock.monotonic()
            if self.paused_until > now:
                await asyncio.sleep(min(self.paused_until - now, 0.5))
                continue
            if not self.route.ready():
                await self.route.wait_ready(0.5)
                continue
            if not self.lease_valid():  # renewed at the next tick, or this lane is stopped
                await asyncio.sleep(self.d.options.poll_interval_s)
                continue
            parked_wait_s = self.reply.unpark(self.buffer, now, self.d.options.poll_interval_s)
            if not self.buffer and not await self.refill():
                await asyncio.sleep(min(self.d.options.poll_interval_s, parked_wait_s))
                continue
            await self.take_system_texts()
            group = await self.next_group()
            if self.reply.parked and self.reply.awaits_a_look():
                self.d.look_soon()
            if group:
                # Not awaited: while this group is being claimed, the lane can already prepare
                # the next one with slots that come free, and the two share a transaction.
                self._track(asyncio.create_task(self.claim_and_send(
                    group, self.planned_at, self.group_leg, self.group_permit)), claim=True)
        await self.drain()
        if self.failure is not None:
            raise self.failure

    def _track(self, task: asyncio.Task, claim: bool = False) -> None:
        self.in_flight.add(task)
        task.add_done_callback(self._claimed if claim else self.in_flight.discard)

    def _claimed(self, task: asyncio.Task) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None and self.failure is None:
            # As when the claim was awaited in run(): the lane stops and its task fails.
            self.failure = task.exception()
            self.stopping = True

    async def refill(self) -> bool:
        await self.take_system_texts()
        if self.reply.rewind and not self.buffer:
            self.cursor, self.reply.rewind = 0, False
        items = await self.d.in_writer(self.d.read, outbox.fetch_pending, self.registration.id,
                                       self.cursor, self.d.options.fetch_size, self.d.clock.now(),
                                       list(self.reply.parked))
        if not items:
            self.cursor = 0  # next time, look again from the start: retries may have come due
            return bool(self.buffer)
        self.cursor = items[-1].id
        if any(item.postal_code for item in items):
            await self.d.zip_table()  # their send-time check reads a ZIP's zone
        # A look from the start again finds texts still `pending` that the lane holds already:
        # in groups whose claims are on their way, or back in the buffer (not sent, throttled).
        # Taken twice, they would be claimed twice (dispatch._write_claims gives a text to one
        # group of a batch, the last guard).
        queued = {item.id for item in self.buffer}
        self.buffer.extend(item for item in items
                           if item.id not in self.sent_at and item.id not in queued)
        return True

    async def take_system_texts(self) -> None:
        """Put pending confirmations, help answers and agent replies at the head of the queue:
        they go before bulk texts, under the same pacing (and DNC rules, but for the answers a
        person asked for). Looked for at every refill and at least every poll interval."""
        items = await self.d.system_texts(self.registration.id)
        if items is self.system_seen:
            return  # the same look as last time: nothing new
        self.system_seen = items
        fresh = [item for item in items if item.id not in self.system_queued]
        for item in reversed(fresh):
            self.buffer.appendleft(item)
        self.system_queued = {item.id for item in items}

    async def next_group(self) -> list[OutboxItem]:
        """Texts that may leave now: a free window slot each, and room in the pacer.

        The lane waits for its pacer *before* taking slots of the connection's window: a slot
        held through a pacing wait is a slot no other code on the connection can use (100 codes
        at 5/s on a window of 50 would otherwise send at a fraction of their rate).
        """
        clock = self.d.clock
        while True:
            while self.buffer and not self.stopping:
                if self.reply.park_shut_heads(self.buffer, clock.monotonic()):
                    continue
                moment, wait = self._plan(self.weight(self.buffer[0]))
                if wait <= 0:
                    break
                await self._sleep_or_answer(min(wait, 0.25))
            if self.stopping or not self.buffer:
                return []
            picked = self.route.pick()
            if picked is None:  # every link down, or a probe out with nowhere else to go
                await asyncio.sleep(PICK_RETRY_S)
                return []
            leg, permit = picked
            wanted = 1 if permit is Permit.PROBE else self._fits(self._budget(moment))
            taken = await leg.window.take(wanted)
            now = clock.monotonic()
            # The slots of a connection that stopped answering come free as its submits time
            # out, and those timeouts are what open its breaker: a group waiting for them must
            # not go in after all.
            if (self.stopping or not self.buffer or self.paused_until > now
                    or not leg.link_up or (permit is Permit.NORMAL
                                           and leg.breaker.state is not BreakerState.CLOSED)):
                leg.window.release(taken)
                self.route.unused(leg, permit)
                return []
            # Only this lane spends its pacer, so the plan above still holds, unless the rate
            # was lowered (or the head changed) while we waited for the slots.
            moment, wait = self._plan(self.weight(self.buffer[0]))
            if wait <= 0:
                break
            leg.window.release(taken)
            self.route.unused(leg, permit)
        # The head may always go (ready_at lets an over-limit weight into an empty window).
        count = max(1, min(taken, self._fits(self._budget(moment))))
        if count < taken:
            leg.window.release(taken - count)
        group = self.reply.take(self.buffer, count, moment)
        if not group:  # the head's skill was refused by its reply gate meanwhile: parked
            leg.window.release(count)
            self.route.unused(leg, permit)
            return []
        if len(group) < count:
            leg.window.release(count - len(group))
        self.group_leg, self.group_permit = leg, permit
        # Counted from now (the claim may share a transaction with the next group's) until a
        # window after each answer; the PDUs leave at `moment`, not before (submit waits).
        self.planned_at = moment
        weight = sum(self.weight(item) for item in group)
        self.unanswered += weight
        self.spacer.consume(weight, moment)
        for item in group:
            self.sent_at[item.id] = moment
        return group

    def _plan(self, weight: int) -> tuple[float, float]:
        """The moment `weight` from the head may leave, and the seconds to wait before claiming
        it (0 or less: claim now).

        The moment is exact (what the pacer and the spacer allow, never before one already
        planned: the pacer has counted up to it). The claim is made ahead of it, by the claim's
        measured time (`lead_s`) and down to the shared tick before, so that claims of many
        codes share a transaction and the PDU still leaves on its moment: rounding the claim *up*
        to the tick instead lost half a tick (10 ms) at every window, 1% of the rate.
        """
        now = self.d.clock.monotonic()
        earliest = self.planned_at = max(now + self.lead_s, self.planned_at)
        self._follow_adaptive_rate(earliest)
        spaced = self.spacer.ready_at(weight, earliest)
        if not self.unanswered:
            moment = max(self.pacer.ready_at(weight, earliest), spaced)
        elif self.unanswered + weight <= self.pacer.available(earliest):
            moment = spaced
        else:
            # Full until answers come in (or earlier sends leave the window).
            ready = self.pacer.ready_at(self.unanswered + weight, earliest)
            return earliest, max(ready - now, 0.25)
        if moment <= earliest:
            return moment, 0.0
        claim_at = math.floor((moment - self.lead_s) / CLAIM_TICK_S) * CLAIM_TICK_S
        return moment, claim_at - now

    def _budget(self, moment: float) -> int:
        # The pacer forgets the sends that left its window as of the moment it is asked about:
        # no later plan may be for an earlier moment (it would find the window emptier than it
        # is then), so that moment becomes the floor of every plan.
        self.planned_at = max(self.planned_at, moment)
        return min(self.pacer.available(moment) - self.unanswered, self.spacer.available(moment))

    async def _sleep_or_answer(self, seconds: float) -> None:
        """Sleep `seconds`, or less if an answer comes in meanwhile."""
        loop = asyncio.get_running_loop()
        answered = self._answered = loop.create_future()
        timer = loop.call_later(seconds, _resolve, answered)
        try:
            await answered
        finally:
            timer.cancel()
            self._answered = None

    def _count_answer(self, weight: int) -> None:
        self.unanswered -= weight
        self.pacer.consume(weight, self.d.clock.monotonic())
        if self._answered is not None:
            _resolve(self._answered)

    def _fits(self, budget: int) -> int:
        """How many texts from the head of the buffer fit `budget` (at least the head)."""
        count, limit = 0, min(len(self.buffer), self.d.options.max_group)
        if not self.by_segments:
            return max(1, min(limit, budget))
        for item in self.buffer:
            if count >= limit or (count and item.segments > budget):
                break
            budget -= item.segments
            count += 1
        return max(1, count)

    async def claim_and_send(self, group: list[OutboxItem], not_before: float,
                             leg: Leg, permit: Permit = Permit.NORMAL) -> None:
        started = self.d.clock.monotonic()
        # With more than one connection, the claim writes which one the texts go through, so
        # that even a crash before their answers leaves each `uncertain` text with its own.
        carried_by = leg.connection_id if len(self.route.legs) > 1 else None
        try:
            claim = await self.d.claim(group, self.dnc_list_id, carried_by,
                                       (self.registration.id, self.fence))
            took = self.d.clock.monotonic() - started
            self.lead_s = min(MAX_CLAIM_LEAD_S, self.lead_s + LEAD_SMOOTHING * (took - self.lead_s))
        except BaseException:
            for item in group:
                self.sent_at.pop(item.id, None)
            leg.window.release(len(group))
            self.route.unused(leg, permit)
            self.unanswered -= sum(self.weight(item) for item in group)
            raise
        if not claim.claimed & {item.id for item in group}:
            self.route.unused(leg, permit)  # a probe that was not sent: another may probe
        for item in group:
            if item.id not in claim.claimed:
                self.sent_at.pop(item.id, None)
                leg.window.release()
                self.unanswered -= self.weight(item)  # never sent: not counted
                if item.id in claim.dnc:
                    log.info("text %s to %s skipped: on the DNC list at send time", item.id,
                             mask(item.destination))
                continue
            self._track(asyncio.create_task(
                self.submit(item, leg, claim.validity.get(item.id), not_before)))

    async def submit(self, item: OutboxItem, leg: Leg, validity_until: datetime | None = None,
                     not_before: float = 0.0) -> None:
        try:
            early_s = not_before - self.d.clock.monotonic()
            if early_s > 0:  # claimed ahead of its moment (lead_s): it leaves on time
                await asyncio.sleep(early_s)
            if self.lease_valid():
                result = await leg.carrier.submit(self.outbound(item, validity_until))
            else:  # paused past the lease: another worker may hold the code now
                result = SubmitResult(item.id, SubmitStatus.NOT_SENT,
                                      detail="not sent: the code's lease may have lapsed")
        except Exception as exc:  # we cannot know whether it left: never re-send blindly
            log.exception("submit of text %s raised", item.id)
            result = SubmitResult(item.id, SubmitStatus.UNCERTAIN, detail=f"client error: {exc}")
        finally:
            self._count_answer(self.weight(item))
        self.route.answered(leg, result)
        # The text's row keeps the connection that carried it (accepted or uncertain alike).
        self.d.record_result_soon(item, result, self._stored, leg.connection_id,
                                  self.registration.id)
        # Queued behind the answer: the claim that takes this slot commits with it or after it.
        leg.window.release()

    def _stored(self, item: OutboxItem, result: SubmitResult,
                error: BaseException | None) -> None:
        if error is not None:  # the text stays `submitting`: uncertain after a restart
            log.error("result of text %s (%s) could not be stored: %r", item.id,
                      result.status.value, error)
            return
        self.after_result(item, result)

    def outbound(self, item: OutboxItem, validity_until: datetime | None = None) -> OutboundText:
        # validity_until: the earliest of the recipient's window close, the record's expiry and
        # the skill's validity, so the carrier cannot deliver a text late.
        # Launch counted the segments with the same rules: a one-segment text is its own part,
        # and only long texts are split again.
        parts = ((item.body,) if item.segments == 1
                 else tuple(split_parts(item.body, Encoding(item.encoding))))
        return OutboundText(
            message_id=item.id, source=self.registration.code, source_kind=self.source_kind,
            destination=item.destination, body=item.body, encoding=Encoding(item.encoding).value,
            parts=parts,
            validity_until=validity_until,
        )

    def after_result(self, item: OutboxItem, result: SubmitResult) -> None:
        sent_at = self.sent_at.pop(item.id, None)
        now = self.d.clock.monotonic()
        if result.status is SubmitStatus.THROTTLED:
            # The carrier says we are too fast: slow down to what it accepts (one event per
            # burst of such answers), and send this text again first (its row is pending again).
            event = self.adaptive.throttled(now if sent_at is None else sent_at, now,
                                            result.retry_after_s)
            if event is not None:
                self.last_throttle_at = self.d.clock.now()
                self.paused_until = max(self.paused_until, self.adaptive.paused_until)
                self._follow_adaptive_rate(now)
                log.warning("code %s throttled by the carrier (event %d): %.3g -> %.3g %s/s%s",
                            self.registration.code, event.events, event.rate_before_per_s,
                            event.rate_after_per_s, self.registration.throughput_unit,
                            f", paused {event.pause_s:g} s" if event.pause_s else "")
            if result.retry_after_s:
                # An HTTP provider said when to come back (Retry-After): not before.
                self.paused_until = max(self.paused_until, now + result.retry_after_s)
            self.buffer.appendleft(item)
        elif result.status is SubmitStatus.NOT_SENT:
            self.buffer.appendleft(item)
        elif result.status is SubmitStatus.ACCEPTED:
            self.adaptive.accepted(self.weight(item), now)

    def pace(self) -> CodePace:
        """What the code may send now, for the status and the metrics."""
        now = self.d.clock.monotonic()
        return CodePace(self.registration.id, self.adaptive.limit_per_s,
                        round(self.adaptive.rate_at(now), 3), self.adaptive.events,
                        self.last_throttle_at, self.paused_until > now)

    async def drain(self) -> None:
        while self.in_flight:  # a claim still running adds its submits
            await asyncio.gather(*self.in_flight, return_exceptions=True)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
