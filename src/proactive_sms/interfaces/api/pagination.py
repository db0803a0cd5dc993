"""Cursor pagination of list endpoints: `?cursor=&limit=` in, `{items, next_cursor}` out.

The cursor is opaque to clients: the base64 of the last id the page held. Pages are keyset
queries in the store (id > cursor, in id order), so a list walked page by page shows every item
once, with no gap, however long it is.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.errors import Problem, field_error
from proactive_sms.services.listing import PageRequest
from proactive_sms.store.paging import Page

T = TypeVar("T")
MAX_LIMIT = 500
_PREFIX = "after:"


class Paged(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Give it as `cursor` to get the next page; null on the last page.")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor stands for; a 422 problem naming `cursor` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    digits = raw.removeprefix(_PREFIX)
    if not raw.startswith(_PREFIX) or not digits.isdigit() or len(digits) > 19:
        reason = "not a cursor of this API: give the next_cursor of the previous page"
        raise Problem(422, "invalid-request", "The request has invalid values", reason,
                      [field_error("cursor", reason, location="query")])
    return int(digits)


async def page_request(  # async: no thread-pool hop to read two parameters
    cursor: Annotated[str | None, Query(
        max_length=100, description="The `next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 100,
) -> PageRequest:
    return PageRequest(decode_cursor(cursor) if cursor else 0, limit)


PageParams = Annotated[PageRequest, Depends(page_request)]


def paged(page: Page[Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    """The answer of a list endpoint: the page's items and the cursor of the next page."""
    return {"items": [convert(item) for item in page.items],
            "next_cursor": encode_cursor(page.last_id) if page.more and page.last_id else None}
