"""The provider simulator's HTTP server (Starlette on uvicorn): the Twilio Messages API and the
Vonage SMS API (vonage_api) side by side, the callbacks each posts, inbound texts on demand,
and its control routes under /_sim/."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proactive_sms.carriers.http.twilio import API_PREFIX, reason, signature
from proactive_sms.carriers.provider_sim.config import ProviderSimConfig
from proactive_sms.carriers.provider_sim.vonage_api import VonageApi

log = logging.getLogger(__name__)

CALLBACK_ATTEMPTS = 3  # a callback that cannot be posted (connection refused) is tried again


@dataclass(frozen=True)
class AcceptedText:
    sid: str
    to: str
    sender: str
    body: str
    monotonic_s: float  # when it was taken (time.monotonic of this process)
    answered: str  # how the submit was answered: 201, 500, lost


class ProviderSimulator:
    def __init__(self, config: ProviderSimConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.config = config or ProviderSimConfig()
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._accepted: list[AcceptedText] = []
        self._window: deque[float] = deque()  # accepted in the last second (throttling)
        self._submits = 0
        self.refused: Counter[str] = Counter()  # by error code (or HTTP status)
        self.callbacks = Counter()  # posted, refused (non-2xx), failed (not reachable)
        self._tasks: set[asyncio.Task] = set()
        self._http: httpx.AsyncClient | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.vonage = VonageApi(self)
        self.app = Starlette(routes=[
            Route("/sms/json", self.vonage.submit, methods=["POST", "GET"]),
            Route("/account/get-balance", self.vonage.balance, methods=["GET"]),
            Route(f"{API_PREFIX}/{{sid}}/Messages.json", self._submit, methods=["POST"]),
            Route(f"{API_PREFIX}/{{sid}}.json", self._account, methods=["GET"]),
            Route("/_sim/stats", self._stats, methods=["GET"]),
            Route("/_sim/accepted", self._accepted_route, methods=["GET"]),
            Route("/_sim/configure", self._configure_route, methods=["POST"]),
            Route("/_sim/inbound", self._inbound_route, methods=["POST"]),
        ])

    # --- running ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _uvicorn(self) -> uvicorn.Server:
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning",
                                lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        return self._server

    async def serve(self, announce=None) -> None:
        """Serve in this event loop until stopped (Ctrl-C, or stop())."""
        server = self._uvicorn()
        watcher = asyncio.create_task(self._learn_port(server, announce))
        try:
            await server.serve()
        finally:
            watcher.cancel()
            await self._close()

    async def _learn_port(self, server: uvicorn.Server, announce) -> None:
        while not server.started:
            await asyncio.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        if announce:
            announce(f"provider simulator (Twilio and Vonage shapes) on {self.base_url} "
                     f"Twilio account {self.config.account_sid}, Vonage api_key "
                     f"{self.config.api_key}")

    def start_in_thread(self) -> ProviderSimulator:
        ready = threading.Event()

        def run() -> None:
            async def main() -> None:
                self._loop = asyncio.get_running_loop()
                server = self._uvicorn()
                task = asyncio.create_task(server.serve())
                while not server.started and not task.done():
                    await asyncio.sleep(0.01)
                if server.started:
                    self.port = server.servers[0].sockets[0].getsockname()[1]
                ready.set()
                try:
                    await task
                finally:
                    await self._close()
            asyncio.run(main())

        self._thread = threading.Thread(target=run, name="provider-sim", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the provider simulator did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    async def _close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    # --- what it did --------------------------------------------------------------------------

    def configure(self, **knobs: Any) -> None:
        self.config = self.config.with_knobs(**knobs)

    def accepted(self) -> list[AcceptedText]:
        with self._lock:
            return list(self._accepted)

    def per_destination(self) -> Counter[str]:
        return Counter(a.to for a in self.accepted())

    def stats(self) -> dict[str, Any]:
        taken = self.accepted()
        return {"submits": self._submits, "accepted": len(taken),
                "duplicates": sum(n - 1 for n in Counter(a.to for a in taken).values() if n > 1),
                "refused": dict(self.refused), "callbacks": dict(self.callbacks)}

    # --- the API ------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        expected = f"{self.config.account_sid}:{self.config.auth_token}".encode()
        given = request.headers.get("authorization", "")
        return (given == "Basic " + base64.b64encode(expected).decode()
                and request.path_params["sid"] == self.config.account_sid)

    async def _account(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        return JSONResponse({"sid": self.config.account_sid, "status": "active"})

    def count_submit(self) -> int:
        """Count a submit (any shape); its number, for the every-Nth knobs."""
        with self._lock:
            self._submits += 1
            return self._submits

    async def _submit(self, request: Request) -> Response:
        config = self.config
        number = self.count_submit()
        if not self._authorized(request):
            self.refused["20003"] += 1
            return _error(401, 20003, "Authenticate")
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not to or not sender or not body:
            self.refused["21604"] += 1
            return _error(400, 21604, "A 'To', 'From' and 'Body' are required")
        if config.slow_answer_s:
            await asyncio.sleep(config.slow_answer_s)
        if to in config.refuse:
            code = config.refuse[to]
            self.refused[str(code)] += 1
            return _error(400, code, reason(code))
        if self.over_rate(config):
            self.refused["20429"] += 1
            return _error(429, 20429, "Too Many Requests",
                          {"Retry-After": f"{config.retry_after_s:g}"})
        if config.error_5xx_every and number % config.error_5xx_every == 0:
            self.refused["500"] += 1
            if config.error_5xx_accepts:
                self._take(to, sender, body, form.get("StatusCallback"), "500")
            return _error(500, 20500, "Internal Server Error")
        lost = bool(config.lost_answer_every and number % config.lost_answer_every == 0)
        sid = self._take(to, sender, body, form.get("StatusCallback"),
                         "lost" if lost else "201")
        if lost:
            await asyncio.sleep(config.lost_hold_s)
        elif config.out_of_order_callbacks:
            await asyncio.sleep(config.out_of_order_answer_s)  # its final status goes first
        return JSONResponse({"sid": sid, "account_sid": config.account_sid, "to": to,
                             "from": sender, "body": body, "status": "queued"}, status_code=201)

    def over_rate(self, config: ProviderSimConfig) -> bool:
        if config.throttle_above_per_s is None:
            return False
        now = time.monotonic()
        with self._lock:
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            return len(self._window) >= config.throttle_above_per_s

    def _take(self, to: str, sender: str, body: str, callback: str | None, answered: str) -> str:
        sid = "SM" + uuid.uuid4().hex
        self.take_as(sid, to, sender, body, answered,
                     self._post_statuses(sid, to, sender, callback) if callback else None)
        return sid

    def take_as(self, sid: str, to: str, sender: str, body: str, answered: str,
                callbacks=None) -> None:
        """Record a text (or part) taken, and start posting its callbacks (a coroutine)."""
        now = time.monotonic()
        with self._lock:
            self._window.append(now)
            self._accepted.append(AcceptedText(sid, to, sender, body, now, answered))
        if callbacks is not None:
            self._spawn(callbacks)

    # --- callbacks ----------------------------------------------------------------------------

    def _spawn(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_statuses(self, sid: str, to: str, sender: str, url: str) -> None:
        config = self.config
        statuses = list(config.statuses)
        error = config.undeliverable.get(to)
        if error is not None:
            statuses = [("undelivered" if s == "delivered" else s) for s in statuses]
        if config.out_of_order_callbacks:
            statuses.reverse()
        else:
            await asyncio.sleep(config.callback_delay_s)
        for status in statuses:
            fields = {"MessageSid": sid, "SmsSid": sid, "AccountSid": config.account_sid,
                      "From": sender, "To": to, "MessageStatus": status, "SmsStatus": status,
                      "ApiVersion": "2010-04-01"}
            if error is not None and status in ("undelivered", "failed"):
                fields["ErrorCode"] = str(error)
            for _ in range(2 if config.duplicate_callbacks else 1):
                await self.post_signed(url, fields)
            if config.out_of_order_callbacks:
                await asyncio.sleep(config.callback_delay_s)

    async def post_signed(self, url: str, fields: dict[str, str]) -> int | None:
        """Post a form as Twilio does (signed); the status answered, None if unreachable."""
        token = ("not-" + self.config.auth_token if self.config.bad_signatures
                 else self.config.auth_token)
        headers = {"X-Twilio-Signature": signature(token, url, fields)}
        return await self.deliver(lambda client: client.post(url, data=fields, headers=headers))

    async def deliver(self, send) -> int | None:
        """Send one callback (`send(client)`), tried again while it cannot connect; the
        status answered, None if unreachable."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
        for attempt in range(CALLBACK_ATTEMPTS):
            try:
                answer = await send(self._http)
            except httpx.HTTPError:
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            self.callbacks["posted"] += 1
            if answer.status_code >= 300:
                self.callbacks["refused"] += 1
            return answer.status_code
        self.callbacks["failed"] += 1
        return None

    # --- control ------------------------------------------------------------------------------

    async def _stats(self, request: Request) -> Response:
        return JSONResponse({**self.stats(), "config": self.config.as_dict()})

    async def _accepted_route(self, request: Request) -> Response:
        return JSONResponse([asdict(a) for a in self.accepted()])

    async def _configure_route(self, request: Request) -> Response:
        try:
            knobs = json.loads(await request.body() or b"{}")
            if not isinstance(knobs, dict):
                raise ValueError("a JSON object of knobs is expected")
            self.configure(**knobs)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(self.config.as_dict())

    async def _inbound_route(self, request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            sender, to, text = str(data["from"]), str(data["to"]), str(data["text"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "give from, to and text (and url)"}, status_code=400)
        url = data.get("url") or self.config.inbound_url
        if not url:
            return JSONResponse({"error": "no inbound url: give url, or set inbound_url"},
                                status_code=400)
        shape = data.get("shape") or self.config.inbound_shape
        if shape not in ("twilio", "vonage"):
            return JSONResponse({"error": "shape is twilio or vonage"}, status_code=400)
        sid = await self.inject(sender, to, text, url, shape)
        return JSONResponse(sid)

    def inject_now(self, sender: str, to: str, text: str, url: str | None = None,
                   shape: str | None = None) -> dict[str, Any]:
        """inject() from another thread, for a simulator started with start_in_thread."""
        assert self._loop is not None, "not started in a thread"
        target = url or self.config.inbound_url
        assert target, "no inbound url"
        return asyncio.run_coroutine_threadsafe(
            self.inject(sender, to, text, target, shape), self._loop).result(30)

    async def inject(self, sender: str, to: str, text: str, url: str,
                     shape: str | None = None) -> dict[str, Any]:
        """A person texts `to` (one of our codes): posted to its messaging webhook `url`, in
        the Twilio shape or the Vonage one (default: the inbound_shape knob)."""
        if (shape or self.config.inbound_shape) == "vonage":
            return await self.vonage.inject(sender, to, text, url)
        sid = "SM" + uuid.uuid4().hex
        fields = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.config.account_sid,
                  "From": sender, "To": to, "Body": text, "NumMedia": "0", "NumSegments": "1",
                  "ApiVersion": "2010-04-01"}
        answered = await self.post_signed(url, fields)
        if self.config.duplicate_callbacks:
            await self.post_signed(url, fields)
        return {"sid": sid, "status_code": answered}


def _error(status: int, code: int, message: str,
           headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"code": code, "message": message, "status": status,
                         "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                        status_code=status, headers=headers)
