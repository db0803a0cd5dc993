"""Refuse text no database can store, and say where it is: a NUL character (PostgreSQL's text
cannot hold one) or a lone UTF-16 surrogate (not Unicode at all), in the path, the query, a JSON
body or a form field. Without this such a value reaches the database and fails as a 500 there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request

from proactive_sms.interfaces.api.errors import Problem, field_error


def _reason(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


def _walk(value: Any, path: list[str]) -> Iterator[tuple[str, str]]:
    """(field, reason) for every bad string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        reason = _reason(value)
        if reason:
            yield ".".join(path) or "body", reason
    elif isinstance(value, dict):
        for key, item in value.items():
            reason = _reason(key)
            if reason:
                yield ".".join(path) or "body", f"a key {reason}"
                continue
            yield from _walk(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, [*path, str(index)])


async def refuse_unstorable_text(request: Request) -> None:
    """A dependency of every /v1 route (the body and form are cached, so reading them is free)."""
    found: list[dict[str, Any]] = []
    for name, value in request.path_params.items():
        if isinstance(value, str) and (reason := _reason(value)):
            found.append(field_error(name, reason, location="path"))
    for name, value in request.query_params.multi_items():
        if reason := _reason(name) or _reason(value):
            found.append(field_error(name, reason, location="query"))
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None  # FastAPI answers that one itself, naming the position
        found += [field_error(field, reason, location="body")
                  for field, reason in _walk(body, [])]
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, str) and (reason := _reason(name) or _reason(value)):
                found.append(field_error(name, reason, location="body"))
    if found:
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in found)
        raise Problem(422, "invalid-request", "The request has invalid values", detail, found)
