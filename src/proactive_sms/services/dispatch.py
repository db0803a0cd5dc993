"""The dispatcher: one lane per transport code, one carrier session per connection.

It owns each code through a lease in the database (so several workers can share the work), turns
texts left `submitting` by a crash into `uncertain`, stores every carrier answer and receipt before
acknowledging it, and marks skills finished when nothing is left to send.
"""

from __future__ import annotations

import asyncio
import functools
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

from proactive_sms.carriers.base import (
    DeliveryReceipt,
    InboundText,
    SubmitResult,
    SubmitStatus,
)
from proactive_sms.domain.calling_windows import DEFAULT_RULES, Rules, SkillWindow, load_rules
from proactive_sms.domain.clock import Clock, SystemClock
from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.phone import mask
from proactive_sms.domain.reply_pacing import (
    DEFAULT_PLACES_PER_AGENT,
    DEFAULT_REPLY_WINDOW_S,
    ReplyBound,
)
from proactive_sms.domain.send_timing import (
    Recipient,
    SendDecision,
    TimingPolicy,
    Verdict,
    decide_send,
)
from proactive_sms.domain.spacing import DEFAULT_BURST_S
from proactive_sms.services import carrier_callbacks, webhook_emitters
from proactive_sms.services.batching import BatchWriter, Failed
from proactive_sms.services.code_lane import UNLIMITED_PER_S, CodeLane, ConnectionWindow
from proactive_sms.services.inbound import REVIEW_DEADLINE_BUSINESS_DAYS, InboundService
from proactive_sms.services.link_status import LinkStatusRecorder
from proactive_sms.services.offload import frozen_heap
from proactive_sms.services.reply_gating import PacedSkill, read_paced_skills
from proactive_sms.store import (
    cadences,
    code_pace,
    deliveries,
    dnc,
    messages,
    outbox,
    registrations,
    reply_pace,
    skill_counters,
    skills,
    tenancy,
    unmatched_receipts,
)
from proactive_sms.store import (
    carrier_callbacks as carrier_callback_store,
)
from proactive_sms.store.outbox import OutboxItem
from proactive_sms.store.registrations import CarrierConnection, Registration
from proactive_sms.store.skills import SkillStatus

log = logging.getLogger(__name__)

_NONE: list[OutboxItem] = []  # no system texts (one object, so a lane sees nothing changed)
_RESULT, _RECEIPT, _INBOUND, _CLAIM = "result", "receipt", "inbound", "claim"
# Inbound before claims: a STOP in the same batch as a claim is seen by that claim's DNC check.
_ORDER = (_RESULT, _RECEIPT, _INBOUND, _CLAIM)
COUNTER_FOLD_S = 600.0  # how often a worker folds ended backends' counter shards (PostgreSQL)


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
    lease_s: float = 15.0
    # A process with this worker id takes a code whose holder's heartbeat (renewed every
    # housekeeping_s) has been silent this long: a restarted worker gets its codes back in
    # seconds, a second live process with the same id never (store.outbox, leases).
    restart_takeover_s: float = 5.0
    housekeeping_s: float = 0.5
    limits_lifted: bool = False  # benchmarks only: no pacing at all
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
    # HTTP providers: seconds to wait for a submit's answer (past it the text is `uncertain`),
    # and to open a connection (a text that could not connect is simply sent later).
    http_timeout_s: float = 10.0
    http_connect_timeout_s: float = 5.0


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
    every result and receipt waiting for the store would wait that long too."""
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
        self.lanes: dict[int, CodeLane] = {}  # by registration id
        self.lane_tasks: dict[int, asyncio.Task] = {}
        self._paces_saved: dict[int, code_pace.CodePace] = {}  # as last written to the store
        self._bounds_saved: dict[int, ReplyBound] = {}  # reply bounds, as last written
        self._paced: list[PacedSkill] = []  # reply-paced skills' figures, as _plan read them
        self._running_by_code: dict[int, frozenset[int]] = {}  # skills running, as _plan saw
        self._lost_lanes: set[asyncio.Task] = set()  # lanes of codes whose lease was taken
        self.timing: dict[int, TimingPolicy] = {}  # by running skill id
        self.rules = window_rules()
        self.inbound = InboundService(engine, self.clock)
        self.links = LinkStatusRecorder(self.worker_id)
        self.store: BatchWriter[_Job]
        self._stop = asyncio.Event()
        self.writer: ThreadPoolExecutor | None = None
        self._system_lookup: asyncio.Future[dict[int, list[OutboxItem]]] | None = None
        self._system_looked_at = 0.0
        self._reported_ambiguous: set[int] = set()  # held receipts already logged as such
        self._receipt_cursor = 0  # where the next sweep of held receipts goes on
        self._folded_at = -COUNTER_FOLD_S  # fold once at start, then every COUNTER_FOLD_S

    # --- database helpers (run in worker threads) ----------------------------------------------

    def read(self, query, *args):
        with self.engine.connect() as conn:
            return query(conn, *args)

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
        if stop is not None:
            # A stop() that came before this run began (its task created, not started yet)
            # must not be lost: replacing the event it set made such a dispatcher run forever.
            if self._stop.is_set():
                stop.set()
            self._stop = stop
        # Every write transaction (claims, results, receipts, housekeeping) runs on one thread
        # (a few on PostgreSQL). SQLite has one writer anyway: queued here, a transaction starts
        # the moment the previous one commits, where several threads would contend for the lock
        # and sleep in SQLite's busy handler (1, 2, 5, 10 ... ms) while it is free.
        self.writer = ThreadPoolExecutor(
            max_workers=1 if self.engine.dialect.name == "sqlite" else 4,
            thread_name_prefix="psms-store-writer")
        await self.in_writer(_load_geocoder)
        # What is loaded by now (modules, phonenumbers' metadata and geocoder, SQLAlchemy's
        # compiled statements) lives as long as the process: kept out of the cyclic collector's
        # sight, each full collection no longer walks all of it again (~20 us per text at
        # 20,000 texts, measured with gc.callbacks).
        with frozen_heap():
            self.store = BatchWriter(self._write_batch, max_batch=2000, name="store",
                                     executor=self.writer)
            self.store.start()
            try:
                await self._until_done(until_idle, receipt_grace_s)
            finally:
                await self.shutdown()
                self._stop = asyncio.Event()  # a later run() runs until its own stop

    async def _until_done(self, until_idle: bool, receipt_grace_s: float) -> None:
        await self._refresh()
        idle_since: float | None = None
        await self.in_writer(self._sweep_receipts)
        swept_at = self.clock.monotonic()
        reviewed_at = -self.options.review_sweep_s
        while not self._stop.is_set():
            await asyncio.sleep(self.options.housekeeping_s)
            await self._refresh()
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
                now = self.clock.monotonic()
                if busy:
                    idle_since = None
                elif not awaiting_receipts:
                    break
                else:
                    idle_since = idle_since or now
                    if now - idle_since >= receipt_grace_s:
                        break

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

    def stop(self) -> None:
        """End run(): now, or as soon as it begins when it has not begun yet."""
        self._stop.set()

    async def shutdown(self) -> None:
        for lane in self.lanes.values():
            lane.stopping = True
        try:  # a short run (a refused bind, then Ctrl-C) still leaves its reason on record
            await self._record_links(self.links.changes(self.carriers, self.clock.monotonic()))
        except Exception:  # noqa: BLE001 - shutting down goes on
            log.exception("recording the connections' link status failed at shutdown")
        if self.lane_tasks or self._lost_lanes:
            await asyncio.gather(*self.lane_tasks.values(), *self._lost_lanes,
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
        for registration, rate, new in plan:
            lane = self.lanes.get(registration.id)
            if lane is not None:
                lane.set_rate(rate)
                task = self.lane_tasks[registration.id]
                if task.done() and not task.cancelled() and task.exception():
                    raise task.exception()
                continue
            if new is None:
                continue  # a lane that has ended meanwhile (shutdown)
            connection, dnc_list_id = new
            carrier = self.carriers.get(connection.id)
            if carrier is None:
                carrier = self.carrier_factory(
                    connection, functools.partial(self._on_receipt, connection_id=connection.id),
                    self._on_inbound, self.options)
                self.carriers[connection.id] = carrier
                self.slots[connection.id] = ConnectionWindow(connection.window_size)
                await carrier.start()
            lane = CodeLane(self, registration, carrier, self.slots[connection.id], dnc_list_id,
                            rate)
            self.lanes[registration.id] = lane
            self.lane_tasks[registration.id] = asyncio.create_task(
                lane.run(), name=f"lane:{registration.code}")
            log.info("dispatching code %s at %g %s/s", registration.code, rate,
                     registration.throughput_unit)
        self._refresh_reply_gates()
        await self._record_links(self.links.changes(self.carriers, self.clock.monotonic()))

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
            lane = self.lanes.pop(registration_id)
            lane.stopping = True
            self._lost_lanes.add(self.lane_tasks.pop(registration_id))
            log.warning("code %s: no longer ours (lease taken by another process, or the code "
                        "was deactivated); its lane stops", lane.registration.code)

    def _plan(self, paces: Sequence[code_pace.CodePace] = (),
              bounds: dict[int, ReplyBound] | None = None) -> list[
            tuple[Registration, float, tuple[CarrierConnection, int] | None]]:
        """(registration, rate, (connection, DNC list) for a code not dispatched yet) for each
        code this worker owns. A handful of statements whatever the number of codes: this runs
        every housekeeping_s."""
        now = self.clock.now()
        expires = now + timedelta(seconds=self.options.lease_s)
        plan = []
        with self.engine.begin() as conn:
            running = skills.list_skills(conn, statuses=[SkillStatus.RUNNING])
            self.timing = self._timing_policies(conn, running)
            candidates = [reg for reg in registrations.list_registrations(conn)
                          if reg.status == "active" and reg.connection_id is not None]
            # Codes another live worker owns are left alone.
            owned = outbox.take_leases(conn, [reg.id for reg in candidates], self.worker_id,
                                       now, expires, self.lease.process_token,
                                       self.options.restart_takeover_s)
            code_pace.save(conn, [p for p in paces if p.registration_id in owned], now)
            reply_pace.save(conn, bounds or {}, now)
            by_code: dict[int, set[int]] = {}
            for member in running:
                by_code.setdefault(member.registration_id, set()).add(member.id)
            self._running_by_code = {k: frozenset(v) for k, v in by_code.items()}
            self._paced = ([] if self.options.limits_lifted else read_paced_skills(
                conn, running, {reg.id: reg for reg in candidates if reg.id in owned}, now,
                self.options.reply_window_s, self.options.places_per_agent))
            for reg in candidates:
                if reg.id not in owned:
                    continue
                new = None
                if reg.id not in self.lanes:
                    recovered = outbox.recover_submitting(conn, reg.id, now)
                    if recovered:
                        log.warning("code %s: %d text(s) left submitting by a stopped "
                                    "dispatcher are now uncertain", reg.code, recovered)
                    connection = registrations.connection_by_id(conn, reg.connection_id)
                    bu = tenancy.business_unit_by_id(conn, reg.business_unit_id)
                    dnc_list_id = reg.dnc_list_id or dnc.find_list(conn, bu.tenant_id).id
                    new = (connection, dnc_list_id)
                plan.append((reg, self._rate(reg, running), new))
            self._finish_done(conn, running, now)
        return plan

    def _finish_done(self, conn, running: Sequence[skills.Skill], now) -> None:
        """Running skills of our codes with nothing left to send become finished."""
        ours = [s.id for s in running if s.registration_id in self.lanes]
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
                conn, [s.id for s in mine if s.status is SkillStatus.RUNNING])
            busy = bool(unsettled) or any(s.status is SkillStatus.LAUNCHING for s in mine)
            awaiting = outbox.any_awaiting_receipt(conn, [s.id for s in mine])
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
        with self.engine.begin() as conn:
            for registration_id in self.lanes:
                outbox.release_lease(conn, registration_id, self.worker_id,
                                     self.lease.process_token)

    # --- the store batch: claims, results and receipts ----------------------------------------

    async def claim(self, group: list[OutboxItem], dnc_list_id: int) -> outbox.Claim:
        """Claim a lane's group (DNC checked now); with other work waiting, in one transaction."""
        return await self.store.add(_Job(_CLAIM, (group, dnc_list_id)))

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
            with self.engine.begin() as conn:
                now = self.clock.now()
                for kind in _ORDER:
                    if kind in kinds:
                        self._write_kind(conn, kind, jobs, kinds[kind], outputs, now)
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
                    outputs: list, now) -> None:
        if kind == _RESULT:
            self._write_results(conn, [jobs[i].payload for i in indices], now)
        elif kind == _RECEIPT:
            by_connection: dict[int | None, list[DeliveryReceipt]] = {}
            for i in indices:
                receipt, connection_id = jobs[i].payload
                by_connection.setdefault(connection_id, []).append(receipt)
            for connection_id, receipts in by_connection.items():
                deliveries.apply_receipts(conn, receipts, now, connection_id)
        elif kind == _INBOUND:
            for i in indices:
                self.inbound.handle(conn, jobs[i].payload)
        else:
            self._write_claims(conn, [jobs[i].payload for i in indices], indices, outputs, now)

    def _write_claims(self, conn, claims: list[tuple[list[OutboxItem], int]],
                      indices: list[int], outputs: list, now) -> None:
        """Every lane's group in one claim per DNC list; each lane gets its own part back."""
        by_list: dict[int, list[OutboxItem]] = {}
        for group, dnc_list_id in claims:
            by_list.setdefault(dnc_list_id, []).extend(group)
        done = {dnc_list_id: outbox.claim(conn, items, dnc_list_id, now, self.timing_for,
                                          self.lease)
                for dnc_list_id, items in by_list.items()}
        given: set[int] = set()
        for (group, dnc_list_id), index in zip(claims, indices, strict=True):
            ids = {item.id for item in group}
            whole = done[dnc_list_id]
            # A text two groups of this batch name (a lane that took it again while its first
            # claim waited in the queue) was claimed once by the one UPDATE: it goes to the
            # first group only, or both would send it.
            mine = (whole.claimed & ids) - given
            given |= mine
            outputs[index] = outbox.Claim(
                mine, whole.dnc & ids, whole.gone & ids, whole.later & ids,
                {k: v for k, v in whole.validity.items() if k in mine})

    def timing_for(self, item: OutboxItem, sent_last_24h: list) -> SendDecision:
        """Calling window, expiry, validity and frequency cap for one text, at this moment."""
        policy = self.timing.get(item.skill_id)
        if policy is None:  # a skill that stopped running meanwhile: the claim drops it anyway
            return SendDecision(Verdict.SEND, "no timing policy")
        recipient = Recipient(item.destination, item.time_zone, item.postal_code,
                              item.expiration_date)
        return decide_send(self.clock.now(), recipient, policy, sent_last_24h)

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
        for item, result, _connection_id, registration_id in batch:
            if result.status is not SubmitStatus.ACCEPTED:
                self._record_refusal(conn, item, result, now)
            if result.recipient_opted_out and registration_id is not None:
                carrier_callbacks.opt_out_at_submit(conn, registration_id, item.destination,
                                                    result.detail, now)

    def _record_refusal(self, conn, item: OutboxItem, result: SubmitResult, now) -> None:
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
            messages.transition(conn, [item.id], MessageState.UNCERTAIN, now, detail=detail)

    async def _on_inbound(self, text: InboundText) -> None:
        # Stored, classified and acted on (DNC, confirmation, conversation) before the carrier
        # is told we have it.
        log.info("inbound text from %s to %s (%d chars)", mask(text.sender), text.recipient,
                 len(text.text))
        await self.store.add(_Job(_INBOUND, text))
