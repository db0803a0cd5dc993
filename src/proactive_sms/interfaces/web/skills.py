"""/skills: the unit's skills (filtered by status and campaign), creating agentless and agent
skills, changing their settings, and starting, pausing, resuming and stopping them (each asked
for confirmation in the browser, and written to the audit log).

Thin over the services the API uses: administration.create_skill (POST /v1/skills),
skill_settings (what may change in which status), launching.start_skill and lifecycle (the
API's start/pause/resume/stop). The report page is the dashboard's, at /skills/{name}/report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from proactive_sms.domain.cadence import CadenceError
from proactive_sms.interfaces.web import forms
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.paging import page_after
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import (
    administration,
    audit,
    launching,
    lifecycle,
    listing,
    scheduled_starts,
    skill_settings,
    spend,
)
from proactive_sms.services.listing import PageRequest
from proactive_sms.store.errors import NotFound
from proactive_sms.store.paging import Page
from proactive_sms.store.skills import SkillStatus

router = APIRouter()

PAGE_SIZE = 50
CHOICES = 500  # registrations, lists, templates, campaigns offered in a drop-down
NEW_PATH = "/skills/+new"  # '+' is never in a skill's name, so no skill hides this page
DEFAULT_HOURS = "08:00-21:00"


# --- the list ----------------------------------------------------------------------------------


@router.get("/skills")
def skills_page(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                status: str = "", campaign: str = "", after: str | None = None) -> Response:
    return skills_list(request, engine, bu, status, campaign, after)


def skills_list(request: Request, engine, bu, status: str = "", campaign: str = "",
                after: str | None = None, errors: dict[str, str] | None = None,
                values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    """The skills page (also with the campaign forms' errors, from web/campaigns.py)."""
    chosen = SkillStatus(status) if status in {s.value for s in SkillStatus} else None
    campaigns = listing.campaigns_page(engine, bu, PageRequest(0, CHOICES)).items
    errors = dict(errors or {})
    try:
        page = listing.skills_page(engine, bu, PageRequest(page_after(after), PAGE_SIZE),
                                   chosen, campaign or None)
    except NotFound as exc:  # a campaign filter naming none of the unit's
        errors["campaign"] = str(exc)
        page = Page([], None, False)
    campaign_names = {c.id: c.name for c in campaigns}
    every = listing.skills_page(engine, bu, PageRequest(0, CHOICES)).items
    starts = scheduled_starts.starts_of(engine, [s.id for s in page.items])
    return render(request, "skills/list.html", status_code=status_code, page=page,
                  starts={k: _local(v) for k, v in starts.items() if v.state == "waiting"},
                  status=status, campaign=campaign, after=after,
                  statuses=[s.value for s in SkillStatus], campaigns=campaigns,
                  campaign_names=campaign_names, all_skills=every, errors=errors,
                  values=values or {}, new_path=NEW_PATH)


# --- creating and changing -------------------------------------------------------------------


def _choices(engine, bu) -> dict[str, Any]:
    """What the form's drop-downs offer, as (value, text): the unit's codes, lists, templates
    and campaigns."""
    first = PageRequest(0, CHOICES)
    return {
        "registration_options": [(r.code, f"{r.code} · {r.kind.replace('_', '-')} · "
                                          f"{r.throughput_per_s:g}/s · {r.status}")
                                 for r in administration.list_registrations(engine, bu)],
        "list_options": [("", "— choose a list —")] + [
            (c.name, c.name) for c in listing.calling_lists_page(engine, bu, first).items],
        "template_options": [("", "— none: type a text —")] + [
            (t.name, t.name) for t in listing.templates_page(engine, bu, first).items],
        "campaign_options": [("", "— none —")] + [
            (c.name, c.name) for c in listing.campaigns_page(engine, bu, first).items],
    }


def _number(form: FormData, key: str, kind: Callable[[str], Any],
            errors: dict[str, str], what: str) -> Any:
    raw = _text(form, key).strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        errors[key] = f"{what}, got '{raw[:40]}'"
        return None


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _settings(form: FormData, errors: dict[str, str]) -> dict[str, Any]:
    """The settings the form gives (keys of skill_settings.ALL_SETTINGS; a blank optional
    field is None). Only what the form can't even read is refused here; the rules are the
    service's."""
    window: dict[str, Any] = {
        "weekday": _text(form, "weekday").strip() or DEFAULT_HOURS,
        "weekend": _text(form, "weekend").strip() or DEFAULT_HOURS,
        "forbidden_days": [d.strip() for d in _text(form, "forbidden_days").replace(
            ";", ",").split(",") if d.strip()],
    }
    settings = {
        "registration": _text(form, "registration"),
        "calling_list": _text(form, "calling_list"),
        "template": _text(form, "template") or None,
        "message_text": _text(form, "message_text").strip() or None,
        "direction": _text(form, "direction") or "auto",
        "max_segments": _number(form, "max_segments", int, errors,
                                "max segments must be a whole number") or 3,
        "pacing_per_s": _number(form, "pacing_per_s", float, errors,
                                "pacing must be a number of texts per second"),
        "validity_hours": _number(form, "validity_hours", float, errors,
                                  "validity must be a number of hours"),
        "campaign": _text(form, "campaign") or None,
        "calling_window": window,
        "no_zone_policy": _text(form, "no_zone_policy") or "skip",
        "default_time_zone": _text(form, "default_time_zone").strip() or None,
        "reply_pacing": _on_off(form, "reply_pacing", errors),
        "reply_rate_prior": _number(form, "reply_rate_prior", float, errors,
                                    "the prior reply rate must be a number such as 0.05"),
        "budget": _text(form, "budget").strip() or None,  # decimal text: the service reads it
    }
    # Only what the form had: a field it disabled (not editable now) is not sent.
    present = set(form) | ({"calling_window"} if "weekday" in form else set())
    return {k: v for k, v in settings.items() if k in present}


def _on_off(form: FormData, key: str, errors: dict[str, str]) -> bool:
    raw = _text(form, key) or "on"
    if raw not in ("on", "off"):
        errors[key] = f"choose on or off, got '{raw[:40]}'"
    return raw != "off"


def _form_values(settings: dict[str, Any], extra: dict[str, str] | None = None) -> dict:
    """Settings as the form's fields show them."""
    window = settings.get("calling_window") or {}
    values = {k: ("" if v is None else ("on" if v else "off") if isinstance(v, bool)
                  else str(v)) for k, v in settings.items() if k != "calling_window"}
    values.update({"weekday": window.get("weekday", DEFAULT_HOURS),
                   "weekend": window.get("weekend", DEFAULT_HOURS),
                   "forbidden_days": ", ".join(str(d) for d in
                                               window.get("forbidden_days") or [])})
    values.update(extra or {})
    return values


@router.get(NEW_PATH)
def new_skill_page(request: Request, user: SupervisorUser, bu: CurrentBu,
                   engine: EngineDep, kind: str = "agentless_sms") -> Response:
    values = _form_values({"max_segments": 3, "direction": "auto", "no_zone_policy": "skip",
                           "reply_pacing": True},
                          {"kind": kind if kind in ("agentless_sms", "agent") else
                           "agentless_sms"})
    return render(request, "skills/new.html", values=values, errors={}, **_choices(engine, bu))


@router.post("/skills")
async def create_skill(request: Request, user: SupervisorUser, bu: CurrentBu,
                       engine: EngineDep, clock: ClockDep) -> Response:
    form = await request.form()
    errors: dict[str, str] = {}
    settings = _settings(form, errors)
    name, kind = _text(form, "name").strip(), _text(form, "kind") or "agentless_sms"
    values = _form_values(settings, {"name": name, "kind": kind})
    if not errors:
        try:
            created = administration.create_skill(
                engine, bu, clock, name=name, kind=kind,
                registration=settings.get("registration", ""),
                calling_list=settings.get("calling_list", ""),
                template_name=settings.get("template"),
                message_text=settings.get("message_text"),
                direction=settings.get("direction", "auto"),
                max_segments=settings.get("max_segments", 3),
                pacing_per_s=settings.get("pacing_per_s"),
                validity_hours=settings.get("validity_hours"),
                campaign=settings.get("campaign"),
                calling_window=settings.get("calling_window"),
                no_zone_policy=settings.get("no_zone_policy", "skip"),
                default_time_zone=settings.get("default_time_zone"),
                reply_pacing=settings.get("reply_pacing", True),
                reply_rate_prior=settings.get("reply_rate_prior"),
                budget=settings.get("budget"))
        except forms.FORM_ERRORS as exc:
            errors = _named(forms.errors_of(exc))
        else:
            audit.record(engine, user, "skill.created", created.name,
                         {"kind": created.kind}, address=address_of(request))
            after = (f"/skills/{created.name}/cadence" if created.kind == "agent"
                     else f"/skills/{created.name}")
            return redirect(after, f"Skill {created.name} created.")
    return render(request, "skills/new.html", status_code=422, values=values, errors=errors,
                  **_choices(engine, bu))


def _named(errors: dict[str, str]) -> dict[str, str]:
    """Errors under the form's own field names (a NotFound names 'calling_list' as the API
    does; the window's settings are fields of their own here)."""
    renamed = {"calling_window.weekday": "weekday", "calling_window.weekend": "weekend",
               "calling_window.forbidden_days": "forbidden_days",
               "calling_window": "weekday"}
    return {renamed.get(k, k): v for k, v in errors.items()}


def _local(start) -> str:
    """A start as its own zone shows it."""
    from proactive_sms.domain.schedules import zone

    return f"{start.start_at.astimezone(zone(start.time_zone or 'UTC')):%Y-%m-%d %H:%M %Z}"


def _skill_page(request: Request, engine, bu, name: str, values: dict | None = None,
                errors: dict | None = None, status_code: int = 200) -> Response:
    view = skill_settings.skill_view(engine, bu, name)
    start = scheduled_starts.starts_of(engine, [view.skill.id]).get(view.skill.id)
    return render(request, "skills/skill.html", status_code=status_code, view=view,
                  start=start, start_local=_local(start) if start else "",
                  default_zone=(start.time_zone if start and start.time_zone
                                else bu.time_zone or "UTC"),
                  skill=view.skill, editable=skill_settings.editable(view.skill),
                  spent=spend.skill_spend(engine, view.skill).as_dict(),
                  values=values or _form_values(view.settings(), {"name": view.skill.name}),
                  errors=errors or {}, **_choices(engine, bu))


@router.get("/skills/{name}")
def skill_page(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
               engine: EngineDep) -> Response:
    return _skill_page(request, engine, bu, name)


@router.post("/skills/{name}")
async def change_skill(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                       engine: EngineDep, clock: ClockDep) -> Response:
    before = skill_settings.skill_view(engine, bu, name)  # NotFound: 404 page
    form = await request.form()
    errors: dict[str, str] = {}
    changes = _settings(form, errors)
    if not errors:
        try:
            after = skill_settings.update_skill(engine, bu, clock, name, changes)
        except forms.FORM_ERRORS as exc:
            if isinstance(exc, NotFound) and exc.kind == "skill":
                raise
            errors = _named(forms.errors_of(exc))
        else:
            old, new = before.settings(), after.settings()
            changed = {k: new[k] for k in new if new[k] != old[k]}
            if changed:
                audit.record(engine, user, "skill.changed", name, changed,
                             address=address_of(request))
            return redirect(f"/skills/{name}", "Settings saved." if changed
                            else "Nothing to change.", "success" if changed else "info")
    values = _form_values({**before.settings(), **changes}, {"name": name})
    return _skill_page(request, engine, bu, name, values, errors, 422)


# --- start, pause, resume, stop --------------------------------------------------------------


@router.post("/skills/{name}/start")
async def start_skill(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                      engine: EngineDep, clock: ClockDep) -> Response:
    """As POST /v1/skills/{name}/start: an agentless skill decides every record and its texts
    go; an agent skill's records enter its cadence."""
    form = await request.form()
    skill = administration.find_skill(engine, bu, name)
    message = _text(form, "message").strip() or None
    direction = _text(form, "direction") or "auto"
    try:
        summary = launching.start_skill(engine, skill.id, clock, message_text=message,
                                        direction=direction)
    except CadenceError as exc:  # an agent skill whose stored cadence no longer fits its list
        return _skill_page(request, engine, bu, name, errors={"start": str(exc)},
                           status_code=422)
    except forms.FORM_ERRORS as exc:
        return _skill_page(request, engine, bu, name, errors={
            "start": next(iter(forms.errors_of(exc).values()))}, status_code=422)
    if summary.already_started:
        return redirect(f"/skills/{name}", f"Skill {name} was started before: nothing "
                                           "was done.", "info")
    skipped = sum(summary.skipped.values())
    audit.record(engine, user, "skill.started", name,
                 {"pending": summary.pending, "skipped": dict(summary.skipped),
                  "typed_text": message is not None}, address=address_of(request))
    return redirect(f"/skills/{name}", f"Skill {name} started: {summary.pending:,} texts to "
                                       f"send, {skipped:,} skipped.")


@router.post("/skills/{name}/schedule")
async def schedule_skill(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                         engine: EngineDep, clock: ClockDep) -> Response:
    """Start later, as POST /v1/skills/{name}/start with start_at: checked now, started by a
    dispatcher at the moment."""
    form = await request.form()
    message = _text(form, "message").strip() or None
    try:
        done = scheduled_starts.schedule(
            engine, bu, clock, name, _text(form, "start_at").strip(),
            _text(form, "time_zone").strip() or None, message_text=message,
            direction=_text(form, "direction") or "auto", actor=user.username)
    except forms.FORM_ERRORS as exc:
        if isinstance(exc, NotFound) and exc.kind == "skill":
            raise
        return _skill_page(request, engine, bu, name, errors={
            "schedule": next(iter(forms.errors_of(exc).values()))}, status_code=422)
    return redirect(f"/skills/{name}", f"Skill {name} will start at {_local(done.start)}.")


@router.post("/skills/{name}/reschedule")
async def reschedule_skill(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                           engine: EngineDep, clock: ClockDep) -> Response:
    """Move the scheduled start (before it starts)."""
    form = await request.form()
    try:
        done = scheduled_starts.move(engine, bu, clock, name, _text(form, "start_at").strip(),
                                     _text(form, "time_zone").strip() or None,
                                     actor=user.username)
    except forms.FORM_ERRORS as exc:
        if isinstance(exc, NotFound) and exc.kind == "skill":
            raise
        return _skill_page(request, engine, bu, name, errors={
            "schedule": next(iter(forms.errors_of(exc).values()))}, status_code=422)
    return redirect(f"/skills/{name}", f"Skill {name} now starts at {_local(done.start)}.")


@router.post("/skills/{name}/unschedule")
def unschedule_skill(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                     engine: EngineDep, clock: ClockDep) -> Response:
    """Cancel the scheduled start: a draft again."""
    try:
        scheduled_starts.cancel(engine, bu, clock, name, actor=user.username)
    except lifecycle.LifecycleError as exc:
        return redirect(f"/skills/{name}", f"Could not cancel: {exc}", "error")
    return redirect(f"/skills/{name}", f"The scheduled start of {name} is cancelled: it is a "
                                       "draft again.")


def _change(request: Request, engine, bu, clock, user, name: str, action: str,
            change: Callable, done: str) -> Response:
    """Pause, resume or stop, as the API's (the lookup by the unit keeps others' out)."""
    skill = administration.find_skill(engine, bu, name)
    try:
        result = change(engine, skill.id, clock)
    except (lifecycle.LifecycleError, spend.BudgetExceeded) as exc:
        return redirect(f"/skills/{name}", f"Could not {action} {name}: {exc}", "error")
    detail = {"cancelled": result} if action == "stop" else ""
    audit.record(engine, user, f"skill.{done}", name, detail, address=address_of(request))
    return redirect(f"/skills/{name}", f"Skill {name} {done}.")


@router.post("/skills/{name}/pause")
def pause_skill(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                engine: EngineDep, clock: ClockDep) -> Response:
    """No new texts until resumed."""
    return _change(request, engine, bu, clock, user, name, "pause", lifecycle.pause, "paused")


@router.post("/skills/{name}/resume")
def resume_skill(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                 engine: EngineDep, clock: ClockDep) -> Response:
    return _change(request, engine, bu, clock, user, name, "resume", lifecycle.resume,
                   "resumed")


@router.post("/skills/{name}/stop")
def stop_skill(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
               engine: EngineDep, clock: ClockDep) -> Response:
    """For good: texts not sent yet are cancelled."""
    return _change(request, engine, bu, clock, user, name, "stop", lifecycle.stop, "stopped")
