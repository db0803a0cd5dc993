"""/skills/{name}/cadence: the cadence editor of an agent skill. Steps (voice or SMS, the number
dialed or texted, the outcomes of an earlier step that lead to it, attempts, rest between them,
an SMS step's template), the agents' dispositions and the outcomes that end a record.

Saved with services.cadences.define, exactly as PUT /v1/skills/{name}/cadence: the same checks
against the calling list and the templates, every problem shown under the input it is about.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from proactive_sms.domain import cadence as model
from proactive_sms.domain.cadence import CadenceError
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import audit, cadences, listing, skill_settings
from proactive_sms.services.listing import PageRequest

router = APIRouter()

CHOICES = 500


def _names(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


def _whole(raw: str, default: int) -> Any:
    """A whole number as typed; anything else is handed on as it is, for the cadence's own
    check to name ("must be a whole number ...")."""
    text = raw.strip()
    if not text:
        return default
    return int(text) if text.lstrip("-").isdigit() else text


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _steps_of(form: FormData) -> list[dict[str, str]]:
    """The steps as typed (to show the form again), in order."""
    count = _whole(_text(form, "steps"), 0)
    count = count if isinstance(count, int) and 0 <= count <= model.MAX_STEPS + 1 else 0
    return [{key: _text(form, f"step-{i}-{key}") for key in
             ("channel", "destination", "after", "max_attempts", "rest_minutes", "template")}
            for i in range(1, count + 1)]


def _definition(steps: list[dict[str, str]], dispositions: str, ends_on: str) -> dict:
    """The cadence as the API's body gives it (CadenceIn, without its unset values)."""
    data_steps = []
    for step in steps:
        item: dict[str, Any] = {"channel": step["channel"], "after": _names(step["after"]),
                                "max_attempts": _whole(step["max_attempts"], 1),
                                "rest_minutes": _whole(step["rest_minutes"], 0)}
        if step["destination"]:
            item["destination"] = step["destination"]
        if step["template"]:
            item["template"] = step["template"]
        data_steps.append(item)
    return {"steps": data_steps, "dispositions": _names(dispositions),
            "ends_on": _names(ends_on)}


def _shown(found: model.Cadence | None) -> tuple[list[dict[str, str]], str, str]:
    if found is None:
        return [_blank("voice")], "", ""
    data = found.to_dict()
    steps = [{"channel": s["channel"], "destination": s["destination"],
              "after": ", ".join(s["after"]), "max_attempts": str(s["max_attempts"]),
              "rest_minutes": str(s["rest_minutes"]), "template": s["template"] or ""}
             for s in data["steps"]]
    return steps, ", ".join(data["dispositions"]), ", ".join(data["ends_on"])


def _blank(channel: str = "sms") -> dict[str, str]:
    return {"channel": channel, "destination": "", "after": "", "max_attempts": "1",
            "rest_minutes": "0", "template": ""}


def _page(request: Request, engine, bu, name: str, steps, dispositions: str, ends_on: str,
          errors: dict[str, str], status_code: int = 200) -> Response:
    view = skill_settings.skill_view(engine, bu, name)
    fields = listing.calling_list(engine, bu, view.calling_list).fields
    destinations = list(dict.fromkeys([model.PHONE, model.SMS_PHONE, *fields]))
    templates = listing.templates_page(engine, bu, PageRequest(0, CHOICES)).items
    return render(request, "skills/cadence.html", status_code=status_code, view=view,
                  skill=view.skill, steps=steps, dispositions=dispositions, ends_on=ends_on,
                  errors=errors, destinations=destinations,
                  templates=[t.name for t in templates],
                  call_outcomes=sorted(model.CALL_OUTCOMES),
                  locked=view.skill.status.value != "draft")


@router.get("/skills/{name}/cadence")
def cadence_page(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                 engine: EngineDep) -> Response:
    try:
        found = cadences.show(engine, bu, name)
    except CadenceError as exc:  # an agentless skill, or a stored cadence that no longer fits
        steps, dispositions, ends_on = [_blank("voice")], "", ""
        return _page(request, engine, bu, name, steps, dispositions, ends_on,
                     {p.field: p.reason for p in exc.problems}, 409)
    steps, dispositions, ends_on = _shown(found)
    return _page(request, engine, bu, name, steps, dispositions, ends_on, {})


@router.post("/skills/{name}/cadence")
async def save_cadence(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                       engine: EngineDep, clock: ClockDep) -> Response:
    """Save (as PUT /v1/skills/{name}/cadence), or add or remove a step of the form."""
    form = await request.form()
    steps = _steps_of(form)
    dispositions, ends_on = _text(form, "dispositions"), _text(form, "ends_on")
    action = _text(form, "action")
    if action == "add":
        if len(steps) < model.MAX_STEPS:
            steps.append(_blank())
        return _page(request, engine, bu, name, steps, dispositions, ends_on, {})
    if action.startswith("remove-"):
        index = _whole(action.removeprefix("remove-"), 0)
        if isinstance(index, int) and 1 <= index <= len(steps):
            del steps[index - 1]
        return _page(request, engine, bu, name, steps, dispositions, ends_on, {})
    data = _definition(steps, dispositions, ends_on)
    try:
        saved = cadences.define(engine, bu, clock, name, data)
    except CadenceError as exc:
        errors: dict[str, str] = {}
        for problem in exc.problems:
            errors.setdefault(problem.field, problem.reason)
        return _page(request, engine, bu, name, steps, dispositions, ends_on, errors, 422)
    audit.record(engine, user, "cadence.set", name, saved.to_dict(),
                 address=address_of(request))
    return redirect(f"/skills/{name}/cadence",
                    f"Cadence of {name} saved: {len(saved.steps)} steps.")
