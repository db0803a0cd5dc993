"""/templates: the saved message templates; the editor with a field picker, checks as you
type, the preview on a chosen record and the direction (LTR, RTL, detected).

The page is named message_templates because web/templates holds the Jinja files. Saving goes
through `administration.save_template`, as PUT /v1/templates/{name}; the checks and previews
through `services.previews`. Template names go in the query, not the path: a name may hold
a slash.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from proactive_sms.domain.template import TemplateError
from proactive_sms.interfaces.web import text_checks
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.broadcast import choices
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.forms import FORM_ERRORS
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import administration, audit, listing, previews
from proactive_sms.store.errors import NotFound

router = APIRouter()

RECORD_CHOICES = 50  # records offered by the record picker: the list's first ones
_NAME_MAX = 200  # the store's column


@router.get("/templates")
def templates_page(request: Request, user: SupervisorUser, bu: CurrentBu,
                   engine: EngineDep) -> Response:
    """The BU's templates."""
    saved = listing.templates_page(engine, bu, listing.PageRequest(0, 500)).items
    return render(request, "message_templates/list.html", templates=saved)


@router.get("/templates/new")
def new_template(request: Request, user: SupervisorUser, bu: CurrentBu,
                 engine: EngineDep) -> Response:
    """An empty editor (a list may be named in the query, for its fields)."""
    values = {"name": "", "body": "", "direction": "auto", "smart_encoding": "",
              "bidi_marks": "auto", "calling_list": request.query_params.get("calling_list", "")}
    return _editor(request, engine, bu, values, {}, new=True)


@router.get("/templates/edit")
def edit_template(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                  name: str = "") -> Response:
    """The editor of a saved template (another unit's answers 404)."""
    stored = administration.find_template(engine, bu, name)
    values = {"name": stored.name, "body": stored.body, "direction": stored.direction,
              "smart_encoding": "on" if stored.smart_encoding else "",
              "bidi_marks": stored.bidi_marks,
              "calling_list": request.query_params.get("calling_list", "")}
    return _editor(request, engine, bu, values, {}, new=False)


def _editor(request: Request, engine, bu, values: dict, errors: dict, *, new: bool,
            status_code: int = 200, first_list: bool = True) -> Response:
    """The editor; with `first_list`, the first list is chosen when none is (a form sent
    back keeps the choice its person made, "no list" included)."""
    lists = choices(engine, bu).calling_lists
    if first_list and not values.get("calling_list") and lists:
        values = {**values, "calling_list": lists[0].name}  # fields to pick from at once
    tools = _list_tools(engine, bu, values.get("calling_list") or None, None)
    # Read as the live check reads the form it posts on load: the same counter.
    text = text_checks.TextForm.read(
        FormData({**values, "external_id": tools["external_id"] or ""}), "body")
    return render(request, "message_templates/edit.html", status_code=status_code,
                  values=values, errors=errors, new=new, calling_lists=lists,
                  directions=text_checks.DIRECTIONS, **tools,
                  **text_checks.first_check(engine, bu, text))


def _list_tools(engine, bu, calling_list: str | None, external_id: str | None) -> dict:
    """The field picker's fields and the record picker's records of the chosen list, and the
    record to preview (one of them; else the first)."""
    if not calling_list:
        return {"fields": (), "records": [], "external_id": None}
    try:
        fields = previews.fields_of(engine, bu, calling_list)
        records = listing.records_page(engine, bu, calling_list,
                                       listing.PageRequest(0, RECORD_CHOICES)).items
    except NotFound:
        return {"fields": (), "records": [], "external_id": None}
    if external_id not in {r.external_id for r in records}:
        external_id = records[0].external_id if records else None
    return {"fields": fields, "records": records, "external_id": external_id}


@router.post("/templates/check")
async def check(request: Request, user: SupervisorUser, bu: CurrentBu,
                engine: EngineDep) -> Response:
    """As the body is typed, or the list, record or direction chosen: the counter, the
    issues under the body, the preview bubble, and the field and record pickers of the list."""
    form = await request.form()
    text = text_checks.TextForm.read(form, "body")
    tools = _list_tools(engine, bu, text.calling_list, text.external_id)
    text = dataclasses.replace(text, external_id=tools["external_id"])
    return text_checks.check(request, engine, bu, "message_templates/_live.html", text,
                             **tools)


def _values(form: FormData) -> dict[str, str]:
    return {key: str(form.get(key, "")) for key in
            ("name", "body", "direction", "smart_encoding", "bidi_marks", "calling_list", "new")}


@router.post("/templates/save")
async def save(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
               clock: ClockDep) -> Response:
    """Save (create or replace) the template; the fields are checked against the chosen list.
    A refusal shows the editor again with the reason under the field."""
    values = _values(await request.form())
    new = values["new"] == "yes"
    name = values["name"].strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "give the template a name"
    elif len(name) > _NAME_MAX:
        errors["name"] = f"a name has at most {_NAME_MAX} characters, got {len(name)}"
    elif new and _exists(engine, bu, name):
        errors["name"] = f"template '{name}' already exists"
    if not values["body"].strip():
        errors["body"] = "the message is empty"
    if not errors:
        try:
            stored = administration.save_template(
                engine, bu, clock, name, values["body"], values["direction"] or "auto",
                values["smart_encoding"] in ("on", "true", "1"),
                values["calling_list"] or None,
                "off" if values["bidi_marks"] == "off" else "auto")
        except TemplateError as exc:
            errors["body"] = str(previews.Issue.of(exc))
        except FORM_ERRORS as exc:
            errors = text_checks.field_errors(exc, "body")
            if "message" in errors:
                errors["body"] = errors.pop("message")
        else:
            audit.record(engine, user, "template.created" if new else "template.saved",
                         stored.name, {"direction": stored.direction}, bu=bu,
                         now=clock.now(), address=address_of(request))
            return redirect(f"/templates/edit?name={_quote(stored.name)}",
                            f"Template {stored.name} saved")
    values["name"] = name
    return _editor(request, engine, bu, values, errors, new=new, status_code=422,
                   first_list=False)


def _exists(engine, bu, name: str) -> bool:
    try:
        administration.find_template(engine, bu, name)
    except NotFound:
        return False
    return True


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
