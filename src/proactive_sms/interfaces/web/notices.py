"""/notices: saved templates sent to a list in one click, and what past notices became (use 2).

A template that was sent before offers "Send to LIST from CODE": one click and a confirmation
start a skill (`services.broadcasts`, as POST /v1/skills and /start). "Send to list…" chooses
the list and the code (with the dry run) the first time or to change them; the history links
each notice to its skill report.

Template names go in the query or the form, not the path: a name may hold a slash.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from proactive_sms.interfaces.web import text_checks
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.broadcast import choices, read_target, send_errors
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.forms import FORM_ERRORS
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import administration, audit, broadcasts, listing, notices
from proactive_sms.services.broadcasts import Broadcast

router = APIRouter()

HISTORY_SIZE = 20


@router.get("/notices")
def notices_page(request: Request, user: SupervisorUser, bu: CurrentBu,
                 engine: EngineDep, clock: ClockDep) -> Response:
    """The saved templates, each with its one-click send, and the latest notices."""
    saved = listing.templates_page(engine, bu, listing.PageRequest(0, 500)).items
    return render(request, "notices/index.html", templates=saved,
                  targets=notices.last_targets(engine, bu),
                  history=notices.history(engine, bu, clock.now(), HISTORY_SIZE))


def _wanted(form: FormData) -> tuple[Broadcast | None, dict[str, str], dict[str, str]]:
    """The notice a form asks for (template, list, code, window), its values and errors."""
    values, errors, window = read_target(form)
    values["template"] = str(form.get("template", ""))
    if errors:
        return None, values, errors
    return Broadcast(values["registration"], values["calling_list"], template=values["template"],
                     calling_window=window), values, errors


@router.get("/notices/send")
def choose_target(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                  template: str = "") -> Response:
    """Choose the list and the code to send a template to (the last ones preselected)."""
    stored = administration.find_template(engine, bu, template)  # another BU's: 404
    target = notices.last_target(engine, bu, stored.name)
    window = (target.calling_window if target else None) or {}
    values = {"template": stored.name,
              "calling_list": target.calling_list if target else "",
              "registration": target.registration if target else "",
              "weekday": window.get("weekday", ""), "weekend": window.get("weekend", "")}
    return _choose_page(request, engine, bu, stored, values, {})


def _choose_page(request: Request, engine, bu, stored, values: dict, errors: dict,
                 status_code: int = 200) -> Response:
    text = text_checks.TextForm(stored.body, stored.direction, stored.smart_encoding,
                                values.get("calling_list") or None,
                                bidi_marks=stored.bidi_marks)
    return render(request, "notices/send.html", status_code=status_code, stored=stored,
                  choices=choices(engine, bu), values=values, errors=errors,
                  **text_checks.first_check(engine, bu, text))


@router.post("/notices/preview")
async def preview(request: Request, user: SupervisorUser, bu: CurrentBu,
                  engine: EngineDep) -> Response:
    """The template rendered for the chosen list's first records, and its counter."""
    form = await request.form()
    try:
        stored = administration.find_template(engine, bu, str(form.get("template", "")))
    except FORM_ERRORS as exc:
        return render(request, "notices/_preview.html", checked=None, counter=None,
                      samples=[], errors=text_checks.field_errors(exc))
    text = dataclasses.replace(text_checks.TextForm.read(form), body=stored.body,
                               direction=stored.direction, smart=stored.smart_encoding,
                               bidi_marks=stored.bidi_marks)
    return text_checks.check(request, engine, bu, "notices/_preview.html", text)


@router.post("/notices/dry-run")
async def dry_run(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                  clock: ClockDep) -> Response:
    """Every check of the launch and of sending, for the template to the chosen list."""
    wanted, values, errors = _wanted(await request.form())
    result = None
    if wanted is not None:
        try:
            result = broadcasts.dry_run(engine, bu, clock, wanted)
        except FORM_ERRORS as exc:
            errors = send_errors(exc, "template")
    return render(request, "notices/_dry_run.html", result=result, errors=errors,
                  values=values, now=clock.now())


@router.post("/notices/send")
async def send(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
               clock: ClockDep) -> Response:
    """Start a notice: the template to the list, from the code. Back to the notices, where
    it heads the history; a refusal shows the choice again with the reason."""
    wanted, values, errors = _wanted(await request.form())
    if wanted is not None:
        try:
            sent = broadcasts.send(engine, bu, clock, wanted)
        except FORM_ERRORS as exc:
            errors = send_errors(exc, "template")
        else:
            audit.record(engine, user, "notice.sent", sent.skill.name, {
                "template": values["template"], "calling_list": values["calling_list"],
                "registration": values["registration"], "pending": sent.summary.pending,
                "skipped": dict(sent.summary.skipped)}, bu=bu, now=clock.now(),
                address=address_of(request))
            return redirect("/notices", f"Notice {sent.skill.name} started: "
                                        f"{sent.summary.pending} text(s) to send")
    try:
        stored = administration.find_template(engine, bu, values["template"])
    except FORM_ERRORS:
        return redirect("/notices", f"No template '{values['template']}'", kind="error")
    return _choose_page(request, engine, bu, stored, values, errors, status_code=422)

