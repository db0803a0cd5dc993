"""The webhook sender: posts due events to their BU's URL, signed, and retries with backoff.

An asyncio worker beside the dispatcher (`psms dispatch`, `psms serve`). Each pass claims due
events with a lease (several senders may run, on any machine), posts them, and logs every
attempt: a 2xx answer delivers the event; anything else (another status, a timeout, a refused
connection) schedules the next attempt (domain.webhook_retry) or, after the last one, gives up.
Delivery is at least once: receivers drop duplicates by the webhook-id header (Standard
Webhooks, domain.webhook_signature).

Units are independent: each unit's claimed events are posted by a task of their own, and the
next pass claims other units' events without waiting for it (a unit with a delivery in flight
is skipped until it ends). Every request has a deadline for the whole exchange (connect, send,
answer headers), not per read, so a receiver that trickles a byte at a time cannot hold its
own unit past `timeout_s` either. Connections go only to checked addresses
(services.webhook_transport), and what a receiver answers is never stored beyond its status:
the delivery log must not become a way to read pages of a network we can reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock, SystemClock
from proactive_sms.domain.webhook_retry import delay_after
from proactive_sms.domain.webhook_signature import signed_headers
from proactive_sms.services.webhook_transport import CheckedTransport, Resolver, system_resolver
from proactive_sms.store import webhook_events, webhooks
from proactive_sms.store.webhook_events import Attempt, Event
from proactive_sms.store.webhooks import Endpoint

log = logging.getLogger(__name__)

USER_AGENT = "proactive-sms-webhooks/1"


@dataclass
class SenderOptions:
    poll_interval_s: float = 1.0  # how often an idle sender looks for due events
    batch_size: int = 50  # events claimed (and posted concurrently) per pass
    timeout_s: float = 10.0  # the whole request; a receiver that takes longer has failed it
    lease_s: float = 60.0  # claimed events are left alone by other senders this long
    keep_days: float = 30.0  # finished events (and their log) are forgotten after this
    prune_every_s: float = 3600.0


@dataclass(frozen=True)
class AttemptResult:
    http_status: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


class WebhookSender:
    def __init__(self, engine: Engine, clock: Clock | None = None,
                 options: SenderOptions | None = None,
                 resolver: Resolver = system_resolver) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.options = options or SenderOptions()
        self.resolver = resolver  # a seam for tests: DNS
        self._pruned_at: float | None = None
        self._busy_units: set[int] = set()  # units whose delivery task is running
        self._tasks: set[asyncio.Task] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver due events until `stop` is set. A failing pass (the database away) is logged
        and tried again: webhooks must not take the dispatcher down."""
        async with self._client() as client:
            try:
                while not stop.is_set():
                    try:
                        busy = await self._start_due(client)
                        await self._prune_now_and_then()
                    except Exception:  # noqa: BLE001 - logged, retried on the next pass
                        log.exception("webhook pass failed; trying again")
                        busy = 0
                    if busy < self.options.batch_size:  # else more are due at once
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), self.options.poll_interval_s)
            finally:
                # Each is bounded by the request deadline: let them finish and be logged.
                if self._tasks:
                    await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _start_due(self, client: httpx.AsyncClient) -> int:
        """Claim due events of units not already being delivered to, and start one task per
        unit to post them; return how many were claimed (without waiting for the posts)."""
        claimed, endpoints = await asyncio.to_thread(self._claim, None,
                                                     tuple(self._busy_units))
        for unit_id, events in _by_unit(claimed).items():
            self._busy_units.add(unit_id)
            task = asyncio.create_task(self._deliver_unit(client, events, endpoints[unit_id]))
            self._tasks.add(task)
            task.add_done_callback(lambda done, unit_id=unit_id: self._finished(done, unit_id))
        return len(claimed)

    def _finished(self, task: asyncio.Task, unit_id: int) -> None:
        self._tasks.discard(task)
        self._busy_units.discard(unit_id)
        if not task.cancelled() and task.exception() is not None:
            # The events stay claimed until their lease ends, then are tried again.
            log.error("webhook delivery of business unit %d failed", unit_id,
                      exc_info=task.exception())

    async def _deliver_unit(self, client: httpx.AsyncClient, events: list[Event],
                            endpoint: Endpoint) -> None:
        results = await asyncio.gather(*(self._attempt(client, event, endpoint)
                                         for event in events))
        await asyncio.to_thread(self._record, results)

    async def drain(self) -> int:
        """Deliver everything due now (one attempt each), then return how many were attempted:
        for a run that is about to end. Failures are due again later, so this ends."""
        attempted = 0
        async with self._client() as client:
            while done := await self.deliver_due(client):
                attempted += done
        return attempted

    async def deliver_due(self, client: httpx.AsyncClient | None = None,
                          only: Sequence[int] | None = None) -> int:
        """One pass: claim due events (or only these, if due), post them, log each attempt.
        Returns how many were attempted."""
        claimed, endpoints = await asyncio.to_thread(self._claim, only)
        if not claimed:
            return 0
        if client is None:
            async with self._client() as own:
                return await self._deliver(own, claimed, endpoints)
        return await self._deliver(client, claimed, endpoints)

    async def _deliver(self, client: httpx.AsyncClient, claimed: list[Event],
                       endpoints: dict[int, Endpoint]) -> int:
        # Each unit's events are logged as soon as they are done, whatever the others do.
        await asyncio.gather(*(self._deliver_unit(client, events, endpoints[unit_id])
                               for unit_id, events in _by_unit(claimed).items()))
        return len(claimed)

    def _client(self) -> httpx.AsyncClient:
        # Redirects are not followed: a receiver answering 3xx has not taken the event (and a
        # redirect could point where the destination check would refuse to go).
        return httpx.AsyncClient(timeout=self.options.timeout_s, follow_redirects=False,
                                 headers={"User-Agent": USER_AGENT}, trust_env=False,
                                 transport=CheckedTransport(resolver=self.resolver))

    def _claim(self, only: Sequence[int] | None,
               skip_units: Sequence[int] = ()) -> tuple[list[Event], dict[int, Endpoint]]:
        now = self.clock.now()
        with self.engine.begin() as conn:
            claimed = webhook_events.claim_due(
                conn, now, now + timedelta(seconds=self.options.lease_s),
                self.options.batch_size, only, skip_units)
            endpoints = webhooks.endpoints_of(conn, [e.business_unit_id for e in claimed])
            orphans = [e.id for e in claimed if e.business_unit_id not in endpoints]
            if orphans:  # the endpoint was removed or disabled since
                webhook_events.cancel(conn, orphans)
        return [e for e in claimed if e.business_unit_id in endpoints], endpoints

    async def _attempt(self, client: httpx.AsyncClient, event: Event,
                       endpoint: Endpoint) -> tuple[Event, Attempt]:
        attempted_at = self.clock.now()
        result = await self.post(client, endpoint, event, int(attempted_at.timestamp()))
        attempt_no = event.attempts + 1
        if result.delivered:
            outcome, next_at = "delivered", None
        else:
            delay = delay_after(attempt_no)
            outcome = "retrying" if delay is not None else "given_up"
            next_at = attempted_at + delay if delay is not None else None
            log.log(logging.WARNING if outcome == "given_up" else logging.INFO,
                    "webhook %s to %s failed (attempt %d): %s%s", event.public_id,
                    urlsplit(endpoint.url).netloc, attempt_no, result.error,
                    "; given up" if outcome == "given_up" else f"; next at {next_at}")
        return event, Attempt(event.id, attempt_no, attempted_at, endpoint.url,
                              result.http_status, result.error, result.duration_ms, outcome,
                              next_at)

    async def post(self, client: httpx.AsyncClient, endpoint: Endpoint, event: Event,
                   timestamp: int) -> AttemptResult:
        """POST the event's body, signed for `timestamp` (Standard Webhooks headers), and say
        what came of it."""
        body = event.body.encode()
        headers = {"Content-Type": "application/json",
                   **signed_headers(endpoint.secret, event.public_id, event.type, timestamp,
                                    body)}
        started = time.monotonic()
        status, error = None, None
        try:
            # One deadline for the whole exchange: httpx's timeout is per read, which a
            # receiver trickling a byte at a time never reaches.
            async with asyncio.timeout(self.options.timeout_s):
                # Streamed, and the body never read: only the status counts.
                async with client.stream("POST", endpoint.url, content=body,
                                         headers=headers) as response:
                    status = response.status_code
            if not 200 <= status < 300:
                error = _status_text(status)
        except (TimeoutError, httpx.TimeoutException):
            error = f"no answer within {self.options.timeout_s:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        return AttemptResult(status, error, round((time.monotonic() - started) * 1000))

    def _record(self, attempts: list[tuple[Event, Attempt]]) -> None:
        with self.engine.begin() as conn:
            for event, attempt in attempts:
                webhook_events.record_attempt(conn, event, attempt)

    async def _prune_now_and_then(self) -> None:
        now = time.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < self.options.prune_every_s:
            return
        self._pruned_at = now
        before = self.clock.now() - timedelta(days=self.options.keep_days)
        await asyncio.to_thread(self._prune, before)

    def _prune(self, before) -> None:
        with self.engine.begin() as conn:
            webhook_events.prune(conn, before)


def _by_unit(events: list[Event]) -> dict[int, list[Event]]:
    units: dict[int, list[Event]] = {}
    for event in events:
        units.setdefault(event.business_unit_id, []).append(event)
    return units


def _status_text(status: int) -> str:
    """"HTTP 503 Service Unavailable": the status and its standard phrase, never what the
    receiver wrote (its body or reason phrase are not ours to keep)."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"
