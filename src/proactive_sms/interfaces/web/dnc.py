"""/dnc: the tenant's DNC lists (the default list and the DNC groups). Find a number in any
spelling, add and remove numbers (with a note), import a file (every bad line reported) and
export a list (streamed CSV); /dnc/reviews: the possible opt-outs waiting for a person, accepted
or rejected.

Thin over the services the API uses: administration.dnc_add/dnc_remove/dnc_lookup,
dnc_import.import_numbers, dnc_export.csv_chunks (spreadsheet-safe here), and
InboundService.review (POST /v1/reviews/{id}/accept|reject). Every change is in the audit log.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from proactive_sms.domain import phone
from proactive_sms.interfaces.web import forms, uploads
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.paging import page_after
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import administration, audit, dnc_export, dnc_import, listing
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.inbound import InboundService
from proactive_sms.services.listing import PageRequest
from proactive_sms.store.errors import NotFound

router = APIRouter()

PAGE_SIZE = 50
DEFAULT = "default"  # the tenant default list's name
MAX_NUMBERS = 10_000  # in one add or remove, as the API


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _numbers(raw: str) -> list[str]:
    """Numbers typed one a line (or separated by commas or semicolons)."""
    return [n.strip() for n in raw.replace(";", "\n").replace(",", "\n").splitlines()
            if n.strip()]


def _lists(engine, bu) -> list:
    return listing.dnc_lists_page(engine, bu, PageRequest(0, 500)).items


def _group(name: str) -> str | None:
    """The services' name of a list: None for the default list, else the group."""
    return None if not name or name == DEFAULT else name


# --- the DNC page: find, add, remove -----------------------------------------------------------


def _home(request: Request, engine, bu, *, q: str = "", values: dict | None = None,
          errors: dict | None = None, status_code: int = 200) -> Response:
    errors = dict(errors or {})
    found = None
    if q.strip():
        try:
            number, hits = administration.dnc_lookup(engine, bu, q.strip()[:40])
            found = {"number": number, "hits": hits}
        except InvalidRequest as exc:
            errors["q"] = str(exc)
    reviews = listing.inbound_page(engine, bu, PageRequest(0, 100), review_state="pending")
    return render(request, "dnc/index.html", status_code=status_code, q=q, found=found,
                  lists=_lists(engine, bu), values=values or {}, errors=errors,
                  mask=phone.mask, pending_reviews=len(reviews.page.items),
                  more_reviews=reviews.page.more)


@router.get("/dnc")
def dnc_page(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
             q: str = "") -> Response:
    return _home(request, engine, bu, q=q)


@router.post("/dnc/numbers")
async def add_numbers(request: Request, user: SupervisorUser, bu: CurrentBu,
                      engine: EngineDep, clock: ClockDep) -> Response:
    """Add numbers (any spelling) to a list; a new group name makes the group."""
    form = await request.form()
    numbers = _numbers(_text(form, "numbers"))
    target = _text(form, "new_group").strip() or _text(form, "list")
    note = _text(form, "note").strip()
    back = _text(form, "back")
    values = {"numbers": _text(form, "numbers"), "list": _text(form, "list"),
              "new_group": _text(form, "new_group"), "note": note}
    errors: dict[str, str] = {}
    if not numbers:
        errors["numbers"] = "type one number a line (any spelling)"
    elif len(numbers) > MAX_NUMBERS:
        errors["numbers"] = f"at most {MAX_NUMBERS:,} numbers at a time: import a file"
    if _text(form, "new_group").strip():
        try:
            administration.checked_name("DNC group", target, field="new_group")
        except InvalidRequest as exc:
            errors["new_group"] = str(exc)
    if not errors:
        try:
            change = administration.dnc_add(engine, bu, clock, numbers, _group(target),
                                            source="manual", note=note[:500])
        except forms.FORM_ERRORS as exc:
            errors = forms.errors_of(exc, "numbers")
        else:
            if change.invalid and not change.changed and len(change.invalid) == len(numbers):
                errors["numbers"] = _not_numbers(change.invalid)
            else:
                audit.record(engine, user, "dnc.added", change.list_name,
                             {"added": change.changed, "note": note,
                              "numbers": [_masked(n, bu) for n in numbers[:20]]},
                             address=address_of(request))
                message = (f"{change.changed:,} added to {change.list_name}; "
                           f"{len(numbers) - len(change.invalid) - change.changed:,} were "
                           "on it already.")
                if change.invalid:
                    message += " " + _not_numbers(change.invalid)
                return redirect(_back(back, change.list_name, numbers[0]), message,
                                "info" if change.invalid else "success")
    return _home(request, engine, bu, values=values, errors=errors, status_code=422)


def _not_numbers(invalid: list[str]) -> str:
    shown = ", ".join(f"'{n[:30]}'" for n in invalid[:5])
    more = f" and {len(invalid) - 5} more" if len(invalid) > 5 else ""
    return f"not phone numbers: {shown}{more}"


def _masked(raw: str, bu) -> str:
    e164 = phone.normalize(raw, bu.default_region).e164
    return phone.mask(e164) if e164 else "(not a number)"


def _back(back: str, list_name: str, number: str) -> str:
    if back == "list":
        return f"/dnc/lists/{quote(list_name)}"
    return f"/dnc?q={quote(number)}"


@router.post("/dnc/removals")
async def remove_number(request: Request, user: SupervisorUser, bu: CurrentBu,
                        engine: EngineDep, clock: ClockDep) -> Response:
    """Take a number off one list; the note says why, in the audit log."""
    form = await request.form()
    number, list_name = _text(form, "number").strip(), _text(form, "list")
    note = _text(form, "note").strip()
    try:
        change = administration.dnc_remove(engine, bu, [number], _group(list_name), clock=clock)
    except forms.FORM_ERRORS as exc:
        if isinstance(exc, NotFound):
            raise
        return _home(request, engine, bu, q=number, errors=forms.errors_of(exc, "number"),
                     status_code=422)
    if change.invalid:
        return _home(request, engine, bu, q=number,
                     errors={"number": _not_numbers(change.invalid)}, status_code=422)
    audit.record(engine, user, "dnc.removed", change.list_name,
                 {"number": _masked(number, bu), "removed": change.changed, "note": note},
                 address=address_of(request))
    message = (f"Removed from {change.list_name}." if change.changed
               else f"It was not on {change.list_name}.")
    return redirect(f"/dnc?q={quote(number)}", message,
                    "success" if change.changed else "info")


# --- one list: its entries, import, export -----------------------------------------------------


def _list_page(request: Request, engine, bu, name: str, after: str | None = None,
               report=None, errors: dict | None = None, status_code: int = 200) -> Response:
    page = listing.dnc_entries_page(engine, bu, name, PageRequest(page_after(after),
                                                                  PAGE_SIZE))
    limit = uploads.limit_bytes()
    return render(request, "dnc/list.html", status_code=status_code, name=name, page=page,
                  after=after, report=report, errors=errors or {}, mask=phone.mask,
                  lists=_lists(engine, bu), limit=uploads.describe(limit), limit_bytes=limit,
                  values={})


@router.get("/dnc/lists/{name}")
def list_page(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
              engine: EngineDep, after: str | None = None) -> Response:
    return _list_page(request, engine, bu, name, after)


@router.post("/dnc/lists/{name}/imports")
async def import_numbers(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                         engine: EngineDep, clock: ClockDep) -> Response:
    """A file of numbers onto the list, as POST /v1/dnc/lists/{name}/imports; the report of
    its bad lines shows on the list's page."""
    listing.dnc_entries_page(engine, bu, name, PageRequest(0, 1))  # NotFound: 404
    try:
        uploads.refuse_by_length(request)
    except uploads.UploadTooLarge as exc:
        return _list_page(request, engine, bu, name, errors={"file": str(exc)},
                          status_code=413)
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _list_page(request, engine, bu, name,
                          errors={"file": "choose a CSV file, or a file of one number a line"},
                          status_code=422)
    # One request: the file needs only a working copy, removed when the request ends.
    with uploads.working_folder() as folder:
        try:
            await uploads.save(file, folder / "numbers.csv")
            summary = await run_in_threadpool(dnc_import.import_numbers, engine, bu, clock,
                                              folder / "numbers.csv", name, file.filename)
        except uploads.UploadTooLarge as exc:
            return _list_page(request, engine, bu, name, errors={"file": str(exc)},
                              status_code=413)
        except forms.FORM_ERRORS as exc:
            return _list_page(request, engine, bu, name, errors=forms.errors_of(exc, "file"),
                              status_code=422)
    audit.record(engine, user, "dnc.imported", summary.list_name,
                 {"file": file.filename, "added": summary.added,
                  "rejected": summary.rejected}, address=address_of(request))
    return _list_page(request, engine, bu, name, report=summary)


@router.get("/dnc/lists/{name}/export")
def export_list(name: str, user: SupervisorUser, bu: CurrentBu,
                engine: EngineDep) -> Response:
    """The list as CSV, streamed; cells a spreadsheet would run (every '+' number) start with
    an apostrophe, which an import reads back as the same number."""
    chunks = dnc_export.csv_chunks(engine, bu, name)
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="dnc-{stem}.csv"'})


# --- the review queue ---------------------------------------------------------------------------


@router.get("/dnc/reviews")
def reviews_page(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
                 after: str | None = None) -> Response:
    """Possible opt-outs waiting for a decision, oldest first (as GET /v1/reviews)."""
    named = listing.inbound_page(engine, bu, PageRequest(page_after(after), PAGE_SIZE),
                                 review_state="pending")
    return render(request, "dnc/reviews.html", page=named.page,
                  skill_names=named.skill_names, after=after, mask=phone.mask)


@router.post("/dnc/reviews/{inbound_id}/{decision}")
def decide(request: Request, inbound_id: int, decision: str, user: SupervisorUser,
           bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> Response:
    """Accept (an opt-out: on the DNC list, confirmed) or reject (an ordinary reply)."""
    if decision not in ("accept", "reject"):
        raise NotFound("decision", decision)
    accept = decision == "accept"
    try:
        outcome = InboundService(engine, clock).review(inbound_id, accept, bu.id)
    except LookupError as exc:
        raise NotFound("inbound text", inbound_id) from exc
    except ValueError as exc:  # decided already (by someone else, or a second click)
        return redirect("/dnc/reviews", str(exc), "error")
    audit.record(engine, user, f"review.{'accepted' if accept else 'rejected'}",
                 f"inbound text #{inbound_id}", {"dnc_changed": outcome.dnc_changed},
                 address=address_of(request))
    message = ("Accepted as an opt-out: the number is on the DNC list."
               if accept else "Rejected: kept as an ordinary reply.")
    return redirect("/dnc/reviews", message)
