"""The dispatcher: one lane per transport code, one carrier session per connection.

It owns each code through a lease in the database (so several workers can share the work), turns
texts left `submitting` by a crash into `uncertain`, stores every carrier answer and receipt before
acknowledging it, and marks skills finished when nothing is left to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import NamedTuple

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from proactive_sms.carriers.base import (
    DeliveryReceipt,
    InboundText,
    SubmitResult,
    SubmitStatus,
)
from proactive_sms.domain import time_zones
from proactive_sms.domain.calling_windows import DEFAULT_RULES, Rules, SkillWindow, load_rules
from proactive_sms.domain.circuit_breaker import BreakerPolicy, CircuitBreaker
from proactive_sms.domain.clock import Clock, SystemClock
from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.phone import mask
from proactive_sms.domain.reply_pacing import (
    DEFAULT_PLACES_PER_AGENT,
    DEFAULT_REPLY_WINDOW_S,
    ReplyBound,
)
from proactive_sms.domain.send_decisions import SendDecisions
from proactive_sms.domain.send_timing import (
    Recipient,
    SendDecision,
    TimingPolicy,
    Verdict,
)
from proactive_sms.domain.spacing import DEFAULT_BURST_S
from proactive_sms.services import carrier_callbacks, spend_guard, webhook_emitters
from proactive_sms.services.batching import BatchWriter, Failed
from proactive_sms.services.carrier_route import CarrierRoute, Leg, Switch
from proactive_sms.services.code_lane import UNLIMITED_PER_S, CodeLane, ConnectionWindow
from proactive_sms.services.inbound import REVIEW_DEADLINE_BUSINESS_DAYS, InboundService
from proactive_sms.services.link_status import LinkStatusRecorder
from proactive_sms.services.offload import frozen_heap
from proactive_sms.services.reply_gating import PacedSkill, read_paced_skills
from proactive_sms.services.schedule_firing import FiringOptions, ScheduleFiring
from proactive_sms.store import (
    cadences,
    code_pace,
    deliveries,
    dnc,
    leases,
    messages,
    outbox,
    registrations,
    reply_pace,
    route_status,
    skill_counters,
    skills,
    tenancy,
    unmatched_receipts,
)
from proactive_sms.store import (
    carrier_callbacks as carrier_callback_store,
)
from proactive_sms.store.engine import end_idle_transactions_after
from proactive_sms.store.outbox import OutboxItem
from proactive_sms.store.registrations import CarrierConnection, Registration
from proactive_sms.store.skills import SkillStatus

log = logging.getLogger(__name__)
# The skills whose texts are sent (as store.outbox.DISPATCHED has them).
_DISPATCHED = [SkillStatus(status) for status in outbox.DISPATCHED]

_NONE: list[OutboxItem] = []  # no system texts (one object, so a lane sees nothing changed)
_RESULT, _RECEIPT, _INBOUND, _CLAIM = "result", "receipt", "inbound", "claim"
# Inbound before claims: a STOP in the same batch as a claim is seen by that claim's DNC check.
_ORDER = (_RESULT, _RECEIPT, _INBOUND, _CLAIM)
COUNTER_FOLD_S = 600.0  # how often a worker folds ended backends' counter shards (PostgreSQL)


class _Start(NamedTuple):
    """A code's lane to start: none yet, or its lease changed hands since its lane started."""

    connections: list[CarrierConnection]  # in order: the first that is up carries
    dnc_list_id: int
    tenure: leases.Tenure


class _Reroute(NamedTuple):
    """A code's connections changed: its lane carries on through these."""

    connections: list[CarrierConnection]


class _ReceiptsOf:
    """A connection's receipts into the store batch (carriers.base.ReceiptSink): awaited, or
    queued with a callback, which spares the SMPP client a task per receipt."""

    def __init__(self, dispatcher: Dispatcher, connection_id: int) -> None:
        self.dispatcher = dispatcher
        self.connection_id = connection_id

    async def __call__(self, receipt: DeliveryReceipt) -> None:
        await self.dispatcher._on_receipt(receipt, self.connection_id)

    def add_soon(self, receipt: DeliveryReceipt,
                 done: Callable[[BaseException | None], None]) -> None:
        # Only once stored is it acknowledged (done). The connection goes with it: a receipt
        # that matches no id may settle an `uncertain` text of that connection.
        self.dispatcher.store.add_soon(_Job(_RECEIPT, (receipt, self.connection_id)),
                                       lambda _output, error: done(error))


class _Job(NamedTuple):
    """One thing for the store batch: a claim, a carrier's answer, or a receipt."""

    kind: str
    payload: object


@dataclass
class DispatchOptions:
    poll_interval_s: float = 0.2  # how often an idle lane looks for new work
    fetch_size: int = 500
    max_group: int = 64  # texts claimed in one transaction at most
    max_attempts: int = 5  # temporary refusals before a text is `failed`
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0
    throttle_pause_s: float = 1.0  # after throttle events with nothing accepted between them
    throttle_pause_max_s: float = 30.0
    # A lane counts a text from its claim until a window after its answer, which covers the
    # jitter a margin was for; every ms of margin costs 0.1% of the rate.
    pacer_margin_s: float = 0.0
    spacing_burst_s: float = DEFAULT_BURST_S  # sends spread inside the second, this much early
    # How long a code's lease lasts without renewal: a dead worker's codes wait this long
    # before another takes them (--lease-seconds, $PSMS_LEASE_SECONDS).
    lease_s: float = field(default_factory=lambda: lease_seconds())
    # A process with this worker id takes a code whose holder's heartbeat (renewed every
    # housekeeping_s) has been silent this long: a restarted worker gets its codes back in
    # seconds, a second live process with the same id never (store.outbox, leases).
    restart_takeover_s: float = 5.0
    housekeeping_s: float = 0.5
    # Sharing codes with other workers (store.leases): codes handed back per renewal at most by
    # a worker over its share, and how long a free code waits for a worker under its share
    # before one at its share takes it.
    rebalance_moves: int = 3
    share_grace_s: float = 2.0
    limits_lifted: bool = False  # benchmarks only: no pacing at all
    # Turns of the event loop the store batch waits for before it writes: an answer stored
    # frees its slot at once (code_lane.py), and the claim that takes it, a few turns later,
    # then shares the answer's transaction (at 20,000 texts: 1,025 -> 631 transactions, the
    # store thread's CPU per text 135 -> 88 us). 0: write as soon as anything waits.
    store_gather_turns: int = 8
    # Reply-aware pacing (domain/reply_pacing.py): how long a text's replies are waited for,
    # and the places of an agent who has no limit of open conversations of their own.
    reply_window_s: float = field(default_factory=lambda: reply_window_s())
    places_per_agent: int = DEFAULT_PLACES_PER_AGENT
    # A possible opt-out undecided this long becomes an opt-out ($PSMS_REVIEW_DEADLINE_DAYS);
    # looked for every review_sweep_s.
    review_deadline_business_days: int = field(default_factory=lambda: int(
        os.environ.get("PSMS_REVIEW_DEADLINE_DAYS", REVIEW_DEADLINE_BUSINESS_DAYS)))
    review_sweep_s: float = 60.0
    smpp_response_timeout_s: float = 10.0
    # Idle time before a keep-alive probe: carriers expect one every 30-60 s, and some count a
    # chattier client against it (a connection may set its own: enquire_link_s).
    smpp_enquire_link_s: float = 30.0
    # Receipts handed to the store at once per connection before the SMPP reader waits: enough
    # for whole batches, or receipts would be written a few dozen at a time and, with the reader
    # stopped, submit_sm_resp would wait behind them.
    smpp_receipt_concurrency: int = 1000
    # Receipts that match no carrier id: how often they are tried against `uncertain` texts
    # (store.unmatched_receipts), how far the lag they state may be from the one we saw, and how
    # long they are kept before being pruned ($PSMS_EARLY_RECEIPT_HOURS).
    receipt_sweep_s: float = 5.0
    receipt_max_skew_s: float = unmatched_receipts.DEFAULT_MAX_SKEW_S
    early_receipt_max_age_s: float = field(default_factory=lambda: early_receipt_max_age_s())
    # Scheduled starts and recurring notices due: looked for this often, fired in a thread of
    # their own (services.schedule_firing; its grace is $PSMS_SCHEDULE_GRACE_MINUTES).
    schedule_check_s: float = 1.0
    firing: FiringOptions = field(default_factory=FiringOptions)
    # Each connection's circuit breaker (domain.circuit_breaker): when a registration's texts
    # leave its first connection for the next, and when they come back.
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    # HTTP providers: seconds to wait for a submit's answer (past it the text is `uncertain`),
    # and to open a connection (a text that could not connect is simply sent later).
    http_timeout_s: float = 10.0
    http_connect_timeout_s: float = 5.0


DEFAULT_LEASE_S = 15.0


def lease_seconds(raw: str | None = None) -> float:
    """A code's lease time: `raw`, else $PSMS_LEASE_SECONDS, else 15 s. At least 1 s: a worker
    renews every housekeeping tick (0.5 s) and stops sending when its lease may have lapsed."""
    raw = raw if raw is not None else os.environ.get("PSMS_LEASE_SECONDS")
    if not raw:
        return DEFAULT_LEASE_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 1.0 <= seconds < float("inf"):
        raise ValueError(f"the lease time must be a number of seconds, at least 1, got {raw!r}")
    return seconds


def reply_window_s() -> float:
    """How long a text's replies are waited for by reply-aware pacing:
    $PSMS_REPLY_WINDOW_MINUTES, else 30 min."""
    raw = os.environ.get("PSMS_REPLY_WINDOW_MINUTES")
    if not raw:
        return DEFAULT_REPLY_WINDOW_S
    try:
        minutes = float(raw)
    except ValueError:
        minutes = 0.0
    if not 0 < minutes < float("inf"):
        raise ValueError(f"PSMS_REPLY_WINDOW_MINUTES must be a positive number of minutes, "
                         f"got {raw!r}")
    return minutes * 60


def early_receipt_max_age_s() -> float:
    """How long a receipt that matches no text is kept: $PSMS_EARLY_RECEIPT_HOURS, else 48 h."""
    raw = os.environ.get("PSMS_EARLY_RECEIPT_HOURS")
    if not raw:
        return unmatched_receipts.DEFAULT_MAX_AGE_S
    try:
        hours = float(raw)
    except ValueError:
        hours = 0.0
    if not hours > 0:
        raise ValueError(f"PSMS_EARLY_RECEIPT_HOURS must be a positive number of hours, "
                         f"got {raw!r}")
    return hours * 3600


CarrierFactory = Callable[[CarrierConnection, Callable, Callable, DispatchOptions], object]


def smpp_carrier(connection: CarrierConnection, on_receipt, on_inbound,
                 options: DispatchOptions):
    from proactive_sms.carriers.smpp.client import SmppCarrier
    from proactive_sms.carriers.smpp.config import SmppConfig

    config = SmppConfig(host=connection.host, port=connection.port,
                        system_id=connection.system_id, password=connection.password,
                        window_size=connection.window_size,
                        response_timeout_s=options.smpp_response_timeout_s,
                        enquire_link_interval_s=(connection.enquire_link_s
                                                 or options.smpp_enquire_link_s),
                        handler_concurrency=options.smpp_receipt_concurrency)
    return SmppCarrier(config, on_receipt, on_inbound)


def http_carrier(connection: CarrierConnection, on_receipt, on_inbound,
                 options: DispatchOptions):
    """An HTTP provider connection. Its receipts and inbound texts come as callbacks to
    `psms serve`, stored and processed by the housekeeping (services.carrier_callbacks)."""
    from proactive_sms.carriers.http.client import HttpProviderCarrier
    from proactive_sms.carriers.http.providers import shape
    from proactive_sms.services.carrier_callbacks import account_of

    return HttpProviderCarrier(account_of(connection), shape(connection.provider or ""),
                               window_size=connection.window_size,
                               timeout_s=options.http_timeout_s,
                               connect_timeout_s=options.http_connect_timeout_s)


def carrier_for(connection: CarrierConnection, on_receipt, on_inbound,
                options: DispatchOptions):
    """The carrier of a connection's kind: an SMPP bind or an HTTP provider account."""
    factory = http_carrier if connection.kind == "http" else smpp_carrier
    return factory(connection, on_receipt, on_inbound, options)


def window_rules() -> Rules:
    """The law's calling-window rules, extended by the JSON list in $PSMS_WINDOW_RULES if set
    (see domain/window_rules.py for the format)."""
    path = os.environ.get("PSMS_WINDOW_RULES")
    if not path:
        return DEFAULT_RULES
    with open(path, encoding="utf-8") as handle:
        return load_rules(json.load(handle))


def _load_geocoder() -> None:
    """The send-time check may ask phonenumbers' geocoder for a number's state, and its data
    takes half a second to load: loaded before the first claim, not in the middle of it, where
    every result and receipt waiting for the store would wait that long too, and a skill's
    first text with them. zipcodes' table (a ZIP's time zone, 0.3-3 s of CPU) loads in a thread
    of its own from the start (Dispatcher.zip_table)."""
    import phonenumbers.geocoder  # noqa: F401


class Dispatcher:
    def __init__(self, engine: Engine, clock: Clock | None = None,
                 options: DispatchOptions | None = None, worker_id: str | None = None,
                 carrier_factory: CarrierFactory = carrier_for) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.options = options or DispatchOptions()
        # A restarted worker with the same id takes its codes back once the old process's
        # heartbeat has stopped for restart_takeover_s; without one, a new worker waits for the
        # dead one's leases to lapse (lease_s). The process token tells two live processes with
        # one worker id apart: the second is refused (store.outbox, leases).
        self.worker_id = (worker_id or os.environ.get("PSMS_WORKER_ID")
                          or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
        self.lease = outbox.LeaseHolder(self.worker_id, uuid.uuid4().hex)
        self.carrier_factory = carrier_factory
        self.carriers: dict[int, object] = {}  # by connection id
        self.slots: dict[int, ConnectionWindow] = {}  # by connection id
        self.breakers: dict[int, CircuitBreaker] = {}  # by connection id
        self.lanes: dict[int, CodeLane] = {}  # by registration id
        self.lane_tasks: dict[int, asyncio.Task] = {}
        self._paces_saved: dict[int, code_pace.CodePace] = {}  # as last written to the store
        self._bounds_saved: dict[int, ReplyBound] = {}  # reply bounds, as last written
        self._paced: list[PacedSkill] = []  # reply-paced skills' figures, as _plan read them
        self._running_by_code: dict[int, frozenset[int]] = {}  # skills running, as _plan saw
        self._lost_lanes: set[asyncio.Task] = set()  # lanes of codes whose lease was taken
        # Sharing (store.leases): this process's tenure of each code it holds, as the lease task
        # last renewed them, and the lanes being stopped to hand their code to a worker under
        # its share (released once they have ended).
        self._tenures: dict[int, leases.Tenure] = {}
        self._handing_back: dict[int, tuple[CodeLane, asyncio.Task]] = {}
        self._renewed_at = 0.0  # monotonic: when the last renewal began
        self._lease_valid_until = 0.0  # monotonic: until when the last renewal holds
        # Renewals run in a task and (on PostgreSQL) a thread of their own, so that no chore
        # and no queue of claims can delay them past the lease.
        self._lease_task: asyncio.Task | None = None
        self._lease_thread: ThreadPoolExecutor | None = None
        self.timing: dict[int, TimingPolicy] = {}  # by running skill id
        self._decisions = SendDecisions()  # see timing_for
        self.rules = window_rules()
        self.inbound = InboundService(engine, self.clock)
        self.links = LinkStatusRecorder(self.worker_id)
        self.store: BatchWriter[_Job]
        self._stop = asyncio.Event()
        # A lane holding texts of a skill that started since the last look asks for the next
        # look now rather than at the end of the housekeeping pause: a launch's first texts.
        self._look_soon = asyncio.Event()
        self.writer: ThreadPoolExecutor | None = None
        self._system_lookup: asyncio.Future[dict[int, list[OutboxItem]]] | None = None
        self._zip_table: asyncio.Future[None] | None = None  # see zip_table
        self._system_looked_at = 0.0
        self._reported_ambiguous: set[int] = set()  # held receipts already logged as such
        self._receipt_cursor = 0  # where the next sweep of held receipts goes on
        self._folded_at = -COUNTER_FOLD_S  # fold once at start, then every COUNTER_FOLD_S
        self.scheduler = ScheduleFiring(engine, self.clock, self.worker_id, self.options.firing)
        self._firing: asyncio.Future | None = None  # the scheduler's pass under way
        self._launcher: ThreadPoolExecutor | None = None  # its thread: a launch is long
        self._schedules_checked_at = float("-inf")

    # --- database helpers (run in worker threads) ----------------------------------------------

    def read(self, query, *args):
        with self.engine.connect() as conn:
            found = query(conn, *args)
            # Ended with COMMIT, not the pool's ROLLBACK: on PostgreSQL a rollback makes psycopg
            # drop the connection's prepared statements (DEALLOCATE ALL, one more round trip),
            # and the store's next transaction on it would prepare them all again.
            conn.commit()
            return found

    def write(self, command, *args):
        with self.engine.begin() as conn:
            return command(conn, *args)

    async def system_texts(self, registration_id: int) -> list[OutboxItem]:
        """Pending system texts of a code (at most 100), as seen at most poll_interval_s ago.

        One query looks for every code at once: a hundred lanes each asking five times a second
        would keep the store thread busy with little else.
        """
        now = self.clock.monotonic()
        lookup = self._system_lookup
        if lookup is None or (lookup.done() and
                              now - self._system_looked_at >= self.options.poll_interval_s):
            self._system_looked_at = now
            lookup = self._system_lookup = asyncio.ensure_future(self.in_writer(
                self.read, outbox.fetch_system_pending_by_code, list(self.lanes), 100,
                self.clock.now()))
        found = await asyncio.shield(lookup)
        return found.get(registration_id, _NONE)

    def _start_loading_zip_table(self) -> None:
        if self._zip_table is None:
            self._zip_table = asyncio.get_running_loop().run_in_executor(
                None, time_zones.load_zip_table)

    async def zip_table(self) -> None:
        """zipcodes' table, loaded once in a thread of its own (begun at start): a lane that has
        texts with a postal code waits for it before claiming them (their send-time check
        reads it), while the store thread goes on with the others' claims, answers and
        receipts."""
        self._start_loading_zip_table()
        await asyncio.shield(self._zip_table)

    async def in_writer(self, function, *args):
        """Run a blocking store function on the store thread.

        Reads go there too: on SQLite every transaction, even a read, starts with BEGIN
        IMMEDIATE (store.engine), so a read on another thread would wait for the write lock in
        SQLite's busy handler instead of in this queue.
        """
        return await asyncio.get_running_loop().run_in_executor(self.writer, function, *args)

    # --- running ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None, until_idle: bool = False,
                  receipt_grace_s: float = 10.0) -> None:
        """Dispatch until `stop` is set or stop() is called (or, with until_idle, until every
        skill is finished and receipts have come in or receipt_grace_s passed)."""
        self.scheduler.stopping = False
        if stop is not None:
            # A stop() that came before this run began (its task created, not started yet)
            # must not be lost: replacing the event it set made such a dispatcher run forever.
            if self._stop.is_set():
                stop.set()
            self._stop = stop
        # A frozen worker must not hold, mid-transaction, the rows the others need to take over
        # its codes once its leases lapse: the server ends such a session after a lease time.
        end_idle_transactions_after(self.engine, self.options.lease_s)
        # Every write transaction (claims, results, receipts, housekeeping) runs on one thread
        # (a few on PostgreSQL). SQLite has one writer anyway: queued here, a transaction starts
        # the moment the previous one commits, where several threads would contend for the lock
        # and sleep in SQLite's busy handler (1, 2, 5, 10 ... ms) while it is free.
        self.writer = ThreadPoolExecutor(
            max_workers=1 if self.engine.dialect.name == "sqlite" else 4,
            thread_name_prefix="psms-store-writer")
        await self.in_writer(_load_geocoder)
        # zipcodes' table starts loading now, in a thread of its own (not the store's): a lane
        # with texts that have a postal code waits for it only if they come before it is in,
        # so a dispatcher that runs before a launch has it when the first text comes.
        self._start_loading_zip_table()
        # What is loaded by now (modules, phonenumbers' metadata and geocoder, SQLAlchemy's
        # compiled statements) lives as long as the process: kept out of the cyclic collector's
        # sight, each full collection no longer walks all of it again (~20 us per text at
        # 20,000 texts, measured with gc.callbacks).
        with frozen_heap():
            self.store = BatchWriter(self._write_batch, max_batch=2000, name="store",
                                     executor=self.writer,
                                     gather_turns=self.options.store_gather_turns)
            self.store.start()
            try:
                await self._until_done(until_idle, receipt_grace_s)
            finally:
                await self.shutdown()
                self._stop = asyncio.Event()  # a later run() runs until its own stop

    async def _until_done(self, until_idle: bool, receipt_grace_s: float) -> None:
        self._lease_thread = (self.writer if self.engine.dialect.name == "sqlite" else
                              ThreadPoolExecutor(max_workers=1, thread_name_prefix="psms-lease"))
        await self._renew_leases()
        self._lease_task = asyncio.create_task(self._keep_leases(), name="leases")
        await self._refresh()
        self._fire_schedules()
        idle_since: float | None = None
        await self.in_writer(self._sweep_receipts)
        swept_at = self.clock.monotonic()
        reviewed_at = -self.options.review_sweep_s
        while not self._stop.is_set():
            await self._housekeeping_pause()
            try:
                await self._refresh()
                self._fire_schedules()
                await self.in_writer(self._process_callbacks)
                if self.clock.monotonic() - swept_at >= self.options.receipt_sweep_s:
                    swept_at = self.clock.monotonic()
                    await self.in_writer(self._sweep_receipts)
                if self.clock.monotonic() - reviewed_at >= self.options.review_sweep_s:
                    reviewed_at = self.clock.monotonic()
                    await self.in_writer(self.inbound.settle_overdue_reviews,
                                         self.options.review_deadline_business_days)
                await self._fold_counters()
                if until_idle:
                    busy, awaiting_receipts = await self.in_writer(self._work_left)
                    if busy:
                        idle_since = None
                        continue
                    if awaiting_receipts:
                        idle_since = idle_since or self.clock.monotonic()
                        if self.clock.monotonic() - idle_since < receipt_grace_s:
                            continue
                    if await self._scheduler_pass_started_work():
                        idle_since = None
                        continue
                    break
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # The server ended the session (end_idle_transactions_after: this process was
                # frozen mid-transaction, and its leases have lapsed meanwhile) or the store
                # restarted. Each of these looks is made again at the next tick.
                log.warning("the store's connection was lost (%s); looking again", exc.orig)

    async def _scheduler_pass_started_work(self) -> bool:
        """Whether the scheduler's pass under way, if any, started a skill: waited for, then
        read. A pass is not work by itself: most find nothing due, and one begins every
        schedule_check_s, so counting a pass as busy (as this once did) restarted the receipts'
        grace again and again wherever passes are slow, as on a loaded machine."""
        if self._firing is None:  # (a pass that ended since the last read is read again)
            return False
        stopped = asyncio.ensure_future(self._stop.wait())  # a stop does not wait for the pass
        try:
            await asyncio.wait([self._firing, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if self._stop.is_set():
            return False
        busy, _ = await self.in_writer(self._work_left)
        return busy

    async def _housekeeping_pause(self) -> None:
        """Until the next look: housekeeping_s, or sooner when a lane asks (look_soon)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._look_soon.wait(), self.options.housekeeping_s)
        self._look_soon.clear()

    def look_soon(self) -> None:
        """A lane holds texts of a skill started since the last look: look again now."""
        self._look_soon.set()

    async def _fold_counters(self) -> None:
        """Now and then on PostgreSQL, fold the counter shards of backends that ended
        (store.skill_counters.fold), so that reading a skill's counters stays a few rows."""
        if self.engine.dialect.name != "postgresql":
            return
        now = self.clock.monotonic()
        if now - self._folded_at < COUNTER_FOLD_S:
            return
        self._folded_at = now
        await self.in_writer(self.write, skill_counters.fold)

    def _fire_schedules(self) -> None:
        """Start a pass of the scheduler (services.schedule_firing) when the last one is done
        and schedule_check_s has passed. It runs in a thread of its own: a scheduled launch of
        a large list takes a while, and claims, results and receipts go on meanwhile."""
        if self._firing is not None:
            if not self._firing.done():
                return
            if not self._firing.cancelled() and self._firing.exception() is not None:
                log.error("firing scheduled starts failed", exc_info=self._firing.exception())
            self._firing = None
        now = self.clock.monotonic()
        if now - self._schedules_checked_at < self.options.schedule_check_s:
            return
        self._schedules_checked_at = now
        if self._launcher is None:
            self._launcher = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="psms-scheduled-launch")
        self._firing = asyncio.get_running_loop().run_in_executor(self._launcher,
                                                                   self.scheduler.run_due)

    async def _stop_firing(self) -> None:
        """A scheduled launch under way stops after its batch and hands its claim back (the
        next dispatcher resumes it from its cursor)."""
        self.scheduler.stopping = True
        if self._firing is not None:
            try:
                await self._firing
            except Exception:  # noqa: BLE001 - shutting down goes on
                log.exception("firing scheduled starts failed")
            self._firing = None
        if self._launcher is not None:
            self._launcher.shutdown(wait=False)
            self._launcher = None

    def stop(self) -> None:
        """End run(): now, or as soon as it begins when it has not begun yet."""
        self._stop.set()
        self._look_soon.set()  # ends the housekeeping pause

    async def shutdown(self) -> None:
        for lane in self.lanes.values():
            lane.stopping = True
        await self._stop_firing()
        await self._stop_keeping_leases()
        try:  # a short run (a refused bind, then Ctrl-C) still leaves its reason on record
            await self._record_links(self.links.changes(self.carriers, self.clock.monotonic(),
                                                        self.breakers))
            await self._record_switches()
        except Exception:  # noqa: BLE001 - shutting down goes on
            log.exception("recording the connections' link status failed at shutdown")
        if self.lane_tasks or self._lost_lanes or self._handing_back:
            await asyncio.gather(*self.lane_tasks.values(), *self._lost_lanes,
                                 *(task for _, task in self._handing_back.values()),
                                 return_exceptions=True)
        for carrier in self.carriers.values():
            await carrier.stop()
        await self._record_links(self.links.stopped(self.carriers))
        await self.store.close()
        # Texts that became uncertain in this run, whose receipts came meanwhile.
        try:
            await self.in_writer(self._sweep_receipts)
        except Exception:  # noqa: BLE001 - the leases must still be released below
            log.exception("settling uncertain texts with held receipts failed at shutdown")
        await self.in_writer(self._release_leases)
        await self.in_writer(self._finish_skills)
        self.writer.shutdown(wait=False)

    async def _refresh(self) -> None:
        """Pick up codes (lease), rates and validity; finish skills; check lanes are alive;
        record the paces that changed."""
        paces = [lane.pace() for lane in self.lanes.values()]
        changed = [p for p in paces if self._paces_saved.get(p.registration_id) != p]
        now = self.clock.monotonic()
        bounds = {skill_id: bound for lane in self.lanes.values()
                  for skill_id, bound in lane.reply.bounds(now).items()}
        moved = {k: b for k, b in bounds.items() if self._bounds_saved.get(k) != b}
        plan = await self.in_writer(self._plan, changed, moved)
        self._paces_saved.update((p.registration_id, p) for p in changed)
        self._bounds_saved.update(moved)
        self._stop_lost_lanes({registration.id for registration, _, _ in plan})
        valid_until = self._lease_valid_until
        for registration, rate, new in plan:
            lane = self.lanes.get(registration.id)
            if lane is not None and isinstance(new, _Start):
                # Lost and taken again since its lane started (a pause past the lease): that
                # lane's pacer knows nothing of the holder between; a new lane starts.
                self._drop_lane(registration.id, "its lease changed hands meanwhile")
                lane = None
            if lane is not None:
                lane.set_rate(rate)
                if isinstance(new, _Reroute):  # groups on their way keep their leg
                    lane.route = await self._route(registration, new.connections)
                    log.info("code %s now routes through %s", registration.code,
                             ", ".join(leg.name for leg in lane.route.legs))
                task = self.lane_tasks[registration.id]
                if task.done() and not task.cancelled() and task.exception():
                    raise task.exception()
                continue
            if not isinstance(new, _Start):
                continue  # a lane that has ended meanwhile (shutdown)
            connections, dnc_list_id, tenure = new
            held = self._tenures.get(registration.id)
            if held is None or held.fence != tenure.fence or registration.id in self._handing_back:
                continue  # lost or handed back since _plan looked (the lease task runs apart)
            lane = CodeLane(self, registration, await self._route(registration, connections),
                            dnc_list_id, rate)
            lane.start_tenure(tenure, valid_until)
            self.lanes[registration.id] = lane
            self.lane_tasks[registration.id] = asyncio.create_task(
                lane.run(), name=f"lane:{registration.code}")
            log.info("dispatching code %s at %g %s/s", registration.code, rate,
                     registration.throughput_unit)
        self._refresh_reply_gates()
        for lane in self.lanes.values():
            lane.route.observe_links()
        await self._record_links(self.links.changes(self.carriers, self.clock.monotonic(),
                                                    self.breakers))
        await self._record_switches()

    async def _record_switches(self) -> None:
        """Which connection carries each code now, and its failovers and returns: stored for
        the console, the API and /metrics (services.carrier_route logs them as they happen)."""
        switches: list[Switch] = []
        for lane in self.lanes.values():
            switches += lane.route.switches
            lane.route.switches = []
        if switches:
            await self.in_writer(self.write, self._write_switches, switches, self.clock.now())

    def _write_switches(self, conn, switches: list[Switch], now) -> None:
        for switch in switches:
            route_status.record(conn, switch.registration_id, switch.after, self.worker_id, now,
                                failover=switch.failover, came_back=switch.came_back)

    async def _route(self, registration: Registration,
                     connections: Sequence[CarrierConnection]) -> CarrierRoute:
        """The code's route over its connections, starting the sessions it needs."""
        legs = []
        for connection in connections:
            carrier = self.carriers.get(connection.id)
            if carrier is None:
                carrier = self.carrier_factory(
                    connection, _ReceiptsOf(self, connection.id), self._on_inbound, self.options)
                self.carriers[connection.id] = carrier
                self.slots[connection.id] = ConnectionWindow(connection.window_size)
                self.breakers[connection.id] = CircuitBreaker(self.clock, self.options.breaker)
                await carrier.start()
            legs.append(Leg(connection.id, connection.name, carrier, self.slots[connection.id],
                            self.breakers[connection.id]))
        return CarrierRoute(registration.id, registration.code, legs)

    # --- leases: renewed, taken and handed back by a task of their own (store.leases) --------

    async def _keep_leases(self) -> None:
        while not self._stop.is_set():
            await asyncio.sleep(self.options.housekeeping_s)
            try:
                await self._renew_leases()
            except Exception:  # noqa: BLE001 - a store blip: the lanes stop at their lease clock
                log.exception("renewing the codes' leases failed; trying again")

    async def _stop_keeping_leases(self) -> None:
        if self._lease_task is not None:
            self._lease_task.cancel()
            await asyncio.gather(self._lease_task, return_exceptions=True)
            self._lease_task = None
        if self._lease_thread is not None and self._lease_thread is not self.writer:
            self._lease_thread.shutdown(wait=True)
        self._lease_thread = None
        self._renewed_at = 0.0

    async def _renew_leases(self) -> None:
        """Announce this process, hand back the codes whose lanes have stopped for it, renew
        its leases and take free codes up to its share; then extend its lanes' lease clock and
        stop lanes to hand back if it holds more than its share."""
        # The lanes' lease clock starts before the renewal: it ends no later than the lease in
        # the store, so a lane stops before anyone may take its code.
        renewing_at = self.clock.monotonic()
        if self._renewed_at and renewing_at - self._renewed_at > self.options.lease_s / 2:
            log.warning("lease renewal %.1f s after the last one (lease %g s): the store or "
                        "this process is slow; lanes stop if it reaches the lease",
                        renewing_at - self._renewed_at, self.options.lease_s)
        self._renewed_at = renewing_at
        releases = self._handovers_due()
        give_back = await asyncio.get_running_loop().run_in_executor(
            self._lease_thread, self._lease_transaction, releases)
        for registration_id in releases:
            self._handing_back.pop(registration_id, None)
        valid_until = renewing_at + min(self.options.lease_s, self.options.restart_takeover_s)
        self._lease_valid_until = valid_until
        for registration_id, lane in self.lanes.items():
            tenure = self._tenures.get(registration_id)
            if tenure is not None and tenure.fence == lane.fence:
                lane.lease_valid_until = valid_until
        self._hand_back(give_back)

    def _lease_transaction(self, releases: dict[int, list[tuple[float, int]]]) -> int:
        """One transaction: _share_codes over the active codes; how many to hand back."""
        with self.engine.begin() as conn:
            candidates = [reg.id for reg in registrations.list_registrations(conn)
                          if reg.status == "active" and reg.connection_id is not None]
            return self._share_codes(conn, candidates, self.clock.now(), releases)[1]

    def _hand_back(self, count: int) -> None:
        """Stop `count` lanes so that their codes go to workers under their share: each code is
        released, with its pacer's last window, once its lane's texts are answered."""
        for registration_id in sorted(self.lanes, reverse=True)[:count]:
            lane = self.lanes.pop(registration_id)
            lane.stopping = True
            self._handing_back[registration_id] = (lane, self.lane_tasks.pop(registration_id))
            log.info("code %s: handed back to share the codes with the other workers",
                     lane.registration.code)

    def _handovers_due(self) -> dict[int, list[tuple[float, int]]]:
        """The codes whose lanes being handed back have ended, with their last window's sends
        (epoch seconds) for the next holder's pacer."""
        due = {}
        for registration_id, (lane, task) in self._handing_back.items():
            if task.done():
                due[registration_id] = lane.handover_sends()
        return due

    def _refresh_reply_gates(self) -> None:
        """Hand each lane (new ones too, before their first text) its skills' reply figures,
        and which of its skills were running at this look: a text of a skill started since is
        held until the next look says whether its replies pace it."""
        by_code: dict[int, list[PacedSkill]] = {}
        for entry in self._paced:
            by_code.setdefault(entry.registration_id, []).append(entry)
        now = self.clock.monotonic()
        for registration_id, lane in self.lanes.items():
            lane.reply.refresh(by_code.get(registration_id, ()), now,
                               self._running_by_code.get(registration_id, frozenset()))

    async def _record_links(self, changes) -> None:
        """Bound, unbound, last error (a refused bind says why) of each connection: the one
        status every reader shows (services.link_status)."""
        if changes:
            await self.in_writer(self.write, self.links.write, changes, self.clock.now())

    def _stop_lost_lanes(self, owned: set[int]) -> None:
        """Stop the lanes of codes this process no longer owns (another process took the lease
        after ours lapsed, or the code was deactivated). Their claims were already refused."""
        for registration_id in [r for r in self.lanes if r not in owned]:
            self._drop_lane(registration_id, "no longer ours (lease taken by another process, "
                                             "or the code was deactivated)")

    def _drop_lane(self, registration_id: int, why: str) -> None:
        lane = self.lanes.pop(registration_id)
        lane.stopping = True
        self._lost_lanes.add(self.lane_tasks.pop(registration_id))
        log.warning("code %s: %s; its lane stops", lane.registration.code, why)

    def _plan(self, paces: Sequence[code_pace.CodePace] = (),
              bounds: dict[int, ReplyBound] | None = None) -> list[
            tuple[Registration, float, _Start | _Reroute | None]]:
        """(registration, rate, what changes) for each code this worker holds, as the lease
        task last renewed them (called on its own, as tests do, it takes the leases itself):
        _Start (its connections in order, DNC list, tenure) for a code without a lane yet or
        whose lease changed hands since its lane started, _Reroute when only its connections
        changed. A handful of statements whatever the number of codes: this runs every
        housekeeping_s."""
        now = self.clock.now()
        plan = []
        with self.engine.begin() as conn:
            # Launching skills too: their committed batches are sent while the launch goes on
            # (outbox.DISPATCHED), under the same pacing, windows and reply gates. Budgets
            # pause running skills (a launch was checked against its budget at start).
            dispatched = skills.list_skills(conn, statuses=_DISPATCHED)
            running = spend_guard.hold_spent(
                conn, [s for s in dispatched if s.status is SkillStatus.RUNNING], now)
            running += [s for s in dispatched if s.status is not SkillStatus.RUNNING]
            self.timing = self._timing_policies(conn, running)
            candidates = [reg for reg in registrations.list_registrations(conn)
                          if reg.status == "active" and reg.connection_id is not None]
            owned = (dict(self._tenures) if self._lease_task is not None else
                     self._share_codes(conn, [reg.id for reg in candidates], now, {})[0])
            code_pace.save(conn, [p for p in paces if p.registration_id in owned], now)
            reply_pace.save(conn, bounds or {}, now)
            by_code: dict[int, set[int]] = {}
            for member in running:
                by_code.setdefault(member.registration_id, set()).add(member.id)
            self._running_by_code = {k: frozenset(v) for k, v in by_code.items()}
            self._paced = ([] if self.options.limits_lifted else read_paced_skills(
                conn, running, {reg.id: reg for reg in candidates if reg.id in owned}, now,
                self.options.reply_window_s, self.options.places_per_agent))
            routes = registrations.routes(conn, [reg for reg in candidates if reg.id in owned])
            for reg in candidates:
                if reg.id not in owned:
                    continue
                if reg.id in self._handing_back:
                    continue  # held until its lane has stopped, then released
                new = None
                lane = self.lanes.get(reg.id)
                if lane is None or lane.fence != owned[reg.id].fence:
                    recovered = outbox.recover_submitting(conn, reg.id, now)
                    if recovered:
                        log.warning("code %s: %d text(s) left submitting by a stopped "
                                    "dispatcher are now uncertain", reg.code, recovered)
                    bu = tenancy.business_unit_by_id(conn, reg.business_unit_id)
                    dnc_list_id = reg.dnc_list_id or dnc.find_list(conn, bu.tenant_id).id
                    new = _Start([registrations.connection_by_id(conn, c)
                                  for c in routes[reg.id]], dnc_list_id, owned[reg.id])
                elif lane.route.connection_ids() != routes[reg.id]:
                    new = _Reroute([registrations.connection_by_id(conn, c)
                                    for c in routes[reg.id]])
                plan.append((reg, self._rate(reg, running), new))
            self._finish_done(conn, running, now)
        return plan

    def _share_codes(self, conn, candidates: list[int], now,
                     releases: dict[int, list[tuple[float, int]]]
                     ) -> tuple[dict[int, leases.Tenure], int]:
        """Announce this process, hand back `releases`, renew its leases and take free codes up
        to its share (store.leases): the codes it holds, and how many it should hand back.
        Codes another live worker holds are left alone."""
        live_s = self.options.lease_s
        leases.announce(conn, self.lease, now, live_s)
        if releases:
            leases.release(conn, self.lease, releases, now)
        fleet = leases.fleet(conn, candidates, now, live_s)
        owned = leases.renew_and_take(
            conn, self.lease, candidates, now, self.options.lease_s,
            self.options.restart_takeover_s, share=fleet.share,
            grace_s=self.options.share_grace_s, keep_out=list(releases))
        # Read again with what this renewal took: whether this process is over its share.
        fleet = leases.Fleet(fleet.live_workers, fleet.codes,
                             {**fleet.held, self.lease.process_token: len(owned)},
                             fleet.free - len(set(owned) - set(self._tenures)))
        going = len(set(self._handing_back) - set(releases))
        self._tenures = owned
        return owned, leases.to_give_back(fleet, self.lease, going, self.options.rebalance_moves)

    def _finish_done(self, conn, running: Sequence[skills.Skill], now) -> None:
        """Running skills of our codes with nothing left to send become finished (a launching
        one has records still to decide)."""
        ours = [s.id for s in running
                if s.registration_id in self.lanes and s.status is SkillStatus.RUNNING]
        unsettled = outbox.unsettled_by_skill(conn, ours)
        # An agent skill goes on while any record is still in its cadence.
        in_cadence = cadences.open_by_skill(conn, [s.id for s in running
                                                   if s.id in ours and s.kind == "agent"])
        for skill_id in ours:
            if (not unsettled.get(skill_id) and not in_cadence.get(skill_id)
                    and skills.change_status(conn, skill_id, SkillStatus.FINISHED,
                                             [SkillStatus.RUNNING], now)):
                webhook_emitters.skill_finished(conn, skill_id, now)

    def _rate(self, reg: Registration, running: Sequence[skills.Skill]) -> float:
        if self.options.limits_lifted:
            return UNLIMITED_PER_S
        paced = [s.pacing_per_s for s in running
                 if s.registration_id == reg.id and s.pacing_per_s]
        return min([reg.throughput_per_s, *paced])

    def _work_left(self) -> tuple[bool, bool]:
        """(texts still to send or launch, texts still waiting for a receipt) on our codes."""
        with self.engine.connect() as conn:
            # Every skill on a code that some worker can dispatch counts, not only ours: a code
            # leased by a worker that died is taken over once its lease lapses.
            codes = {r.id for r in registrations.list_registrations(conn)
                     if r.status == "active" and r.connection_id is not None}
            mine = [s for s in skills.list_skills(conn) if s.registration_id in codes]
            unsettled = outbox.unsettled_by_skill(
                conn, [s.id for s in mine if s.status in _DISPATCHED])
            busy = bool(unsettled) or any(s.status is SkillStatus.LAUNCHING for s in mine)
            awaiting = outbox.any_awaiting_receipt(conn, [s.id for s in mine])
            conn.commit()  # as in read(): keeps the connection's prepared statements
        return busy, awaiting

    def _finish_skills(self) -> None:
        with self.engine.begin() as conn:
            self._finish_done(conn, skills.list_skills(conn, statuses=[SkillStatus.RUNNING]),
                              self.clock.now())

    def _sweep_receipts(self) -> None:
        """Settle `uncertain` texts with receipts that match no id; prune the old ones."""
        with self.engine.begin() as conn:
            now = self.clock.now()
            done = unmatched_receipts.reconcile_uncertain(
                conn, now, self.options.receipt_max_skew_s, self.options.early_receipt_max_age_s,
                self._receipt_cursor)
            self._receipt_cursor = done.next_after_id
            pruned = unmatched_receipts.prune(conn, now, self.options.early_receipt_max_age_s)
            # Providers' callbacks, once processed, are kept as long as held receipts are.
            carrier_callback_store.prune_processed(
                conn, now - timedelta(seconds=self.options.early_receipt_max_age_s))
        if done.settled:
            log.info("%d uncertain text(s) settled by receipts matched on number, time and "
                     "text: %s", len(done.settled), done.settled)
        for receipt_id, texts in done.ambiguous.items():
            if receipt_id not in self._reported_ambiguous:
                self._reported_ambiguous.add(receipt_id)
                log.warning("held receipt %d fits %d texts (%s) on number, time and text: "
                            "left unsettled", receipt_id, len(texts), texts)
        if pruned:
            log.warning("%d receipt(s) matching no text pruned after %.0f h", pruned,
                        self.options.early_receipt_max_age_s / 3600)

    def _process_callbacks(self) -> None:
        """HTTP providers' stored callbacks into receipts and inbound texts (keywords,
        conversations), as SMPP's deliver_sm are (services.carrier_callbacks)."""
        with self.engine.begin() as conn:
            done = carrier_callbacks.process_pending(conn, self.inbound, self.clock.now())
        if done.outcomes:
            log.debug("provider callbacks: %d receipt(s), %d inbound, %d opted out",
                      done.receipts, done.inbound, done.opted_out)

    def _release_leases(self) -> None:
        """At shutdown (every lane has ended): hand every code back with its pacer's last
        window, so the next holder keeps the limit, and leave the fleet."""
        lanes = [*self.lanes.values(), *(lane for lane, _ in self._handing_back.values())]
        with self.engine.begin() as conn:
            leases.release(conn, self.lease,
                           {lane.registration.id: lane.handover_sends() for lane in lanes},
                           self.clock.now())
            leases.retire(conn, self.lease)

    # --- the store batch: claims, results and receipts ----------------------------------------

    async def claim(self, group: list[OutboxItem], dnc_list_id: int,
                    connection_id: int | None = None,
                    tenure: tuple[int, int] | None = None) -> outbox.Claim:
        """Claim a lane's group (DNC checked now); with other work waiting, in one transaction.
        `connection_id`: written on the claimed texts (the connection they go through).
        `tenure`: (code, fence) the lane was started under: moves nothing once the lease was
        lost or changed hands, even if this process holds the code again."""
        return await self.store.add(_Job(_CLAIM, (group, dnc_list_id, connection_id, tenure)))

    def record_result_soon(self, item: OutboxItem, result: SubmitResult,
                           stored: Callable[[OutboxItem, SubmitResult, BaseException | None],
                                            None], connection_id: int | None = None,
                           registration_id: int | None = None) -> None:
        """Store a carrier's answer; `stored(item, result, error)` is called once it is.
        `connection_id`: the connection that carried the text (kept with it once accepted);
        `registration_id`: its code (whose DNC list takes a number the provider says left)."""
        self.store.add_soon(_Job(_RESULT, (item, result, connection_id, registration_id)),
                            lambda _output, error: stored(item, result, error))

    async def _on_receipt(self, receipt: DeliveryReceipt, connection_id: int | None = None) -> None:
        # Only once stored is it acknowledged. The connection goes with it: a receipt that
        # matches no id may settle an `uncertain` text of that connection.
        await self.store.add(_Job(_RECEIPT, (receipt, connection_id)))

    def _write_batch(self, jobs: Sequence[_Job]) -> list:
        """Everything waiting, in one transaction: results first (they free window slots and
        store the ids receipts look for), then receipts, then claims.

        If that transaction fails, each kind is tried again in its own transaction, so that one
        bad receipt cannot fail the results and claims that happened to share its batch.
        """
        kinds: dict[str, list[int]] = {}
        for index, job in enumerate(jobs):
            kinds.setdefault(job.kind, []).append(index)
        outputs: list = [None] * len(jobs)
        try:
            unplaced: list[tuple[int, deliveries.Came]] = []
            with self.engine.begin() as conn:
                now = self.clock.now()
                for kind in _ORDER:
                    if kind in kinds:
                        self._write_kind(conn, kind, jobs, kinds[kind], outputs, now, unplaced)
            self._hold_unplaced(unplaced, outputs)
            return outputs
        except Exception:
            if len(kinds) == 1:
                raise
        for kind in _ORDER:
            if kind not in kinds:
                continue
            try:
                with self.engine.begin() as conn:
                    self._write_kind(conn, kind, jobs, kinds[kind], outputs, self.clock.now())
            except Exception as exc:  # noqa: BLE001 - handed to each waiter of this kind
                for index in kinds[kind]:
                    outputs[index] = Failed(exc)
        return outputs

    def _write_kind(self, conn, kind: str, jobs: Sequence[_Job], indices: list[int],
                    outputs: list, now, unplaced: list | None = None) -> None:
        """`unplaced`: when given, receipts that match nothing in a transaction that stored
        answers are added there (job index, receipt) to be held after it (_hold_unplaced)."""
        if kind == _RESULT:
            self._write_results(conn, [jobs[i].payload for i in indices], now)
        elif kind == _RECEIPT:
            by_connection: dict[int | None, list[DeliveryReceipt]] = {}
            index_of: dict[int, int] = {}  # id(receipt) -> its job
            for i in indices:
                receipt, connection_id = jobs[i].payload
                by_connection.setdefault(connection_id, []).append(receipt)
                index_of[id(receipt)] = i
            left: list[deliveries.Came] | None = [] if unplaced is not None else None
            for connection_id, receipts in by_connection.items():
                deliveries.apply_receipts(conn, receipts, now, connection_id, left)
            if left:
                unplaced.extend((index_of[id(came[0])], came) for came in left)
        elif kind == _INBOUND:
            for i in indices:
                self.inbound.handle(conn, jobs[i].payload)
        else:
            self._write_claims(conn, [jobs[i].payload for i in indices], indices, outputs, now)

    def _hold_unplaced(self, unplaced: list[tuple[int, deliveries.Came]], outputs: list) -> None:
        """Receipts that matched nothing in the batch's transaction, which stored answers too:
        held in a transaction of their own (store.deliveries' lock), looked for once more
        first. Should that fail, only their jobs fail (not acknowledged: the SMSC sends them
        again); the batch's transaction has committed."""
        if not unplaced:
            return
        try:
            with self.engine.begin() as conn:
                deliveries.hold_unplaced(conn, [came for _, came in unplaced], self.clock.now())
        except Exception as exc:  # noqa: BLE001 - handed to each waiter of these receipts
            for index, _ in unplaced:
                outputs[index] = Failed(exc)

    def _write_claims(self, conn, claims: list[tuple], indices: list[int], outputs: list,
                      now) -> None:
        """Every lane's group in one claim per DNC list; each lane gets its own part back."""
        claims, fenced_out = self._fence_claims(conn, claims, indices, outputs, now)
        indices = [i for i in indices if i not in fenced_out]
        by_list: dict[int, list[OutboxItem]] = {}
        for group, dnc_list_id, _connection_id in claims:
            by_list.setdefault(dnc_list_id, []).extend(group)
        done = {dnc_list_id: outbox.claim(conn, items, dnc_list_id, now, self.timing_for,
                                          self.lease)
                for dnc_list_id, items in by_list.items()}
        given: set[int] = set()
        carried: dict[int, list[int]] = {}
        for (group, dnc_list_id, connection_id), index in zip(claims, indices, strict=True):
            ids = {item.id for item in group}
            whole = done[dnc_list_id]
            # A text two groups of this batch name (a lane that took it again while its first
            # claim waited in the queue) was claimed once by the one UPDATE: it goes to the
            # first group only, or both would send it.
            mine = (whole.claimed & ids) - given
            given |= mine
            if connection_id is not None and mine:
                carried.setdefault(connection_id, []).extend(mine)
            outputs[index] = outbox.Claim(
                mine, whole.dnc & ids, whole.gone & ids, whole.later & ids,
                {k: v for k, v in whole.validity.items() if k in mine})
        for connection_id, ids in carried.items():
            messages.set_connection(conn, ids, connection_id)

    def _fence_claims(self, conn, claims: list[tuple], indices: list[int], outputs: list,
                      now) -> tuple[list[tuple[list[OutboxItem], int, int | None]], set[int]]:
        """The claims whose lane still holds its code under its fence, as (group, DNC list,
        connection);
        the others get every text back as gone (their indices returned). A takeover that
        commits after this look finds the lease lapsed, and the lane stops at its own lease
        clock before submitting (CodeLane.lease_valid)."""
        fences = {claim[3][0]: claim[3][1] for claim in claims if len(claim) > 3 and claim[3]}
        held = leases.held_with_fence(conn, self.lease, fences, now) if fences else set()
        kept, out = [], set()
        for claim, index in zip(claims, indices, strict=True):
            tenure = claim[3] if len(claim) > 3 else None
            if tenure and (tenure[0] not in held or fences[tenure[0]] != tenure[1]):
                out.add(index)
                outputs[index] = outbox.Claim(set(), set(), {item.id for item in claim[0]})
                continue
            kept.append((claim[0], claim[1], claim[2] if len(claim) > 2 else None))
        return kept, out

    def timing_for(self, item: OutboxItem, sent_last_24h: list) -> SendDecision:
        """Calling window, expiry, validity and frequency cap for one text, at this moment."""
        policy = self.timing.get(item.skill_id)
        if policy is None:  # a skill that stopped running meanwhile: the claim drops it anyway
            return SendDecision(Verdict.SEND, "no timing policy")
        recipient = Recipient(item.destination, item.time_zone, item.postal_code,
                              item.expiration_date)
        # Reused by place and minute: a batch's recipients mostly share both.
        return self._decisions.decide(self.clock.now(), recipient, policy, sent_last_24h)

    def _timing_policies(self, conn, running: Sequence[skills.Skill]) -> dict[int, TimingPolicy]:
        policies = {}
        caps: dict[int, int | None] = {}
        for s in running:
            if s.business_unit_id not in caps:
                caps[s.business_unit_id] = tenancy.business_unit_by_id(
                    conn, s.business_unit_id).frequency_cap_per_24h
            started = s.started_at
            if started is not None and started.tzinfo is None:
                started = started.replace(tzinfo=UTC)  # SQLite gives naive UTC
            expires = (started + timedelta(hours=s.validity_hours)
                       if started is not None and s.validity_hours else None)
            policies[s.id] = TimingPolicy(
                window=SkillWindow.from_config(s.calling_window), rules=self.rules,
                skip_without_zone=s.no_zone_policy != "default",
                default_zone=s.default_time_zone, expires_at=expires,
                cap_per_24h=caps[s.business_unit_id])
        return policies

    def _write_results(self, conn,
                       batch: Sequence[tuple[OutboxItem, SubmitResult, int | None, int | None]],
                       now) -> None:
        accepted = [deliveries.Accepted(item.id, result.carrier_message_ids, connection_id)
                    for item, result, connection_id, _ in batch
                    if result.status is SubmitStatus.ACCEPTED]
        deliveries.record_accepted(conn, accepted, now)
        for item, result, connection_id, registration_id in batch:
            if result.status is not SubmitStatus.ACCEPTED:
                self._record_refusal(conn, item, result, now, connection_id)
            if result.recipient_opted_out and registration_id is not None:
                carrier_callbacks.opt_out_at_submit(conn, registration_id, item.destination,
                                                    result.detail, now)

    def _record_refusal(self, conn, item: OutboxItem, result: SubmitResult, now,
                        connection_id: int | None = None) -> None:
        status, attempts = result.status, item.attempts + 1
        detail = result.detail or status.value
        if status in (SubmitStatus.THROTTLED, SubmitStatus.NOT_SENT):
            # Not the text's fault: back to the head of the queue, no attempt counted.
            messages.transition(conn, [item.id], MessageState.PENDING, now,
                                attempts=item.attempts, detail=detail)
        elif status in (SubmitStatus.QUEUE_FULL, SubmitStatus.TEMPORARY):
            if attempts >= self.options.max_attempts:
                messages.transition(conn, [item.id], MessageState.FAILED, now,
                                    error_code=result.error_code,
                                    detail=f"{detail} ({attempts} attempts)")
            else:
                delay = min(self.options.retry_base_s * 2 ** (attempts - 1),
                            self.options.retry_max_s)
                messages.transition(conn, [item.id], MessageState.PENDING, now,
                                    next_attempt_at=now + timedelta(seconds=delay),
                                    error_code=result.error_code, detail=detail)
        elif status is SubmitStatus.PERMANENT:
            messages.transition(conn, [item.id], MessageState.FAILED, now,
                                error_code=result.error_code, detail=detail)
        else:  # UNCERTAIN: it may have reached the carrier; a person decides
            # It stays with the connection that carried it: its receipt may come from there.
            values = {"connection_id": connection_id} if connection_id is not None else {}
            messages.transition(conn, [item.id], MessageState.UNCERTAIN, now, detail=detail,
                                **values)

    async def _on_inbound(self, text: InboundText) -> None:
        # Stored, classified and acted on (DNC, confirmation, conversation) before the carrier
        # is told we have it.
        log.info("inbound text from %s to %s (%d chars)", mask(text.sender), text.recipient,
                 len(text.text))
        await self.store.add(_Job(_INBOUND, text))
