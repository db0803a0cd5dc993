"""`render(request, "skills/list.html", **context)`: a page of the console as an HTMLResponse.

Every template gets, besides the context given: `user` (or None), `bu_name`, `csrf_token` and
`csrf_field()` (the hidden input for a form), `nav` (the entries the user may open, with the
current one marked), `flashes` (messages carried over a redirect, see `redirect`), and
`static(path)` for the URL of a file under web/static.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

from proactive_sms import __version__ as _version
from proactive_sms.interfaces.web import auth, csrf, navigation

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
FLASH_COOKIE = "psms_flash"
FLASH_KINDS = ("info", "success", "error")

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def static(path: str) -> str:
    """The URL of a static file, with the version so browsers fetch it again after upgrades."""
    return f"/static/{path}?v={_version}"


templates.env.globals["static"] = static
# `names | options`: the (value, text) pairs the `select` macro takes, for a list of names.
templates.env.filters["options"] = lambda names: [(name, name) for name in names]


def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """The page `template` (a path under web/templates) with the console's common context."""
    user = auth.optional_user(request)
    token = csrf.token_for(request)
    flashes = _read_flashes(request) + list(context.pop("flashes", []))
    nav = [{"label": item.label, "path": item.path,
            "current": navigation.is_current(item, request.url.path)}
           for item in navigation.items_for(request.app, user)]
    full = {
        "request": request,
        "user": user,
        "csrf_token": token,
        "csrf_field": lambda: Markup(
            f'<input type="hidden" name="{csrf.FIELD}" value="{escape(token)}">'),
        "csrf_headers": json.dumps({csrf.HEADER: token}),
        "nav": nav,
        "flashes": flashes,
        **context,
    }
    response = templates.TemplateResponse(request, template, full, status_code=status_code)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    if csrf.needs_anonymous_cookie(request):
        response.set_cookie(csrf.ANONYMOUS_COOKIE, token, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", path="/")
    return response


def is_htmx(request: Request) -> bool:
    """Whether htmx made the request (answer a partial, not a page)."""
    return request.headers.get("HX-Request") == "true"


def redirect(url: str, flash: str | None = None, kind: str = "success") -> RedirectResponse:
    """A 303 to `url` (after a POST), carrying a message the next page shows once."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(json.dumps([[kind, flash]])), httponly=True,
                            samesite="lax", path="/", max_age=60)
    return response


def _read_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(unquote(raw))
        return [(kind if kind in FLASH_KINDS else "info", str(text)) for kind, text in items]
    except (ValueError, TypeError):
        return []
