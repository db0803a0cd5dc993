"""/: the dashboard. The unit's running, paused and launching skills and their campaigns, with
live counters, the last hour's chart, rates against the code's limit, the estimated finish and
the next window opening; pause, resume and stop with a confirmation.

The figures come from services.dashboard (kept counters); /dashboard/events streams them as
Server-Sent Events, one `tick` event per tick carrying the live part of the page, rendered once
per unit and shared by every open dashboard (dashboard_feed). Agents land on their workspace.
"""

from __future__ import annotations

import json
from typing import Literal

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from proactive_sms.interfaces.web.auth import (
    AnyUser,
    CurrentBu,
    Forbidden,
    SupervisorUser,
    role_allows,
    session_token,
)
from proactive_sms.interfaces.web.dashboard_feed import DashboardFeed
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of, policy_of
from proactive_sms.interfaces.web.navigation import home_path
from proactive_sms.interfaces.web.rendering import redirect, render, templates
from proactive_sms.services import audit, console_sessions, dashboard, lifecycle
from proactive_sms.store.skills import find_skill

router = APIRouter()

LIVE_TEMPLATE = "dashboard/_live.html"
# A stream checks that its session is still live this often (logout, expiry, a disabled user
# end it), without counting as activity.
SESSION_CHECK_S = 30.0


def feed_of(request: Request) -> DashboardFeed:
    state = request.app.state
    if getattr(state, "dashboard_feed", None) is None:
        state.dashboard_feed = DashboardFeed()
    return state.dashboard_feed


def live_html(snapshot: dashboard.Snapshot) -> str:
    """The live part of the page (the same for every user of the unit: it carries no token;
    htmx sends the CSRF header of the page around it)."""
    chart = {"minutes": [int(p.minute.timestamp()) for p in snapshot.chart],
             "sent": [p.sent for p in snapshot.chart],
             "delivered": [p.delivered for p in snapshot.chart]}
    return templates.get_template(LIVE_TEMPLATE).render(
        snapshot=snapshot, chart_json=json.dumps(chart, separators=(",", ":")))


@router.get("/")
def dashboard_page(request: Request, user: AnyUser, bu: CurrentBu, engine: EngineDep,
                   clock: ClockDep) -> Response:
    if user.role == "agent":  # an agent's home is their workspace
        return redirect(home_path(request.app, user))
    if not role_allows(user.role, "supervisor"):
        raise Forbidden()
    snapshot = dashboard.snapshot(engine, bu, clock)
    return render(request, "dashboard/index.html", live=live_html(snapshot))


@router.get("/dashboard/events")
async def dashboard_events(request: Request, user: SupervisorUser, bu: CurrentBu,
                           engine: EngineDep, clock: ClockDep) -> StreamingResponse:
    """One `tick` event per tick with the live part of the page, until the browser goes away
    or the session ends."""
    feed = feed_of(request)
    token, policy = session_token(request), policy_of(request)

    def render_now() -> bytes:
        # The whole event, encoded once per tick for every open dashboard of the unit.
        html = live_html(dashboard.snapshot(engine, bu, clock))
        return ("event: tick\n" + "".join(f"data: {line}\n" for line in html.split("\n"))
                + "\n").encode()

    async def stream():
        checked = clock.now()
        async for event in feed.events(bu.id, render_now):
            yield event
            if (clock.now() - checked).total_seconds() >= SESSION_CHECK_S:
                checked = clock.now()
                live = await to_thread.run_sync(console_sessions.still_live, engine, clock,
                                                token, policy)
                if not live:
                    return

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


_ACTIONS = {"pause": ("paused", lifecycle.pause), "resume": ("resumed", lifecycle.resume),
            "stop": ("stopped", lifecycle.stop)}


@router.post("/dashboard/skills/{name}/{action}")
def skill_action(request: Request, name: str, action: Literal["pause", "resume", "stop"],
                 user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                 clock: ClockDep) -> Response:
    """Pause, resume or stop a skill of the unit (the page asked for a confirmation first);
    recorded in the audit log. Another unit's skill, or none, answers 404."""
    past, change = _ACTIONS[action]
    with engine.connect() as conn:
        found = find_skill(conn, bu.id, name)  # NotFound: the 404 page
    try:
        result = change(engine, found.id, clock)
    except lifecycle.LifecycleError as error:
        return _answer(request, redirect("/", str(error).capitalize() + ".", kind="error"))
    detail = f"{result} pending text(s) cancelled" if action == "stop" else ""
    audit.record(engine, user, f"skill.{past}", name, detail, now=clock.now(),
                 address=address_of(request))
    message = f"Skill {name} {past}." + (f" {result:,} pending text(s) cancelled."
                                          if action == "stop" else "")
    return _answer(request, redirect("/", message))


def _answer(request: Request, response: Response) -> Response:
    """A redirect for a form; for htmx, the same flash and an HX-Redirect it follows."""
    if request.headers.get("HX-Request") == "true":
        location = response.headers["location"]
        del response.headers["location"]
        response.status_code = 204
        response.headers["HX-Redirect"] = location
    return response

