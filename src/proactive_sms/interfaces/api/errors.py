"""Errors as RFC 9457 problem details (`application/problem+json`).

Every problem has `type`, `title`, `status` and `detail`, and `errors`: one entry per thing to
fix, naming the `field` (and, for a CSV row, its `line`) and the `reason`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from proactive_sms.domain.template import TemplateError
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.importing import ImportRefused
from proactive_sms.services.launching import LaunchError
from proactive_sms.services.lifecycle import LifecycleError
from proactive_sms.store.errors import AlreadyExists, InUse, NotFound, StaleVersion

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://proactive-sms.example/problems/"
# The reason given for a body field the request does not take (interfaces.api.request_bodies).
UNKNOWN_FIELD = "unknown field: this request does not take it"


class Problem(Exception):
    """An error the API answers with as problem+json."""

    def __init__(self, status: int, kind: str, title: str, detail: str,
                 errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def field_error(field: str | None, reason: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "reason": reason, **extra}


def invalid(field: str | None, reason: str) -> Problem:
    return Problem(422, "invalid-request", "The request has invalid values", reason,
                   [field_error(field, reason)])


@contextlib.contextmanager
def blame(field: str) -> Iterator[None]:
    """Name the request field a service's InvalidRequest or TemplateError is about."""
    try:
        yield
    except (InvalidRequest, TemplateError) as exc:
        raise invalid(field, str(exc)) from exc


def problem_response(problem: Problem) -> JSONResponse:
    body = {"type": TYPE_BASE + problem.kind, "title": problem.title, "status": problem.status,
            "detail": problem.detail, "errors": problem.errors}
    return JSONResponse(body, status_code=problem.status, media_type=MEDIA_TYPE,
                        headers=problem.headers)


def _from_exception(exc: Exception) -> Problem:
    """The problem for each domain, service and store error the API lets through."""
    match exc:
        case Problem():
            return exc
        case NotFound():
            return Problem(404, "not-found", "Not found", str(exc),
                           [field_error(exc.kind.replace(" ", "_"), str(exc))])
        case AlreadyExists():
            return Problem(409, "already-exists", "Already exists", str(exc),
                           [field_error("name", str(exc))])
        case TemplateError():
            return Problem(422, "invalid-template", "The template is not valid", str(exc),
                           [field_error(exc.field or "body", exc.reason,
                                        position=exc.position)])
        case ImportRefused():
            return Problem(422, "import-refused", "The file cannot be imported", str(exc),
                           [field_error("file", str(exc))])
        case LaunchError():
            return Problem(422, "cannot-launch", "The skill cannot start", str(exc),
                           [field_error("text", str(exc))])
        case LifecycleError():
            return Problem(409, "wrong-status", "The skill's status does not allow this",
                           str(exc), [field_error("status", str(exc))])
        case InvalidRequest():
            return invalid(exc.field, str(exc))
        case InUse():
            return Problem(409, "in-use", "Still in use", str(exc),
                           [field_error(exc.kind.replace(" ", "_"), exc.reason)])
        case StaleVersion():
            return Problem(412, "precondition-failed", "Changed by someone else", str(exc),
                           [field_error("If-Match", str(exc), location="header")])
        case DataError():
            # The database refused a value (longer than its column, out of range): the
            # transaction was rolled back, so nothing of the request was written.
            return invalid(None, "a value is too long or out of range for the database: "
                                 + str(exc.orig).splitlines()[0])
    raise TypeError(f"no problem for {type(exc).__name__}")  # pragma: no cover


def problem_of(exc: Exception) -> Problem:
    """The problem the API answers for a domain, service or store error: the console shows a
    form's errors with the same fields and reasons."""
    return _from_exception(exc)


def _allowed_methods(request: Request) -> list[str]:
    """Every method of the path: Starlette's 405 names only those of the first route that
    matched it, while GET and POST of one path are often two routes."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


_LOCATIONS = ("body", "query", "path", "header", "cookie")


def _validation_error(error: dict) -> dict[str, Any]:
    """FastAPI's ('query', 'format') becomes field 'format' with location 'query'."""
    loc = list(error.get("loc") or [])
    location = loc.pop(0) if loc and loc[0] in _LOCATIONS else None
    reason = UNKNOWN_FIELD if error.get("type") == "extra_forbidden" else error["msg"]
    return field_error(".".join(str(p) for p in loc) or None, reason, location=location)


def install(app: FastAPI) -> None:
    """Answer every error with problem+json, including FastAPI's own."""

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(_from_exception(exc))

    for kind in (Problem, NotFound, AlreadyExists, TemplateError, ImportRefused, LaunchError,
                 LifecycleError, InvalidRequest, StaleVersion, InUse, DataError):
        app.add_exception_handler(kind, on_error)

    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_validation_error(e) for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem_response(Problem(422, "invalid-request", "The request has invalid values",
                                        detail, errors))

    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own answers: 400 for a body it cannot parse (not UTF-8, broken form), 404
        # for an unknown path, 405 for a method the path does not have.
        # 413: a body over its limit (interfaces.api.request_limits).
        errors = ([field_error("body", str(exc.detail))] if exc.status_code in (400, 413)
                  else [])
        problem = Problem(exc.status_code, "http-" + str(exc.status_code), str(exc.detail),
                          str(exc.detail), errors)
        response = problem_response(problem)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


# For the OpenAPI: the shape of every error answer.
PROBLEM_SCHEMA = {
    "description": "A problem (RFC 9457)",
    "content": {MEDIA_TYPE: {"schema": {
        "type": "object",
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": ["string", "null"]}, "reason": {"type": "string"},
                "line": {"type": "integer"}}}},
        }}}},
}
PROBLEMS = {status: PROBLEM_SCHEMA for status in (400, 401, 404, 409, 412, 413, 422)}
