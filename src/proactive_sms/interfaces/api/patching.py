"""PATCH bodies: only the fields sent are changed, unknown fields are refused (422 naming them),
and `null` is a value only where the resource has "none" (a connection, a limit).

Each resource's PATCH model derives from `PatchIn`; the route turns it into the service's
`changes` with `changes_of`. The answer of a DELETE that may archive is `RemovalOut`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.errors import Problem, field_error
from proactive_sms.interfaces.api.request_bodies import RequestBody


class PatchIn(RequestBody):
    """A partial change: leave a field out to keep it."""


def changes_of(body: PatchIn, nullable: Iterable[str] = ()) -> dict[str, Any]:
    """The fields the request sent, refusing `null` where the field cannot be empty and a body
    that changes nothing."""
    changes = body.model_dump(exclude_unset=True)
    allowed = set(nullable)
    nulls = sorted(k for k, v in changes.items() if v is None and k not in allowed)
    if nulls:
        raise Problem(422, "invalid-request", "The request has invalid values",
                      f"{', '.join(nulls)} cannot be null (leave a field out to keep it)",
                      [field_error(k, "cannot be null", location="body") for k in nulls])
    if not changes:
        names = ", ".join(type(body).model_fields)
        raise Problem(422, "invalid-request", "The request has invalid values",
                      f"nothing to change: send at least one of {names}",
                      [field_error(None, "empty change", location="body")])
    return changes


class RemovalOut(BaseModel):
    """What a DELETE did: the row is deleted, or archived because history refers to it (hidden
    from lists and look-ups, kept for the texts, skills and reports that name it)."""

    kind: str
    key: str
    outcome: Literal["deleted", "archived"]
    kept_for: list[str] = Field(description="Tables whose rows refer to it (when archived).")
