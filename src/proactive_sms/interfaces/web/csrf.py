"""CSRF: every POST, PUT, PATCH and DELETE of the console carries a token of the session, as
the form field `csrf_token` (`{{ csrf_field() }}` in a form) or the header `X-CSRF-Token`
(htmx sends it from the `hx-headers` of base.html); otherwise the request is refused with 403
before the handler runs.

The token of a signed-in session is an HMAC of the session's own token (which only the cookie
holds), so nothing more is stored and a token never outlives its session. Before signing in (the
login form) it is a random value in a cookie of its own, matched against the form (double
submit). SameSite=Lax cookies already stop most cross-site posts; this stops the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from proactive_sms.interfaces.web import auth

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
ANONYMOUS_COOKIE = "psms_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(Exception):
    """A state-changing request without the session's token: answered 403, nothing done."""


def token_for(request: Request) -> str:
    """The token this request's pages must send back."""
    session = auth.session_token(request)
    if session:
        return hmac.new(session.encode(), b"psms-console-csrf", hashlib.sha256).hexdigest()
    if not hasattr(request.state, "anonymous_csrf"):
        request.state.anonymous_csrf = (request.cookies.get(ANONYMOUS_COOKIE)
                                        or secrets.token_urlsafe(32))
    return request.state.anonymous_csrf


def needs_anonymous_cookie(request: Request) -> bool:
    """Whether the response must set the pre-sign-in token's cookie (it was just made)."""
    return (getattr(request.state, "anonymous_csrf", None) is not None
            and request.cookies.get(ANONYMOUS_COOKIE) != request.state.anonymous_csrf)


async def verify(request: Request) -> None:
    """The dependency every console router carries: refuse an unsafe request without the
    token. (The form is parsed here; FastAPI reuses the parsed form for the handler.)"""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded",
                                    "multipart/form-data")):
            form = await request.form()
            value = form.get(FIELD)
            sent = value if isinstance(value, str) else None
    session_less = auth.session_token(request) is None
    if (session_less and not request.cookies.get(ANONYMOUS_COOKIE)) or not sent \
            or not hmac.compare_digest(sent.encode(), token_for(request).encode()):
        if session_less and request.cookies.get(auth.SESSION_COOKIE):
            # The page was opened in a session that has ended since (expired, logged out
            # elsewhere): its token is void; say so as a sign-in, not as a forgery.
            raise auth.LoginRequired()
        raise CsrfRefused()
