"""The console's own answers to errors: HTML pages in the layout (403, 404, and the API's
reasons for a refused request), the sign-in redirect, while /v1 keeps its problem+json.

The API's handlers stay the ones that decide the status and the reason: for a console path the
console asks them, then shows their answer as a page."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from proactive_sms.interfaces.web import auth, csrf
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.interfaces.web.security_headers import is_console_path


def _wants_fragment(request: Request) -> bool:
    """An htmx request or an event stream: no page, no redirect the browser would follow."""
    return (request.headers.get("HX-Request") == "true"
            or "text/event-stream" in request.headers.get("accept", ""))


async def on_login_required(request: Request, exc: auth.LoginRequired) -> Response:
    if _wants_fragment(request):
        return Response("sign in again", status_code=401, headers={"HX-Redirect": "/login"})
    target = "/login"
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        target += "?next=" + request.url.path
    return redirect(target)


async def on_forbidden(request: Request, exc: auth.Forbidden) -> Response:
    return render(request, "errors/403.html", status_code=403)


async def on_csrf(request: Request, exc: csrf.CsrfRefused) -> Response:
    return render(request, "errors/403.html", status_code=403, csrf_refused=True)


def not_found(request: Request) -> Response:
    return render(request, "errors/404.html", status_code=404)


def _as_page(original: Callable) -> Callable:
    async def handler(request: Request, exc: Exception) -> Response:
        answer = await original(request, exc)
        if not is_console_path(request.url.path):
            return answer
        if answer.status_code == 404:
            return not_found(request)
        detail = ""
        if isinstance(answer, JSONResponse):
            body = json.loads(bytes(answer.body))
            detail = body.get("detail") or body.get("title") or ""
        return render(request, "errors/error.html", status_code=answer.status_code,
                      detail=detail)

    return handler


def install(app: FastAPI) -> None:
    """Console paths answer HTML pages; the API's paths keep their handlers unchanged."""
    for kind, original in list(app.exception_handlers.items()):
        if kind in (500, Exception):
            continue
        app.add_exception_handler(kind, _as_page(original))
    if StarletteHTTPException not in app.exception_handlers:  # an app without the API's
        async def plain(request: Request, exc: StarletteHTTPException) -> Response:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

        app.add_exception_handler(StarletteHTTPException, _as_page(plain))
    app.add_exception_handler(auth.LoginRequired, on_login_required)
    app.add_exception_handler(auth.Forbidden, on_forbidden)
    app.add_exception_handler(csrf.CsrfRefused, on_csrf)
