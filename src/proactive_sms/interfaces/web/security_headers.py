"""Security headers on every console answer (the API's paths are left as they are).

Content-Security-Policy allows scripts, styles, images and connections from our own origin only:
no inline script or style, no eval (so a text a customer sent can never run as code, even if a
template forgot to escape it). Pages put their JavaScript in static files (console.js, or a
page's own file); htmx is told not to inject its indicator styles and not to evaluate code
(the htmx-config meta tag in base.html). Pages are never cached (they show personal data), and
the console cannot be framed.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_COMMON = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_PAGE = [(b"cache-control", b"no-store")]
_STATIC = [(b"cache-control", b"public, max-age=86400")]


def is_console_path(path: str) -> bool:
    return path != "/v1" and not path.startswith(API_PREFIXES)


class SecurityHeaders:
    """Pure ASGI middleware (it does not buffer, so event streams flow through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_console_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        extra = _COMMON + (_STATIC if scope["path"].startswith("/static/") else _PAGE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in extra}
                headers = [(k, v) for k, v in message.get("headers", []) if k not in names]
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
