"""/broadcast: the whole ad-hoc broadcast on one page (use 1 of DESIGN.md).

Choose a calling list and a transport code, type the text (checked as it is typed: encoding,
segments, the characters that force UCS-2, unknown fields), read it rendered for the first
records, read the dry run (recipients, skips by reason, segments, finish), then send: the skill
is created and started by `services.broadcasts`, as `POST /v1/skills` and `/start` do.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from proactive_sms.interfaces.web import forms, text_checks
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import audit, broadcasts, listing
from proactive_sms.services.broadcasts import Broadcast

router = APIRouter()

@dataclass(frozen=True)
class Choices:
    """What the selects of a send form offer: the BU's calling lists and transport codes."""

    calling_lists: list
    registrations: list


def choices(engine, bu) -> Choices:
    """The BU's calling lists and codes, for the selects of the broadcast and notice forms."""
    request = listing.PageRequest(0, 500)
    return Choices(listing.calling_lists_page(engine, bu, request).items,
                   listing.registrations_page(engine, bu, request).items)


def read_target(form: FormData) -> tuple[dict[str, str], dict[str, str], dict | None]:
    """The list, the code and the calling window a send form asks for (its values as typed,
    the errors of what is missing, the window as a skill takes it: None for the default)."""
    values = {key: str(form.get(key, "")).strip() if key in ("weekday", "weekend")
              else str(form.get(key, "")) for key in _TARGET_FIELDS}
    errors: dict[str, str] = {}
    if not values["calling_list"]:
        errors["calling_list"] = "choose a calling list"
    if not values["registration"]:
        errors["registration"] = "choose a transport code"
    window = {key: values[key] for key in ("weekday", "weekend") if values[key]}
    return values, errors, window or None


_TARGET_FIELDS = ("calling_list", "registration", "weekday", "weekend")


def send_errors(exc: Exception, field: str) -> dict[str, str]:
    """A refusal of a send form, under the field it is about (a calling-window setting names
    its key in the reason: 'weekday' or 'weekend')."""
    errors = text_checks.field_errors(exc, field)
    reason = errors.get(field, "")
    for key in ("weekday", "weekend"):
        if f"'{key}'" in reason:
            errors[key] = errors.pop(field)
    return errors


def read_broadcast(form: FormData) -> tuple[Broadcast | None, dict[str, str], dict[str, str]]:
    """The broadcast a form asks for, the errors of its values, and the values as typed."""
    values, errors, window = read_target(form)
    values.update({key: str(form.get(key, "")) for key in
                   ("message", "direction", "max_segments")})
    values["direction"] = values["direction"] or "auto"
    values["max_segments"] = values["max_segments"].strip() or "3"
    if values["direction"] not in text_checks.DIRECTIONS:
        errors["direction"] = f"direction must be ltr, rtl or auto, got '{values['direction']}'"
    try:
        max_segments = int(values["max_segments"])
    except ValueError:
        errors["max_segments"] = f"max segments must be a whole number, got " \
                                 f"'{values['max_segments']}'"
        max_segments = 3
    if errors:
        return None, errors, values
    return Broadcast(values["registration"], values["calling_list"], message=values["message"],
                     direction=values["direction"], max_segments=max_segments,
                     calling_window=window), errors, values


@router.get("/broadcast")
def broadcast_page(request: Request, user: SupervisorUser, bu: CurrentBu,
                   engine: EngineDep) -> Response:
    """The empty form (a list may be named in the query, as the list upload links back)."""
    values = {"calling_list": request.query_params.get("calling_list", ""),
              "registration": "", "message": "", "direction": "auto", "max_segments": "3",
              "weekday": "", "weekend": ""}
    return _page(request, engine, bu, values, {})


def _page(request: Request, engine, bu, values: dict, errors: dict,
          status_code: int = 200) -> Response:
    text = text_checks.TextForm.read(FormData(values))
    return render(request, "broadcast/index.html", status_code=status_code,
                  choices=choices(engine, bu), values=values, errors=errors,
                  directions=text_checks.DIRECTIONS,
                  **text_checks.first_check(engine, bu, text))


@router.post("/broadcast/check")
async def check_text(request: Request, user: SupervisorUser, bu: CurrentBu,
                     engine: EngineDep) -> Response:
    """As the text is typed: the counter, the issues under the text, the sample renderings
    (and the dry run shown before is dropped: it was for another text)."""
    text = text_checks.TextForm.read(await request.form())
    return text_checks.check(request, engine, bu, "broadcast/_live.html", text)


@router.post("/broadcast/dry-run")
async def dry_run(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                  clock: ClockDep) -> Response:
    """Every check of the launch and of sending; nothing written or sent."""
    wanted, errors, values = read_broadcast(await request.form())
    result = None
    if wanted is not None:
        try:
            result = broadcasts.dry_run(engine, bu, clock, wanted)
        except forms.FORM_ERRORS as exc:
            errors = send_errors(exc, "message")
    return render(request, "broadcast/_dry_run.html", status_code=200, result=result,
                  errors=errors, values=values, now=clock.now())


@router.post("/broadcast/send")
async def send(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
               clock: ClockDep) -> Response:
    """Create the skill and start it; then its report. A refusal shows the form again with
    the reason under the field it is about."""
    wanted, errors, values = read_broadcast(await request.form())
    if wanted is not None:
        try:
            sent = broadcasts.send(engine, bu, clock, wanted)
        except forms.FORM_ERRORS as exc:
            errors = send_errors(exc, "message")
        else:
            audit.record(engine, user, "broadcast.sent", sent.skill.name, {
                "calling_list": wanted.calling_list, "registration": wanted.registration,
                "pending": sent.summary.pending,
                "skipped": dict(sent.summary.skipped)}, bu=bu, now=clock.now(),
                address=address_of(request))
            return redirect(f"/skills/{sent.skill.name}/report",
                            f"Broadcast {sent.skill.name} started: {sent.summary.pending} "
                            f"text(s) to send")
    return _page(request, engine, bu, values, errors, status_code=422)
