"""The console's navigation: one entry per page, the least role that opens it, and where each
role lands after signing in. A page module adds nothing here unless its path differs: an entry
is shown only once a GET route of that path exists, so entries of pages not yet built stay
hidden."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from proactive_sms.services.console_users import ConsoleUser


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    role: str  # the least role that opens it (see auth.role_allows)


NAV: list[NavItem] = [
    NavItem("Dashboard", "/", "supervisor"),
    NavItem("Broadcast", "/broadcast", "supervisor"),
    NavItem("Notices", "/notices", "supervisor"),
    NavItem("Schedules", "/schedules", "supervisor"),
    NavItem("Templates", "/templates", "supervisor"),
    NavItem("Calling lists", "/calling-lists", "supervisor"),
    NavItem("Skills", "/skills", "supervisor"),
    NavItem("DNC & review", "/dnc", "supervisor"),
    NavItem("Agent workspace", "/workspace", "agent"),
    NavItem("Transport codes", "/registrations", "admin"),
    NavItem("Users", "/users", "admin"),
    NavItem("API keys", "/api-keys", "admin"),
    NavItem("Audit", "/audit", "admin"),
    NavItem("Unit settings", "/business-unit", "admin"),
]

WORKSPACE_PATH = "/workspace"
ACCOUNT_PATH = "/account"


def register_paths(app: FastAPI, routers: list[APIRouter]) -> None:
    """Note the paths the console's routers answer GET on (done once, by install_console)."""
    app.state.console_get_paths = frozenset(
        getattr(route, "path", "") for router in routers for route in router.routes
        if "GET" in (getattr(route, "methods", None) or ()))


def get_paths(app: FastAPI) -> frozenset[str]:
    """The console paths that answer GET."""
    return getattr(app.state, "console_get_paths", frozenset())


def items_for(app: FastAPI, user: ConsoleUser | None) -> list[NavItem]:
    """The entries this user may open, of the pages that exist."""
    from proactive_sms.interfaces.web.auth import role_allows

    if user is None:
        return []
    paths = get_paths(app)
    return [item for item in NAV if item.path in paths and role_allows(user.role, item.role)]


def is_current(item: NavItem, path: str) -> bool:
    return path == "/" if item.path == "/" else (path == item.path
                                                 or path.startswith(item.path + "/"))


def home_path(app: FastAPI, user: ConsoleUser) -> str:
    """The dashboard for supervisors and admins; the workspace (if built) for agents."""
    if user.role != "agent":
        return "/"
    return WORKSPACE_PATH if WORKSPACE_PATH in get_paths(app) else ACCOUNT_PATH
