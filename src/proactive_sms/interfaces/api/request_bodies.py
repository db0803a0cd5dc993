"""Request bodies take only the fields they name: an unknown one is refused (422 naming it).

A field the API silently ignored would hide a client's mistake (a misspelt `start_at` starts
the skill now). Every JSON body model derives from `RequestBody` (nested models too);
`refuse_unknown_form_fields` does the same for multipart and urlencoded bodies (uploads), whose
fields FastAPI reads one by one and would otherwise drop. tests/interfaces/api/
test_unknown_fields.py walks every route of the app, so a new route that forgets it fails there.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

from proactive_sms.interfaces.api.errors import UNKNOWN_FIELD, Problem, field_error


class RequestBody(BaseModel):
    """The base of every request body model."""

    model_config = ConfigDict(extra="forbid")


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _form_field_names(route: APIRoute) -> set[str]:
    names: set[str] = set()
    for param in route.dependant.body_params:
        names.add(param.alias)
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {info.alias or name for name, info in annotation.model_fields.items()}
    return names


async def refuse_unknown_form_fields(request: Request) -> None:
    """A dependency of every /v1 route: a form field the route does not declare is a 422
    naming it, before the route runs (the form is parsed once and cached)."""
    if not request.headers.get("content-type", "").startswith(_FORM_TYPES):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.dependant.body_params:
        return  # a route without a body: FastAPI does not read it
    allowed = _form_field_names(route)
    form = await request.form()
    unknown = sorted({name for name in form if name not in allowed})
    if unknown:
        raise unknown_fields_problem(unknown)


def unknown_fields_problem(names: list[str]) -> Problem:
    found: list[dict[str, Any]] = [field_error(name, UNKNOWN_FIELD, location="body")
                                   for name in names]
    return Problem(422, "invalid-request", "The request has invalid values",
                   "; ".join(f"{name}: {UNKNOWN_FIELD}" for name in names), found)
