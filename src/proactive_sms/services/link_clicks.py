"""A short link's click: where `/l/{code}` leads, and the click counted (docs/links.md).

What the redirect may rely on:
- A code that is not ours (wrong length, characters or MAC) is refused before any database
  query; so is a code of a skill without tracked links, of a link index the skill does not
  have, or of a skill finished more than `expiry_days` ago. Every refusal is the same None:
  the interface answers one 404 that tells nothing apart.
- A counted click is stored before its 302 is answered: the first one of a recipient on a link
  writes a row (time, user agent class) and sends `message.clicked`; later ones raise its
  count. A link-preview bot's fetch is redirected and not counted.
- Clicks are written by group commit (ClickWriter): the requests that arrive while one batch
  is being written wait for the next, which writes them all in one transaction of three
  statements. A burst of clicks costs a few transactions a second, not one each; a click waits
  at most one batch longer. If the store cannot be written within WRITE_WAIT_S the visitor is
  redirected anyway (the click is written when the store answers, or lost with the process).
- A skill's targets and end are cached for CACHE_TTL_S: a finished skill's links expire at
  most that much late.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from anyio import to_thread
from sqlalchemy import Engine

from proactive_sms.domain import short_links, user_agents
from proactive_sms.domain.clock import Clock
from proactive_sms.services import tracked_links, webhook_emitters
from proactive_sms.store import links as link_store

log = logging.getLogger(__name__)

EXPIRY_DAYS_ENV = "PSMS_LINK_EXPIRY_DAYS"
DEFAULT_EXPIRY_DAYS = 90
CACHE_TTL_S = 30.0
WRITE_WAIT_S = 5.0  # a click waits this long for its batch before the visitor goes on anyway
MAX_BATCH = 2000  # clicks in one transaction
_KEY_RELOAD_S = 60.0  # a code no key checks makes us re-read the keys at most this often
_CACHE_LIMIT = 10_000  # skills remembered; more are read again


def expiry_days_from_env() -> int:
    raw = os.environ.get(EXPIRY_DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_EXPIRY_DAYS
    days = int(raw)
    if days < 1:
        raise ValueError(f"{EXPIRY_DAYS_ENV} must be 1 or more, not {raw}")
    return days


@dataclass(frozen=True)
class Click:
    """Where a valid code leads, and how the click was counted."""

    target: str
    agent_class: str
    counted: bool  # False for a bot
    first: bool  # the recipient's first counted click on this link
    skill_id: int = 0


class LinkRedirects:
    """Resolves codes to targets and counts clicks, for one store (one per API process)."""

    def __init__(self, engine: Engine, clock: Clock, expiry_days: int | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.expiry = timedelta(days=expiry_days if expiry_days is not None
                                else expiry_days_from_env())
        self._keys: tuple[bytes, ...] | None = None
        self._keys_read_at = 0.0
        self._skills: dict[int, tuple[float, link_store.SkillLinks | None]] = {}
        self._lock = threading.Lock()
        self._writer = ClickWriter(engine)

    def click(self, code: str, user_agent: str | None) -> Click | None:
        """The click on `code`, counted, or None when the code leads nowhere (see the page).
        Blocks until the click is stored (or WRITE_WAIT_S); a store error is raised."""
        ref = self._read(code)
        started = self._begin(ref, user_agent) if ref is not None else None
        if started is None:
            return None
        click, written = started
        if written is None:
            return click
        try:
            first = written.result(self._writer.wait_s)
        except TimeoutError:
            first = False
        return replace(click, first=first)

    async def visit(self, code: str, user_agent: str | None) -> Click | None:
        """`click` for the redirect, on the event loop: no thread is held while the click
        waits for its batch (threads, not the store, would bound the clicks/s). A store that
        fails or is slower than WRITE_WAIT_S still lets the visitor through (logged)."""
        ref = self._read(code)
        if ref is None:
            return None
        if not self._is_cached(ref.skill_id):
            await to_thread.run_sync(self._skill, ref.skill_id)
        loop = asyncio.get_running_loop()
        started = self._begin(ref, user_agent, loop)
        if started is None:
            return None
        click, written = started
        if written is None:
            return click
        # A timer handle, not wait_for: this runs for every click
        timer = loop.call_later(self._writer.wait_s, _time_out, written)
        try:
            first = await written
        except TimeoutError:
            log.warning("a click on skill %s waited over %.0f s for the store; redirected",
                        click.skill_id, self._writer.wait_s)
            first = False
        except Exception:  # the visitor is not the one to tell
            log.exception("a click on skill %s could not be stored", click.skill_id)
            first = False
        finally:
            timer.cancel()
        return replace(click, first=first)

    def _begin(self, ref: short_links.LinkRef, user_agent: str | None,
               loop: asyncio.AbstractEventLoop | None = None
               ) -> tuple[Click, Future[bool] | asyncio.Future[bool] | None] | None:
        """Where a valid code leads, and the click's write when it is counted (None: a bot)."""
        links = self._skill(ref.skill_id)
        if links is None or ref.link_index >= len(links.targets):
            return None
        now = self.clock.now()
        if links.finished_at is not None and _aware(links.finished_at) + self.expiry < now:
            return None
        target = links.targets[ref.link_index]
        agent = user_agents.classify(user_agent)
        if agent == "bot":
            return Click(target, agent, counted=False, first=False, skill_id=ref.skill_id), None
        written = self._writer.submit(
            link_store.NewClick(ref.skill_id, ref.record_id, ref.link_index, agent, now),
            links.business_unit_id, target, loop)
        return Click(target, agent, counted=True, first=False, skill_id=ref.skill_id), written

    def _is_cached(self, skill_id: int) -> bool:
        cached = self._skills.get(skill_id)
        return cached is not None and time.monotonic() - cached[0] < CACHE_TTL_S

    def _read(self, code: str) -> short_links.LinkRef | None:
        if len(code) != short_links.CODE_LENGTH:
            return None
        ref = short_links.read_code(self._current_keys(), code)
        if ref is None and time.monotonic() - self._keys_read_at > _KEY_RELOAD_S:
            # A key put first since we read them (rotation) makes codes we cannot check yet.
            ref = short_links.read_code(self._current_keys(reload=True), code)
        return ref

    def _current_keys(self, reload: bool = False) -> tuple[bytes, ...]:
        if self._keys is None or reload:
            self._keys = tracked_links.link_keys(self.engine.url)
            self._keys_read_at = time.monotonic()
        return self._keys

    def _skill(self, skill_id: int) -> link_store.SkillLinks | None:
        now = time.monotonic()
        cached = self._skills.get(skill_id)
        if cached is not None and now - cached[0] < CACHE_TTL_S:
            return cached[1]
        with self.engine.connect() as conn:
            found = link_store.skill_links(conn, skill_id)
        with self._lock:
            if len(self._skills) >= _CACHE_LIMIT:
                self._skills.clear()
            self._skills[skill_id] = (now, found)
        return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


def _time_out(written: asyncio.Future) -> None:
    if not written.done():
        written.set_exception(TimeoutError())


class _Pending:
    __slots__ = ("business_unit_id", "click", "first", "loop", "result", "target")

    def __init__(self, click: link_store.NewClick, business_unit_id: int, target: str,
                 loop: asyncio.AbstractEventLoop | None) -> None:
        self.click = click
        self.business_unit_id = business_unit_id
        self.target = target
        self.first = False
        self.loop = loop
        # On an event loop: its own future, settled with the rest of its batch in one call
        # into the loop (one wake-up a batch, not one a click).
        self.result: Future[bool] | asyncio.Future[bool] = (
            loop.create_future() if loop is not None else Future())


def _settle(batch: list[_Pending], error: BaseException | None) -> None:
    """Give each waiting click its answer (in the thread or loop its future belongs to)."""
    for pending in batch:
        if pending.result.done():  # timed out on a loop
            continue
        if error is not None:
            pending.result.set_exception(error)
        else:
            pending.result.set_result(pending.first)


class ClickWriter:
    """Group commit of clicks: one writer thread per process takes every click waiting and
    writes them in one transaction (store.links.record_clicks), with the message.clicked
    events of first clicks; each request waits for its own batch."""

    def __init__(self, engine: Engine, wait_s: float = WRITE_WAIT_S) -> None:
        self.engine = engine
        self.wait_s = wait_s
        self._waiting: list[_Pending] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, click: link_store.NewClick, business_unit_id: int, target: str,
               loop: asyncio.AbstractEventLoop | None = None
               ) -> Future[bool] | asyncio.Future[bool]:
        """Queue `click` for the next batch: its future (of `loop`, when given) says, once
        stored, whether it was the recipient's first on the link."""
        pending = _Pending(click, business_unit_id, target, loop)
        with self._cond:
            self._waiting.append(pending)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                # started on first use, in the process that uses it (API workers are forked)
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="click-writer",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
        return pending.result

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._waiting:
                    self._cond.wait()
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
            error: BaseException | None = None
            try:
                self._write(batch)
            except Exception as exc:  # noqa: BLE001 - handed to each waiting request
                error = exc
            by_loop: dict[asyncio.AbstractEventLoop | None, list[_Pending]] = {}
            for pending in batch:
                by_loop.setdefault(pending.loop, []).append(pending)
            for loop, waiting in by_loop.items():
                if loop is None:
                    _settle(waiting, error)
                elif not loop.is_closed():
                    loop.call_soon_threadsafe(_settle, waiting, error)

    def _write(self, batch: list[_Pending]) -> None:
        with self.engine.begin() as conn:
            firsts = link_store.record_clicks(conn, [p.click for p in batch])
            for pending in batch:
                c = pending.click
                key = (c.skill_id, c.record_id, c.link_index)
                if key not in firsts:
                    continue
                firsts.discard(key)  # the first click of the batch on the link is the first
                pending.first = True
                webhook_emitters.message_clicked(
                    conn, pending.business_unit_id, skill_id=c.skill_id, record_id=c.record_id,
                    link_index=c.link_index, url=pending.target, agent_class=c.agent_class,
                    now=c.at)
