"""The simulator's control interface: a tiny HTTP/1.1 JSON server on loopback (stdlib asyncio only).

    GET  /stats                  counters, sessions, config
    GET  /config                 the current knobs
    GET  /submits?since=N&limit=M  accepted submits from index N (JSON objects as in the JSONL log)
    POST /inbound {"from", "to", "text", "data_coding"?, "system_id"?, "timeout_s"?}
                                 200 once the client acknowledged every part, 202 if still waiting
    POST /config {knob: value}   change knobs live; 400 names a bad knob
    POST /reset                  forget records and counters

One request per connection (Connection: close): the callers are tests and the CLI, not browsers.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from .server import SmscSimulator

_MAX_BODY = 1024 * 1024
_READ_TIMEOUT_S = 5.0
_DEFAULT_INBOUND_TIMEOUT_S = 5.0


class HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlServer:
    def __init__(self, sim: SmscSimulator) -> None:
        self._sim = sim
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                method, target, body = await asyncio.wait_for(
                    _read_request(reader), _READ_TIMEOUT_S
                )
                status, payload = await self._dispatch(method, target, body)
            except HttpError as exc:
                status, payload = exc.status, {"error": str(exc)}
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return
            data = json.dumps(payload).encode("utf-8")
            writer.write(
                f"HTTP/1.1 {status.value} {status.phrase}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n"
                "Connection: close\r\n\r\n".encode("latin-1")
                + data
            )
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _dispatch(
        self, method: str, target: str, body: bytes
    ) -> tuple[HTTPStatus, dict[str, Any]]:
        url = urlsplit(target)
        routes = {
            ("GET", "/stats"): self._stats,
            ("GET", "/config"): self._get_config,
            ("GET", "/submits"): self._submits,
            ("POST", "/inbound"): self._inbound,
            ("POST", "/config"): self._post_config,
            ("POST", "/reset"): self._reset,
        }
        handler = routes.get((method, url.path))
        if handler is None:
            if any(path == url.path for _, path in routes):
                raise HttpError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{method} not allowed on {url.path}"
                )
            raise HttpError(HTTPStatus.NOT_FOUND, f"no such endpoint: {url.path}")
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        return await handler(query, _json_object(body) if method == "POST" else {})

    async def _stats(self, query: dict[str, str], body: dict[str, Any]) -> _Reply:
        return HTTPStatus.OK, self._sim.stats()

    async def _get_config(self, query: dict[str, str], body: dict[str, Any]) -> _Reply:
        return HTTPStatus.OK, self._sim.config.to_dict()

    async def _submits(self, query: dict[str, str], body: dict[str, Any]) -> _Reply:
        since = _int_param(query, "since", 0)
        limit = _int_param(query, "limit", -1)
        records = self._sim.accepted_submits(since)
        if limit >= 0:
            records = records[:limit]
        return HTTPStatus.OK, {
            "since": since,
            "count": len(records),
            "submits": [record.to_json() for record in records],
        }

    async def _inbound(self, query: dict[str, str], body: dict[str, Any]) -> _Reply:
        missing = [key for key in ("from", "to", "text") if not isinstance(body.get(key), str)]
        if missing:
            raise HttpError(
                HTTPStatus.BAD_REQUEST, f"missing string field(s): {', '.join(missing)}"
            )
        timeout_s = float(body.get("timeout_s", _DEFAULT_INBOUND_TIMEOUT_S))
        try:
            future = self._sim.inject_inbound_nowait(
                body["from"],
                body["to"],
                body["text"],
                body.get("data_coding"),
                body.get("system_id"),
            )
        except ValueError as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        try:
            # shield: a timeout ends this request, not the delivery, which stays queued.
            status = await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            return HTTPStatus.ACCEPTED, {"status": "pending"}
        return HTTPStatus.OK, {"status": "acknowledged", "command_status": status}

    async def _post_config(self, query: dict[str, str], body: dict[str, Any]) -> _Reply:
        try:
            config = self._sim.configure(**body)
        except (ValueError, TypeError) as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        return HTTPStatus.OK, config.to_dict()

    async def _reset(self, query: dict[str, str], body: dict[str, Any]) -> _Reply:
        self._sim.reset()
        return HTTPStatus.OK, {"reset": True}


_Reply = tuple[HTTPStatus, dict[str, Any]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes]:
    request_line = (await reader.readline()).decode("latin-1").strip()
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"bad request line: {request_line[:80]!r}")
    length = 0
    while True:
        line = (await reader.readline()).decode("latin-1").strip()
        if not line:
            break
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise HttpError(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
    if not 0 <= length <= _MAX_BODY:
        raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
    body = await reader.readexactly(length) if length else b""
    return parts[0].upper(), parts[1], body


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise HttpError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
    return value


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"{name} must be an integer") from None
