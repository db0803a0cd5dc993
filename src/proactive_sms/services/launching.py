"""Launching an agentless skill: deciding every record once.

Each record becomes a `pending` message with its rendered body, encoding and segments, or a
`skipped` one with its reason. Records are read in id order a batch at a time; each batch's
decisions and the skill's launch cursor are written in one transaction, so a launch killed at any
point resumes where it stopped, and the unique (skill, record) constraint makes a second start, or
two at once, create nothing twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.prices import PriceList
from proactive_sms.domain.webhook_events import BY_REQUEST, StartedBy
from proactive_sms.services import cadences, offload, webhook_emitters
from proactive_sms.services.launch_batches import BatchSizes
from proactive_sms.services.record_decision import (
    Decider,
    LaunchError,
    LaunchSummary,
    MessageText,
    Prepared,
    Preparer,
    check_text,
    remember_links,
    resolve_text,
    too_long_detail,
)
from proactive_sms.store import calling_lists, dnc, messages, registrations, skills, spend, tenancy
from proactive_sms.store.calling_lists import LaunchFields, LaunchRecord
from proactive_sms.store.engine import yield_to_writers
from proactive_sms.store.messages import Decision
from proactive_sms.store.skills import Skill, SkillStatus

# Launch's public names that live with the decision for one record (services.record_decision).
__all__ = ["LAUNCH_BATCH", "LaunchError", "LaunchSummary", "MessageText", "check_text",
           "resolve_text", "start_skill", "too_long_detail"]

_PENDING = MessageState.PENDING

LAUNCH_BATCH = 20_000  # larger batches rewrite fewer pages of the message indexes per row
# PostgreSQL keeps the index pages in its own buffers whatever the batch, and holds two batches
# at once (one being written while the next is decided): 10,000 records a batch cost the same
# CPU there and ~30 MB less memory (100,000 records: peak 150 -> 120 MB of the launching process).
LAUNCH_BATCH_POSTGRES = 10_000
# The dispatcher sends a launching skill's committed batches while the launch goes on: the
# batches of the first seconds hold SQLite's write lock briefly, the next ones grow to
# `batch_size` (services.launch_batches).
PARALLEL_MIN_RECORDS = 50_000  # below this a worker process saves too little to be worth it


def check_startable(conn: Connection, skill: Skill) -> None:
    """What a start refuses before deciding any record, checked when a start is scheduled and
    again at its moment: an agentless skill's text must exist and fit its list's fields, an
    agent skill needs a cadence."""
    if skill.kind == "agent":
        from proactive_sms.services import cadences

        if cadences.load(conn, skill) is None:
            raise LaunchError(f"skill '{skill.name}' has no cadence yet: set one first")
        return
    check_text(conn, skill, resolve_text(conn, skill))


def start_skill(
    engine: Engine, skill_id: int, clock: Clock, *, template_id: int | None = None,
    message_text: str | None = None, direction: str = "auto",
    batch_size: int | None = None,
    after_batch: Callable[[int], None] | None = None, workers: int | None = None,
    started_by: StartedBy = BY_REQUEST,
) -> LaunchSummary:
    """Start a skill (or resume its interrupted launch) and decide every record once.

    Batches are committed one by one (sized by services.launch_batches, up to `batch_size`: by
    default LAUNCH_BATCH, LAUNCH_BATCH_POSTGRES on PostgreSQL), and the dispatcher sends each
    committed batch's texts while the launch goes on (store.outbox.DISPATCHED); the skill is
    `running` once every record is decided.

    `after_batch` is called with the number of records decided so far after each committed
    batch (for progress bars, and for tests that interrupt a launch). `workers`: 1 renders
    texts in a worker process, 0 here; None (the default) uses a worker for a text with
    variables and PARALLEL_MIN_RECORDS records or more left to decide. `started_by` is what the
    `skill.started` webhook event says started it (a request, unless a schedule did).
    """
    with engine.begin() as conn:
        skill = skills.skill_by_id(conn, skill_id)
    if skill.status is SkillStatus.SCHEDULED:
        raise LaunchError(f"skill '{skill.name}' is scheduled to start later: cancel or move "
                          "its scheduled start first")
    if skill.status is SkillStatus.DRAFT:
        _check_budgets(engine, skill, clock, template_id, message_text, direction)
    if skill.kind == "agent":  # records enter its cadence; texts come from its SMS steps
        return cadences.start(engine, skill_id, clock, started_by)
    with engine.begin() as conn:
        skill = skills.skill_by_id(conn, skill_id)
        if skill.status is SkillStatus.DRAFT:
            if template_id is not None or message_text is not None:
                skills.set_text(conn, skill_id, template_id, message_text, direction)
                skill = skills.skill_by_id(conn, skill_id)
            text = resolve_text(conn, skill)
            check_text(conn, skill, text)
            text = remember_links(conn, text)
            if skills.change_status(conn, skill_id, SkillStatus.LAUNCHING,
                                    [SkillStatus.DRAFT], clock.now()):
                webhook_emitters.skill_started(conn, skill, SkillStatus.LAUNCHING.value,
                                               started_by, clock.now())
        elif skill.status is SkillStatus.LAUNCHING:
            # resuming a launch that was interrupted
            text = remember_links(conn, resolve_text(conn, skill))
        else:
            return LaunchSummary(skill_id, skill.status, already_started=True)
        registration = registrations.registration_by_id(conn, skill.registration_id)
        bu = tenancy.business_unit_by_id(conn, skill.business_unit_id)
        dnc_list_id = registration.dnc_list_id or dnc.find_list(conn, bu.tenant_id).id
        prices = spend.price_list(conn, registration.id)  # fixes each text's cost
        seen = messages.live_destinations(conn, skill_id)
        decided = messages.count_decided(conn, skill_id)
        first = calling_lists.first_id(conn, skill.calling_list_id)
        cursor = skill.launch_cursor if first is None else max(skill.launch_cursor, first - 1)
        remaining = calling_lists.count_after(conn, skill.calling_list_id, cursor,
                                              PARALLEL_MIN_RECORDS)

    summary = LaunchSummary(skill_id, SkillStatus.LAUNCHING)
    decider = Decider(skill, text, seen, clock.now().date())
    if workers is None:
        workers = 1 if decider.needs_fields and remaining >= PARALLEL_MIN_RECORDS else 0
    # On PostgreSQL a batch's writing and commit go to a thread while this one reads and decides
    # the next batch in a transaction of its own (see _write_batch).
    overlap = engine.dialect.name == "postgresql"
    if batch_size is None:
        batch_size = LAUNCH_BATCH_POSTGRES if overlap else LAUNCH_BATCH

    def committed(batch: Sequence[LaunchRecord], decisions: list[Decision], inserted: int) -> None:
        nonlocal decided
        summary.decided_now += inserted
        for d in decisions:
            if d.state is _PENDING:
                summary.pending += 1
            else:
                summary.skipped[d.skip_reason] += 1
        decided += len(batch)
        if after_batch:
            after_batch(decided)

    # Texts are rendered a batch ahead, in a worker process for a large list (services.offload),
    # while this process reads and writes: the worker renders batch n+1 while batch n is written.
    # A fresh worker rather than a fork: this process may be large by now (a server, or an
    # import just before in the same process), and a fork of it keeps a copy of every page this
    # process rewrites while the launch runs (measured: ~110 MB at 1M records, against ~60 MB
    # for a fresh interpreter). The worker imports what it needs while the first batch is
    # decided here.
    with offload.frozen_heap(), offload.runner(_Preparations(decider.preparer), workers,
                                               start="fresh") as work, \
            ThreadPoolExecutor(1, "psms-launch-commit") as committer:
        sent: _Ahead | None = None  # the batch read ahead, being prepared
        sizes = BatchSizes(batch_size, time.monotonic(),
                           one_write_lock=engine.dialect.name == "sqlite")
        size = sizes.size
        writing: Future | None = None  # the previous batch's commit, in the thread
        written: tuple = ()  # that batch and its decisions
        try:
            while True:
                # Read ahead what the next batch will likely take: if it takes less, the rest
                # is read again; if more, the rest is prepared here (_aligned).
                following_size = sizes.likely_next(time.monotonic())
                # The preparations of the batch read ahead, waited for before the transaction:
                # the worker's (a fresh interpreter's first batch waits for its start-up, ~0.5
                # s) must not hold SQLite's write lock, which the dispatcher's first claim
                # waits for.
                this, sent = sent, None
                ready = work.result() if this is not None else None
                # Read, decide and write a batch in one transaction: the DNC list is read in the
                # transaction that records the decisions, and a crash loses nothing decided.
                scope = engine.begin()
                conn = scope.__enter__()
                began = time.monotonic()  # SQLite's write lock is ours from here to the commit
                try:
                    batch = calling_lists.launch_batch(conn, skill.calling_list_id, cursor,
                                                       size, dnc_list_id, decider.needs_fields)
                    if batch:
                        if decider.needs_fields and work.alive:
                            # The next batch, read now and prepared while this one is written.
                            following = calling_lists.launch_fields(
                                conn, skill.calling_list_id, batch[-1].id, following_size)
                            if following:
                                sent = _Ahead.read(following)
                                work.submit(sent)
                        prepared = (_aligned(batch, this, ready) if this is not None
                                    else [None] * len(batch))
                        decisions = [decider.decide(record, preparation)
                                     for record, preparation in zip(batch, prepared,
                                                                    strict=True)]
                    if writing is not None:  # this batch writes once the previous one is in
                        done, writing = writing, None
                        committed(*written, done.result())
                except BaseException:
                    scope.__exit__(*sys.exc_info())
                    raise
                if not batch:
                    scope.__exit__(None, None, None)
                    break
                cursor = batch[-1].id
                write = functools.partial(_write_batch, scope, conn, skill_id, decisions,
                                          clock.now(), prices, cursor)
                if overlap:
                    writing, written = committer.submit(write), (batch, decisions)
                    size = sizes.after(len(batch), 0.0, False, time.monotonic())
                else:
                    inserted = write()
                    held_s = time.monotonic() - began
                    # A dispatcher's claim waiting for SQLite's write lock goes first: else it
                    # would find the lock free only when the launch ends, and so would the
                    # first text.
                    waited = yield_to_writers(engine) > 0
                    committed(batch, decisions, inserted)
                    size = sizes.after(len(batch), held_s, waited, time.monotonic())
        finally:
            if writing is not None:  # leaving on an error: the batch in flight ends first
                futures.wait([writing])

    with engine.begin() as conn:
        skills.change_status(conn, skill_id, SkillStatus.RUNNING, [SkillStatus.LAUNCHING],
                             clock.now())
        summary.status = skills.skill_by_id(conn, skill_id).status
    return summary


def _write_batch(scope: contextlib.AbstractContextManager, conn: Connection, skill_id: int,
                 decisions: list[Decision], now: datetime, prices: PriceList | None,
                 cursor: int) -> int:
    """Write a batch's decisions and the launch cursor in the batch's transaction (`scope`, an
    engine.begin() entered by the launch, which reads and decides in it), and commit it.
    Returns how many decisions were inserted.

    On PostgreSQL this runs in a thread: the server inserts batch n (its indexes, foreign keys
    and triggers: most of a launch's time there) while the launch reads and decides batch n+1 in
    a transaction of its own, which writes only once this one has committed. So batches commit
    in record order, one at a time, and a crash leaves the launch cursor at the last committed
    batch, as when everything ran in turn."""
    try:
        inserted = messages.insert_decisions(conn, skill_id, decisions, now, prices)
        skills.advance_launch_cursor(conn, skill_id, cursor)
    except BaseException:
        scope.__exit__(*sys.exc_info())
        raise
    scope.__exit__(None, None, None)  # commits
    return inserted


def _check_budgets(engine: Engine, skill: Skill, clock: Clock, template_id: int | None,
                   message_text: str | None, direction: str) -> None:
    """A start whose dry-run cost exceeds the skill's budget or its unit's month is refused
    (services.spend.BudgetExceeded), with the text it is started with."""
    from proactive_sms.services import spend

    if template_id is not None or message_text is not None:
        skill = dataclasses.replace(skill, template_id=template_id, message_text=message_text,
                                    direction=direction)
    spend.check_start(engine, skill, clock)


class _Ahead(NamedTuple):
    """A batch read a transaction ahead of its own, to be prepared by the worker."""

    ids: list[int]
    destinations: list[str | None]
    fields: list  # None for a record without a destination: it needs no text

    @classmethod
    def read(cls, rows: Sequence[LaunchFields]) -> _Ahead:
        return cls([r.id for r in rows], [r.sms_destination for r in rows],
                   [r.fields if r.sms_destination is not None else None for r in rows])


class _Preparations:
    """The worker's task: `Preparer.prepare` for each record of an _Ahead that has a
    destination, None for the others."""

    def __init__(self, preparer: Preparer) -> None:
        self.preparer = preparer

    def __call__(self, ahead: _Ahead) -> list[Prepared | None]:
        prepare = self.preparer.prepare
        return [None if d is None else prepare(d, f)
                for d, f in zip(ahead.destinations, ahead.fields, strict=True)]


def _aligned(batch: Sequence[LaunchRecord], ahead: _Ahead,
             prepared: list[Prepared | None]) -> Sequence[Prepared | None]:
    """The preparations made for `ahead` (the batch as read a transaction earlier), set
    against the batch as read now, in the writing transaction.

    One is used only for the same record with the same destination and fields (a re-import
    between the two reads could change them); any other record is prepared here (None).
    """
    now = _Ahead.read(batch)  # type: ignore[arg-type]  # LaunchRecords have those attributes
    if now == ahead:  # the usual case: compared in C, list against list
        return prepared
    made = {record_id: (destination, fields, preparation) for record_id, destination, fields,
            preparation in zip(ahead.ids, ahead.destinations, ahead.fields, prepared,
                               strict=True)}
    aligned: list[Prepared | None] = []
    for record_id, destination, fields in zip(now.ids, now.destinations, now.fields,
                                              strict=True):
        found = made.get(record_id)
        aligned.append(found[2] if found is not None and found[:2] == (destination, fields)
                       else None)
    return aligned


