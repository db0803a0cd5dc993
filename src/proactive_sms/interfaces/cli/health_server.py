"""A dispatch worker's health port (`psms dispatch --health-port`): GET /healthz and /readyz
over plain HTTP/1.1, for systemd, Kubernetes or a load balancer's checks. A worker takes no
requests otherwise, so this is a few lines of asyncio rather than a web framework.

/healthz: 200 while the worker's event loop answers. /readyz: 200 while the database answers,
its schema is one this version runs on (services.readiness) and the dispatcher runs; 503 with
the reasons otherwise (also once it is stopping: its codes are being handed over).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

from sqlalchemy import Engine

from proactive_sms.services import readiness

MAX_REQUEST_BYTES = 8192
READ_TIMEOUT_S = 5.0


class HealthServer:
    def __init__(self, engine: Engine, status: Callable[[], dict[str, str]]) -> None:
        """`status()` gives the dispatcher's own checks, including `dispatcher`: `running`
        (ready) or anything else (not ready)."""
        self.engine = engine
        self.status = status
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (0 picks a free one)."""
        self.server = await asyncio.start_server(self._answer, host, port)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
            method, path = _request_line(head)
            status, body = await self._route(method, path)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ValueError):
            status, body = 400, {"status": "bad_request"}
        payload = json.dumps(body).encode()
        writer.write(f"HTTP/1.1 {status} {_PHRASES[status]}\r\nContent-Type: application/json"
                     f"\r\nContent-Length: {len(payload)}\r\nCache-Control: no-store\r\n"
                     f"Connection: close\r\n\r\n".encode() + payload)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def _route(self, method: str, path: str) -> tuple[int, dict]:
        if method != "GET":
            return 405, {"status": "method_not_allowed"}
        path = path.split("?", 1)[0]
        if path == "/healthz":
            return 200, {"status": "ok"}
        if path == "/readyz":
            found = await asyncio.to_thread(readiness.check, self.engine)
            own = self.status()
            found.checks.update(own)
            if own.get("dispatcher") != "running":
                found.problems.append(f"the dispatcher is {own.get('dispatcher')}")
            return (200 if found.ready else 503), found.as_dict()
        return 404, {"status": "not_found"}


def _request_line(head: bytes) -> tuple[str, str]:
    if len(head) > MAX_REQUEST_BYTES:
        raise ValueError("request too large")
    method, path, _version = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    return method, path


_PHRASES = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            503: "Service Unavailable"}
