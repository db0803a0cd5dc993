"""Before any work on a `/v1` request: the key is checked, and the body is capped.

Without this, FastAPI reads and parses a whole JSON body before a dependency can look at the
key: 200 MB sent without a key grew the server by a gigabyte before it answered 401. So this
middleware answers 401 from the headers alone, and caps what is read: a JSON (or any non-upload)
body at `max_body_bytes`, a multipart upload at `max_upload_bytes` (a CSV list, spooled to disk
by the multipart parser, never held in memory). A declared Content-Length over the cap is
refused before a byte is read; a body without one (chunked) is counted as it is read and
refused as soon as it passes the cap. Both answer 413 problem+json naming the limit.
"""

from __future__ import annotations

import os

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proactive_sms.interfaces.api import auth
from proactive_sms.interfaces.api.errors import Problem, field_error, problem_response

MAX_BODY_BYTES = 1024 * 1024  # JSON requests are small: the largest real one is a few KB
UPLOAD_ENV = "PSMS_MAX_UPLOAD_MB"
DEFAULT_UPLOAD_MB = 256  # a calling list file, as the console our users know allows
_MULTIPART_SLACK_BYTES = 64 * 1024  # the part headers and boundaries around the file


def max_upload_bytes_from_env() -> int:
    """PSMS_MAX_UPLOAD_MB (default 256) in bytes; a bad value is an error naming it."""
    raw = os.environ.get(UPLOAD_ENV, str(DEFAULT_UPLOAD_MB))
    try:
        megabytes = float(raw)
    except ValueError as exc:
        raise ValueError(f"{UPLOAD_ENV} must be a number of megabytes, got '{raw}'") from exc
    if megabytes <= 0:
        raise ValueError(f"{UPLOAD_ENV} must be above 0, got '{raw}'")
    return int(megabytes * 1024 * 1024)


class _TooLarge(HTTPException):
    """Raised while the body is read: an HTTPException, since FastAPI turns any other error
    of its body reading into a 400."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(413, _detail(limit, what))


def _detail(limit: int, what: str) -> str:
    return f"the {what} is larger than the limit of {_size(limit)}"


def _too_large(limit: int, what: str) -> Problem:
    detail = _detail(limit, what)
    return Problem(413, "too-large", "Request body too large", detail,
                   [field_error("body", detail)])


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


class RequestLimits:
    """ASGI middleware for the API's `/v1` routes (other paths pass untouched)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        engine = scope["app"].state.engine
        try:
            unit = await run_in_threadpool(auth.authenticate, engine,
                                           headers.get("authorization"))
        except Problem as problem:
            await problem_response(problem)(scope, receive, send)
            return
        scope.setdefault("state", {})[auth.STATE_KEY] = unit

        upload = headers.get("content-type", "").startswith("multipart/form-data")
        limit = (self.max_upload_bytes + _MULTIPART_SLACK_BYTES if upload
                 else self.max_body_bytes)
        what = "upload" if upload else "request body"
        shown_limit = self.max_upload_bytes if upload else self.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await problem_response(_too_large(shown_limit, what))(scope, receive, send)
            return

        read = 0
        started = False

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise _TooLarge(shown_limit, what)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched_send)
        except _TooLarge:
            if started:
                raise
            await problem_response(_too_large(shown_limit, what))(scope, receive, send)
