"""/schedules: recurring notices (a saved template texted to a list on a schedule, each run a
fresh skill), created, paused, resumed and deleted here, each with its history of runs.

Thin over services.notice_schedules, as `/v1/schedules` and `psms schedule` are.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web import forms
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import administration, listing, notice_schedules
from proactive_sms.services.listing import PageRequest
from proactive_sms.store.errors import NotFound, StaleVersion

router = APIRouter()
CHOICES = 500
FIELDS = ("name", "template", "calling_list", "registration", "every", "at", "cron",
          "time_zone", "campaign")


def _choices(engine, bu) -> dict:
    first = PageRequest(0, CHOICES)
    return {
        "template_options": [(t.name, t.name)
                             for t in listing.templates_page(engine, bu, first).items],
        "list_options": [(c.name, c.name)
                         for c in listing.calling_lists_page(engine, bu, first).items],
        "registration_options": [(r.code, r.code)
                                 for r in administration.list_registrations(engine, bu)],
        "campaign_options": [("", "— none —")] + [
            (c.name, c.name) for c in listing.campaigns_page(engine, bu, first).items],
        "every_options": [("weekday", "every weekday"), ("day", "every day"),
                          ("weekend", "every weekend day"), ("", "— a cron expression —")],
    }


def _index(request: Request, engine, bu, values: dict | None = None,
           errors: dict | None = None, status_code: int = 200) -> Response:
    views = notice_schedules.page(engine, bu, PageRequest(0, CHOICES)).items
    shown = values or {"every": "weekday", "at": "09:00", "time_zone": bu.time_zone or ""}
    return render(request, "schedules/index.html", status_code=status_code, schedules=views,
                  values=shown, errors=errors or {}, **_choices(engine, bu))


@router.get("/schedules")
def schedules_page(request: Request, user: SupervisorUser, bu: CurrentBu,
                   engine: EngineDep) -> Response:
    return _index(request, engine, bu)


@router.post("/schedules")
async def create_schedule(request: Request, user: SupervisorUser, bu: CurrentBu,
                          engine: EngineDep, clock: ClockDep) -> Response:
    form = await forms.values_of(request)
    given = {k: (form.get(k) or "").strip() or None for k in FIELDS}
    if given["cron"]:
        given["every"] = given["at"] = None
    try:
        view = notice_schedules.create(
            engine, bu, clock, name=given["name"] or "", template=given["template"] or "",
            calling_list=given["calling_list"] or "", registration=given["registration"] or "",
            every=given["every"], at=given["at"], cron=given["cron"],
            time_zone=given["time_zone"], campaign=given["campaign"], actor=user.username)
    except forms.FORM_ERRORS as exc:
        return _index(request, engine, bu, form, forms.errors_of(exc, "name"), 422)
    return redirect(f"/schedules/{view.schedule.name}",
                    f"Schedule {view.schedule.name}: {view.describe}; next run "
                    f"{view.next_run_local:%Y-%m-%d %H:%M %Z}.")


@router.get("/schedules/{name}")
def schedule_page(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                  engine: EngineDep) -> Response:
    view = notice_schedules.show(engine, bu, name)  # NotFound: the 404 page
    return render(request, "schedules/schedule.html", view=view,
                  runs=notice_schedules.latest(engine, bu, name, 50))


def _status(name: str, action, user, engine, bu, clock, done: str) -> Response:
    try:
        action(engine, bu, clock, name, actor=user.username)
    except (StaleVersion, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.kind == "schedule":
            raise
        return redirect(f"/schedules/{name}", f"Could not change {name}: {exc}", "error")
    return redirect(f"/schedules/{name}", f"Schedule {name} {done}.")


@router.post("/schedules/{name}/pause")
def pause_schedule(name: str, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                   clock: ClockDep) -> Response:
    return _status(name, notice_schedules.pause, user, engine, bu, clock, "paused")


@router.post("/schedules/{name}/resume")
def resume_schedule(name: str, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep) -> Response:
    return _status(name, notice_schedules.resume, user, engine, bu, clock, "resumed")


@router.post("/schedules/{name}/delete")
def delete_schedule(name: str, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep) -> Response:
    notice_schedules.remove(engine, bu, clock, name, actor=user.username)
    return redirect("/schedules", f"Schedule {name} deleted; the skills it started stay.")
