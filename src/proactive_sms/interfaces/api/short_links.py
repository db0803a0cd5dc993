"""`GET /l/{code}`: a tracked link's redirect, answered ahead of the API and the console.

A pure ASGI layer in front of the app: a click needs no key, no session, no body and no route
table, so it skips them all (the redirect is the one request a campaign makes by the thousand
at once). Everything else passes through untouched.

A valid code answers 302 to its target; anything else the same 404 with a fixed body, whatever
the reason (unknown, forged, expired), so a code guesser learns nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from proactive_sms.domain.short_links import PATH_PREFIX
from proactive_sms.services.link_clicks import Click

# services.link_clicks.LinkRedirects.visit: where a code leads, with its click stored
Visit = Callable[[str, str | None], Awaitable[Click | None]]

_NOT_FOUND = b"Not found\n"
_COMMON = [(b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer"),
           (b"x-content-type-options", b"nosniff")]


class ShortLinkRedirects:
    """ASGI middleware: `/l/{code}` (GET or HEAD) is answered by `visit(code, user_agent)`
    (services.link_clicks.LinkRedirects.visit), the rest goes to `app`."""

    def __init__(self, app, visit: Visit) -> None:
        self.app = app
        self.visit = visit

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PATH_PREFIX) or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        code = path[len(PATH_PREFIX):]
        agent = None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                agent = value.decode("latin-1")
                break
        click = await self.visit(code, agent) if code else None
        await _answer(send, click, scope["method"] == "HEAD")


async def _answer(send: Callable[[dict], Awaitable[None]], click: Click | None,
                  head: bool) -> None:
    if click is None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"),
                   (b"content-length", str(len(_NOT_FOUND)).encode()), *_COMMON]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else _NOT_FOUND})
        return
    headers = [(b"location", click.target.encode("utf-8")), (b"content-length", b"0"), *_COMMON]
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
