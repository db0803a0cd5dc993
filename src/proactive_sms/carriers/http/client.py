"""One HTTP provider connection behind the carrier seam, whatever the provider's API shape.

The same promises as the SMPP client: a text is sent at most once (no retry here of a request
that may have reached the provider), an answer that did not come is `uncertain`, a refusal is
classified by the provider's shape. One httpx AsyncClient per connection keeps its TCP (and TLS)
connections alive between texts, at most `window_size` at once: the connection's window.

"Bound" means the provider has accepted our credentials: at start, and again after a submit was
refused for them or could not connect, the account is checked (with backoff) before texts go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import httpx

from proactive_sms.carriers.base import CarrierStats, OutboundText, SubmitResult, SubmitStatus
from proactive_sms.carriers.http.shape import (
    Answer,
    ProviderAccount,
    ProviderRequest,
    ProviderShape,
)

log = logging.getLogger(__name__)

USER_AGENT = "proactive-sms"


class HttpProviderCarrier:
    def __init__(self, account: ProviderAccount, shape: ProviderShape, *, window_size: int = 10,
                 timeout_s: float = 10.0, connect_timeout_s: float = 5.0,
                 probe_min_s: float = 0.5, probe_max_s: float = 30.0) -> None:
        self.account = account
        self.shape = shape
        self.window_size = window_size
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.stats = CarrierStats()
        self.last_error: str | None = None
        self.last_error_count = 0  # grows with each new error (services.link_status)
        self._probe_min_s, self._probe_max_s = probe_min_s, probe_max_s
        self._probe_s = probe_min_s  # doubles after each failed check, back to min when one passes
        self._bound = asyncio.Event()
        self._lost = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self._runner: asyncio.Task | None = None

    # --- the seam -----------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self._bound.is_set()

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            base_url=self.account.base_url.rstrip("/"),
            auth=self.shape.client_auth(self.account),
            headers={"user-agent": USER_AGENT},
            limits=httpx.Limits(max_connections=self.window_size,
                                max_keepalive_connections=self.window_size,
                                keepalive_expiry=30.0),
            timeout=httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s,
                                  pool=self.timeout_s))
        self._runner = asyncio.create_task(self._keep_checked(),
                                           name=f"http:{self.account.connection_id}")

    async def wait_bound(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._bound.wait(), timeout_s)
        return self.bound

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
        self._bound.clear()
        if self._client is not None:
            await self._client.aclose()

    async def submit(self, text: OutboundText) -> SubmitResult:
        if not self.bound or self._client is None:
            return SubmitResult(text.message_id, SubmitStatus.NOT_SENT,
                                detail="provider not reachable")
        request = self.shape.submit_request(self.account, text)
        self.stats.submitted_pdus += 1
        try:
            answer = await self._send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing left this process: safe to send again once the provider answers.
            self._link_lost(f"cannot reach the provider: {_describe(exc)}")
            return SubmitResult(text.message_id, SubmitStatus.NOT_SENT, detail=_describe(exc))
        except httpx.HTTPError as exc:
            # The request (or part of it) left: the provider may have the text.
            self._note_error(f"no answer to a submit: {_describe(exc)}")
            return SubmitResult(text.message_id, SubmitStatus.UNCERTAIN,
                                detail=f"no answer: {_describe(exc)}")
        result = self.shape.read_submit_answer(text, answer)
        if result.link_error:
            self._link_lost(result.detail)
        if result.status is SubmitStatus.ACCEPTED:
            self.stats.accepted_pdus += 1
        elif result.error_code is not None:
            errors = self.stats.errors_by_code
            errors[result.error_code] = errors.get(result.error_code, 0) + 1
        return result

    # --- the account check (the "bind") -------------------------------------------------------

    async def check_account(self) -> str | None:
        """None when the provider takes our credentials, else why not."""
        assert self._client is not None
        try:
            answer = await self._send(self.shape.account_check(self.account))
        except httpx.HTTPError as exc:
            return f"cannot reach the provider: {_describe(exc)}"
        return self.shape.read_account_check(answer)

    async def _keep_checked(self) -> None:
        while True:
            problem = await self.check_account()
            if problem is None:
                if self.last_error is not None and not self.bound:
                    log.info("provider connection %s answers again", self.account.connection_id)
                self._probe_s = self._probe_min_s
                self._lost.clear()
                self._bound.set()
                await self._lost.wait()
                continue
            self._bound.clear()
            self._note_error(problem)
            # Jittered, so that many workers that lost one provider do not knock at once.
            delay = self._probe_s * (1 - random.random() / 4)
            self._probe_s = min(self._probe_s * 2, self._probe_max_s)
            log.warning("provider connection %s: %s; checking again in %.1f s",
                        self.account.connection_id, problem, delay)
            await asyncio.sleep(delay)

    def _link_lost(self, reason: str) -> None:
        self._note_error(reason)
        if self._bound.is_set():
            self._bound.clear()
            self._lost.set()
            self.stats.reconnects += 1

    def _note_error(self, text: str) -> None:
        self.last_error = text
        self.last_error_count += 1

    async def _send(self, request: ProviderRequest) -> Answer:
        assert self._client is not None
        response = await self._client.request(request.method, request.path, data=request.form,
                                              json=request.json, headers=request.headers)
        body = await response.aread()
        return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                      body)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:200] if str(error) else text
