"""/calling-lists: the unit's lists with their counts; upload a file, map its columns (guessed,
overridden per column, previewed as the import will read them), import it through the same
service as the API, read the report with every rejected row and download them; browse and search
a list's records.

The upload, the mapping and the report are three pages over one upload kept in the database
(web/uploads.py), so each may be served by another API server; the import itself is
services.importing.import_calling_list, exactly as POST /v1/calling-lists/{name}/imports runs it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from proactive_sms.domain import calling_list_fields, phone
from proactive_sms.interfaces.web import forms, uploads
from proactive_sms.interfaces.web.auth import CurrentBu, SupervisorUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.paging import page_after
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import audit, import_preview, importing, list_files, listing
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.listing import PageRequest
from proactive_sms.store.console_uploads import IMPORTED, READY, REJECTED, StoredUpload
from proactive_sms.store.errors import NotFound

router = APIRouter()

PAGE_SIZE = 50
REJECTED_PAGE = 100
UPLOAD_FILE, REJECTED_FILE = "upload.csv", "rejected.csv"  # in an import's working folder
AUTO, IGNORE, CUSTOM = "", "-", "custom"


# --- the lists and the upload form ---------------------------------------------------------


@router.get("/calling-lists")
def lists_page(request: Request, user: SupervisorUser, bu: CurrentBu, engine: EngineDep,
               after: str | None = None) -> Response:
    page = listing.calling_lists_counted(engine, bu, PageRequest(page_after(after), PAGE_SIZE))
    return render(request, "calling_lists/index.html", page=page, after=after,
                  values={}, errors={}, limit=uploads.describe(uploads.limit_bytes()),
                  limit_bytes=uploads.limit_bytes(), list_names=_list_names(engine, bu))


def _list_names(engine, bu) -> list[str]:
    """The unit's list names, offered as the upload's list name is typed."""
    return [c.name for c in listing.calling_lists_page(engine, bu, PageRequest(0, 500)).items]


def _upload_form(request: Request, engine, bu, values: dict, errors: dict,
                 status_code: int = 422) -> Response:
    """The lists page again with the upload form's errors (htmx: the form alone, as 200, for
    htmx swaps only successful answers)."""
    limit = uploads.limit_bytes()
    if request.headers.get("HX-Request") == "true":
        return render(request, "calling_lists/_upload_form.html", values=values,
                      errors=errors, limit=uploads.describe(limit), limit_bytes=limit,
                      list_names=_list_names(engine, bu))
    page = listing.calling_lists_counted(engine, bu, PageRequest(0, PAGE_SIZE))
    return render(request, "calling_lists/index.html", status_code=status_code, page=page,
                  after=None, values=values, errors=errors, limit=uploads.describe(limit),
                  limit_bytes=limit, list_names=_list_names(engine, bu))


@router.post("/calling-lists/uploads")
async def upload(request: Request, user: SupervisorUser, bu: CurrentBu,
                 engine: EngineDep, clock: ClockDep) -> Response:
    """Take the file (streamed into the database, refused over the limit) and go to its
    mapping."""
    try:
        uploads.refuse_by_length(request)  # before reading a byte of the body
    except uploads.UploadTooLarge as exc:
        return _upload_form(request, engine, bu, {}, {"file": str(exc)}, 413)
    form = await request.form()
    list_name = _text(form, "list_name").strip()
    values = {"list_name": list_name}
    errors: dict[str, str] = {}
    try:
        importing.check_list_name(list_name)
    except InvalidRequest as exc:
        errors["list_name"] = str(exc)
    chosen: dict[str, str | None] = {}
    for key, parse in (("delimiter", list_files.parse_delimiter),
                       ("encoding", list_files.parse_encoding)):
        values[key] = _text(form, key)
        try:
            chosen[key] = parse(values[key]) if values[key] else None
        except ValueError as exc:
            errors[key] = str(exc)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        errors["file"] = "choose a CSV or tab-separated file"
    if errors:
        return _upload_form(request, engine, bu, values, errors)
    assert isinstance(file, UploadFile)
    # Some browsers send the whole path, in their own system's spelling.
    file_name = file.filename.replace("\\", "/").rsplit("/", 1)[-1] or "the upload"
    details: dict[str, Any] = {"list_name": list_name, "file_name": file_name}
    try:
        upload_id, token, size = await uploads.receive(engine, bu.id, file, details,
                                                       clock.now())
    except uploads.UploadTooLarge as exc:
        return _upload_form(request, engine, bu, values, {"file": str(exc)}, 413)
    try:
        # The format is decided here, over the whole file, once: the mapping's previews and the
        # import read the file as the upload said.
        preview = await run_in_threadpool(_read_preview, engine, upload_id, bu, details, None,
                                          1, chosen["encoding"], chosen["delimiter"], True)
    except importing.ImportRefused as exc:
        await run_in_threadpool(uploads.discard, engine, upload_id)
        return _upload_form(request, engine, bu, values, {"file": str(exc)})
    except BaseException:  # even a cancelled request keeps nothing (no await here)
        uploads.discard(engine, upload_id)
        raise
    details.update(codec=preview.file_format.codec, delimiter=preview.file_format.delimiter)
    await run_in_threadpool(uploads.finish, engine, upload_id, size, details)
    target = f"/calling-lists/uploads/{token}"
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return redirect(target)


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


# --- mapping and preview -------------------------------------------------------------------


def _pending(engine, bu_id: int, token: str) -> StoredUpload:
    """The upload waiting for its mapping; NotFound once imported or swept."""
    found = uploads.find(engine, bu_id, token)
    if found.state != READY:
        raise NotFound("upload", token)
    return found


def _overrides(form: FormData, headers: tuple[str, ...]) -> tuple[dict[str, str],
                                                                  dict[str, str]]:
    """The form's choices per column: the overrides for the import (column -> field or '-'),
    and the choices as typed (to show the form again)."""
    overrides: dict[str, str] = {}
    chosen: dict[str, str] = {}
    for i, header in enumerate(headers):
        choice = _text(form, f"col-{i}")
        custom = _text(form, f"custom-{i}").strip()
        chosen[f"col-{i}"], chosen[f"custom-{i}"] = choice, custom
        if choice == IGNORE:
            overrides[header] = IGNORE
        elif choice == CUSTOM:
            overrides[header] = custom
        elif choice:
            overrides[header] = choice
    return overrides, chosen


def _mapping_context(token: str, meta: dict, preview: import_preview.FilePreview,
                     chosen: dict[str, str]) -> dict[str, Any]:
    columns = [{"index": i, "header": header, "guessed": preview.guessed[i],
                "choice": chosen.get(f"col-{i}", AUTO), "custom": chosen.get(f"custom-{i}", ""),
                "field": (preview.mapping.fields[i] if preview.mapping else None)}
               for i, header in enumerate(preview.headers)]
    return {"token": token, "meta": meta, "preview": preview, "columns": columns,
            "standard_fields": calling_list_fields.STANDARD_FIELDS, "mask": phone.mask}


def _read_preview(engine, upload_id: int, bu, details: dict, overrides: dict[str, str] | None,
                  rows: int, encoding: str | None, delimiter: str | None,
                  whole_file: bool) -> import_preview.FilePreview:
    """The preview of the stored file, read from the database (no local copy)."""
    with uploads.open_file(engine, upload_id) as raw:
        return import_preview.preview_stream(raw, details["file_name"], bu.default_region,
                                             overrides, rows, encoding, delimiter, whole_file)


async def _preview(engine, upload: StoredUpload, bu,
                   overrides: dict[str, str] | None) -> import_preview.FilePreview:
    meta = upload.details
    return await run_in_threadpool(_read_preview, engine, upload.id, bu, meta, overrides,
                                   import_preview.PREVIEW_ROWS, meta.get("codec"),
                                   meta.get("delimiter"), False)


@router.get("/calling-lists/uploads/{token}")
async def mapping_page(request: Request, token: str, user: SupervisorUser,
                       bu: CurrentBu, engine: EngineDep) -> Response:
    upload = await run_in_threadpool(_pending, engine, bu.id, token)
    preview = await _preview(engine, upload, bu, None)
    return render(request, "calling_lists/mapping.html", errors={},
                  **_mapping_context(token, upload.details, preview, {}))


@router.post("/calling-lists/uploads/{token}/preview")
async def mapping_preview(request: Request, token: str, user: SupervisorUser,
                          bu: CurrentBu, engine: EngineDep) -> Response:
    """The preview for the columns as now chosen (htmx swaps it in on every change)."""
    upload = await run_in_threadpool(_pending, engine, bu.id, token)
    headers = (await _preview(engine, upload, bu, None)).headers
    overrides, chosen = _overrides(await request.form(), headers)
    preview = await _preview(engine, upload, bu, overrides)
    return render(request, "calling_lists/_preview.html",
                  **_mapping_context(token, upload.details, preview, chosen))


@router.post("/calling-lists/uploads/{token}/import")
async def run_import(request: Request, token: str, user: SupervisorUser, bu: CurrentBu,
                     engine: EngineDep, clock: ClockDep) -> Response:
    upload = await run_in_threadpool(_pending, engine, bu.id, token)
    meta = upload.details
    headers = (await _preview(engine, upload, bu, None)).headers
    overrides, chosen = _overrides(await request.form(), headers)
    preview = await _preview(engine, upload, bu, overrides)
    if preview.mapping_error:
        return render(request, "calling_lists/mapping.html", status_code=422,
                      errors={"mapping": preview.mapping_error},
                      **_mapping_context(token, meta, preview, chosen))
    if not await run_in_threadpool(uploads.claim, engine, upload.id):
        return render(request, "calling_lists/mapping.html", status_code=409, errors={
            "mapping": "this file is already being imported (by another click or tab); its "
                       f"report will be at /calling-lists/imports/{token}"},
                      **_mapping_context(token, meta, preview, chosen))
    kept = False
    try:
        with uploads.working_folder() as folder:  # removed when this request ends
            try:
                summary = await run_in_threadpool(_import, engine, bu, upload, folder, clock,
                                                  overrides)
            except forms.FORM_ERRORS as exc:
                reason = str(exc).replace(str(folder / UPLOAD_FILE), meta["file_name"])
                return render(request, "calling_lists/mapping.html", status_code=422,
                              errors={"mapping": reason},
                              **_mapping_context(token, meta, preview, chosen))
            await run_in_threadpool(uploads.keep_report, engine, upload.id,
                                    _report_of(summary, meta), folder / REJECTED_FILE)
            kept = True
    finally:
        if not kept:  # refused or failed: the upload waits for its mapping again
            uploads.release(engine, upload.id)
    audit.record(engine, user, "calling_list.imported", summary.list_name, {
        "file": meta["file_name"], "accepted": summary.accepted,
        "rejected": summary.rejected}, address=address_of(request))
    return redirect(f"/calling-lists/imports/{token}",
                    f"Imported {summary.accepted:,} records into {summary.list_name}; "
                    f"{summary.rejected:,} rows rejected.",
                    "success" if not summary.rejected else "info")


def _import(engine, bu, upload: StoredUpload, folder, clock,
            overrides: dict[str, str]) -> importing.ImportSummary:
    """The import of a working copy of the stored file (the import reads a path); its rejected
    rows go beside it."""
    uploads.copy_out(engine, upload.id, folder / UPLOAD_FILE)
    meta = upload.details
    return importing.import_calling_list(
        engine, bu, meta["list_name"], folder / UPLOAD_FILE, clock, overrides,
        folder / REJECTED_FILE, encoding=meta.get("codec"), delimiter=meta.get("delimiter"))


def _report_of(summary: importing.ImportSummary, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "list_name": summary.list_name, "file_name": meta["file_name"],
        "file_format": summary.file_format.describe() if summary.file_format else None,
        "rows_read": summary.rows_read, "accepted": summary.accepted,
        "rejected": summary.rejected, "records_in_list": summary.records_in_list,
        "columns": summary.columns,
        "rejected_by_problem": {str(k): v for k, v in summary.rejected_by_problem.items()},
        "joined_cadences": summary.joined_cadences,
    }


# --- the import report -----------------------------------------------------------------------


def _report(engine, bu_id: int, token: str) -> StoredUpload:
    found = uploads.find(engine, bu_id, token)
    if found.state != IMPORTED:
        raise NotFound("import report", token)
    return found


def _rejected_rows(engine, upload_id: int, after_line: int,
                   limit: int) -> tuple[list[dict], bool]:
    """A page of the rejected rows (line, field, problem, reason) after a line of the file."""
    found: list[dict] = []
    raw = uploads.open_file(engine, upload_id, REJECTED)
    with io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:
            line = int(row[0])
            if line <= after_line:
                continue
            if len(found) == limit:
                return found, True
            found.append({"line": line, "field": row[1], "problem": row[2],
                          "reason": row[3].removeprefix("'")})
    return found, False


@router.get("/calling-lists/imports/{token}")
async def report_page(request: Request, token: str, user: SupervisorUser, bu: CurrentBu,
                      engine: EngineDep, after: str | None = None) -> Response:
    upload = await run_in_threadpool(_report, engine, bu.id, token)
    rows, more = await run_in_threadpool(_rejected_rows, engine, upload.id, page_after(after),
                                         REJECTED_PAGE)
    return render(request, "calling_lists/report.html", token=token, report=upload.report,
                  rows=rows, more=more, after=after)


@router.get("/calling-lists/imports/{token}/rejected.csv")
def rejected_download(token: str, user: SupervisorUser, bu: CurrentBu,
                      engine: EngineDep) -> Response:
    """Every rejected row: line, field, problem, reason and the row as it was in the file
    (cells a spreadsheet would run are neutralized when written, see importing._ErrorWriter)."""
    upload = _report(engine, bu.id, token)

    def chunks() -> Iterator[bytes]:
        stored = uploads.chunks(engine, upload.id, REJECTED)
        first = next(stored, None)
        if first is None:  # no row was rejected
            yield b"line,field,problem,reason\r\n"
            return
        yield first
        yield from stored

    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_"
                   for ch in upload.report["list_name"])
    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="rejected-{stem}.csv"'})


# --- records -----------------------------------------------------------------------------------


@router.get("/calling-lists/{name}")
def records_page(request: Request, name: str, user: SupervisorUser, bu: CurrentBu,
                 engine: EngineDep, q: str = "", after: str | None = None) -> Response:
    """A list's records, a page at a time; `q` finds by ExternalId, number or name."""
    page = listing.find_records(engine, bu, name, q[:200],
                                PageRequest(page_after(after), PAGE_SIZE))
    return render(request, "calling_lists/records.html", name=name, q=q, page=page,
                  after=after, mask=phone.mask,
                  standard=set(calling_list_fields.STANDARD_FIELDS))
