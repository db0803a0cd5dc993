"""`Idempotency-Key`: a POST that creates or sends, repeated with the same key, answers as the
first time (with `Idempotency-Replayed: true`) and does nothing again.

Keys live in the store (`store/idempotency.py`), per business unit, for 24 hours: a replay works
after a restart and across processes. Rules:
- same key, same request (method, path, query, body; an upload by its content): the first answer;
- same key, another request: 409 `idempotency-key-reused`;
- same key while the first request is still running: 409 `idempotency-key-in-progress` with
  `Retry-After: 1` at once (it does not wait); retrying a moment later gets the first answer;
- only successful answers (2xx) are kept: a request that failed changed nothing, and its key is
  free again for a corrected retry.

Routes take the `Idempotent` dependency and wrap their work in `guard.run(...)`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.datastructures import UploadFile

from proactive_sms.domain.clock import Clock
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import PROBLEM_SCHEMA, Problem
from proactive_sms.store import idempotency as store
from proactive_sms.store.tenancy import BusinessUnit

REPLAYED = "Idempotency-Replayed"


class IdempotencyGuard:
    """Runs a request's work once per key; answers a repeat from the store."""

    def __init__(self, engine: Engine, clock: Clock, bu: BusinessUnit, key: str | None,
                 fingerprint: str, status_code: int) -> None:
        self.engine, self.clock, self.bu = engine, clock, bu
        self.key, self.fingerprint, self.status_code = key, fingerprint, status_code

    def run(self, work: Callable[[], Any]) -> Any:
        """`work()`'s answer, the first time for this key; the stored answer after that."""
        if self.key is None:
            return work()
        with self.engine.begin() as conn:
            claim = store.claim(conn, self.bu.id, self.key, self.fingerprint, self.clock.now())
        if claim.outcome is store.ClaimOutcome.REPLAY:
            return JSONResponse(claim.body, status_code=claim.status_code,
                                headers={REPLAYED: "true"})
        if claim.outcome is store.ClaimOutcome.MISMATCH:
            raise _conflict("idempotency-key-reused", "this Idempotency-Key was used for "
                            "another request", "already used for another request")
        if claim.outcome is store.ClaimOutcome.IN_PROGRESS:
            raise _conflict("idempotency-key-in-progress", "a request with this Idempotency-Key "
                            "is still running: retry in a moment for its answer",
                            "in progress", {"Retry-After": "1"})
        try:
            body = jsonable_encoder(work())
        except BaseException:
            with self.engine.begin() as conn:
                store.release(conn, self.bu.id, self.key)
            raise
        with self.engine.begin() as conn:
            store.answer(conn, self.bu.id, self.key, self.status_code, body)
        return JSONResponse(body, status_code=self.status_code)


def _conflict(kind: str, detail: str, reason: str,
              headers: dict[str, str] | None = None) -> Problem:
    return Problem(409, kind, "Idempotency-Key conflict", detail,
                   [{"field": "Idempotency-Key", "reason": reason, "location": "header"}],
                   headers=headers)


async def fingerprint(request: Request) -> str:
    """What makes two requests the same: method, path, query and body (JSON compared as data,
    a form by its fields and each file's SHA-256, so a new multipart boundary is no change)."""
    content_type = request.headers.get("content-type", "")
    body: Any
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        body = sorted([[name, await _form_value(value)]
                       for name, value in (await request.form()).multi_items()])
    else:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = hashlib.sha256(raw).hexdigest()
    query = sorted(request.query_params.multi_items())
    text = json.dumps([request.method, request.url.path, query, body], sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def _form_value(value: str | UploadFile) -> str | list[str]:
    if isinstance(value, str):
        return value
    digest = hashlib.sha256()
    await value.seek(0)
    while chunk := await value.read(1 << 20):
        digest.update(chunk)
    await value.seek(0)  # the route reads it next
    return [value.filename or "", digest.hexdigest()]


async def _guard(
    request: Request, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=1, max_length=200,
        description="Send the request again with the same key, and it answers as the first "
                    "time and does nothing again (kept 24 h, per business unit).")] = None,
) -> IdempotencyGuard:
    route = request.scope.get("route")
    status_code = getattr(route, "status_code", None) or 200
    print_ = await fingerprint(request) if idempotency_key is not None else ""
    return IdempotencyGuard(engine, clock, bu, idempotency_key, print_, status_code)


Idempotent = Annotated[IdempotencyGuard, Depends(_guard)]


def responses(status_code: int = 200) -> dict[int | str, dict[str, Any]]:
    """For the OpenAPI of a guarded route: the replay header and the 409 conflicts."""
    return {
        status_code: {"headers": {REPLAYED: {
            "description": "`true` when this is the stored answer of an earlier request with "
                           "the same Idempotency-Key (nothing was done again).",
            "schema": {"type": "string", "enum": ["true"]}}}},
        409: {**PROBLEM_SCHEMA, "description": "A problem (RFC 9457); among others, the "
              "Idempotency-Key was used for another request (`idempotency-key-reused`), or "
              "its first request is still running (`idempotency-key-in-progress`, with "
              "Retry-After)."},
    }
