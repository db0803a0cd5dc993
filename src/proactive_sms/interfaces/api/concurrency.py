"""Optimistic concurrency for the API: an ETag on every read of an editable resource, If-Match
on its changes.

The ETag is the row's `version` (see store.errors.StaleVersion). A PATCH or DELETE that sends
`If-Match` applies only to that version: the store's conditional UPDATE decides, so of two
changes made from the same read exactly one wins and the other answers 412. A change without
If-Match applies to whatever is current (last writer wins), as most APIs allow.
"""

from __future__ import annotations

from fastapi import Request, Response

from proactive_sms.interfaces.api.errors import Problem

# Who the audit log says made a change through the API (an API key has no console user).
API_ACTOR = "(api)"


def etag(version: int) -> str:
    """The strong ETag of a resource at `version`."""
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    """Put the resource's ETag on the answer (GET, and the answer of a change)."""
    response.headers["ETag"] = etag(version)


def expected_version(request: Request) -> int | None:
    """The version `If-Match` asks for, or None when the request does not ask.

    `*` matches any existing version (None). Anything that is not one of our ETags cannot
    match the current version, so it is refused with 412 as RFC 9110 says.
    """
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip()
    if value.startswith("W/"):
        # RFC 9110: If-Match uses the strong comparison, so a weak ETag never matches.
        raise Problem(412, "precondition-failed", "Precondition failed",
                      "If-Match needs the strong ETag given by GET, not a weak one",
                      [{"field": "If-Match", "reason": "weak ETag", "location": "header"}])
    digits = value.strip('"')
    if not (value.startswith('"') and value.endswith('"') and digits.isdigit()):
        raise Problem(412, "precondition-failed", "Precondition failed",
                      f"If-Match {header!r} is not an ETag this API gave",
                      [{"field": "If-Match", "reason": "unknown ETag", "location": "header"}])
    return int(digits)
