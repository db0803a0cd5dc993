"""`/v1/calling-lists`: the BU's lists and their records; upload a CSV with a column mapping
and get the import report."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import API_ACTOR, expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import invalid
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.services import calling_list_admin, importing, list_files, listing
from proactive_sms.store.tenancy import BusinessUnit

router = APIRouter(prefix="/calling-lists", tags=["calling lists"])


class RejectedRow(BaseModel):
    line: int = Field(description="1-based line in the file (the header is line 1).")
    field: str | None
    problem: str
    reason: str


class ImportReport(BaseModel):
    list_name: str
    encoding: str = Field(description='How the file was read: "UTF-8", "UTF-8 with BOM", '
                                      '"UTF-16 LE", "Windows-1252", ...')
    delimiter: str = Field(description='The column delimiter: ",", ";", "\\t" or "|".')
    rows_read: int
    accepted: int
    rejected: int
    records_in_list: int
    columns: dict[str, str | None] = Field(description="Each header and the field it fills.")
    rejected_by_problem: dict[str, int]
    rejected_rows: list[RejectedRow] = Field(
        description=f"The first {importing.KEPT_ERRORS} rejected rows.")
    joined_cadences: dict[str, int] = Field(
        default_factory=dict,
        description="New records that joined the cadence of a running (or paused) agent skill "
                    "of the list, by skill name.")


def _file_option(parse, field: str, value: str | None) -> str | None:
    """A `delimiter` or `encoding` field, read by the service's own rule; empty: detected."""
    if not value:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise invalid(field, str(exc)) from exc


def _mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid("mapping", f"not JSON: {exc}") from exc
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise invalid("mapping", 'give a JSON object of column to field, such as '
                                 '{"Mobile": "cell", "Agency": "-"}')
    return mapping


class CallingListOut(BaseModel):
    name: str
    fields: list[str] = Field(description="Every field the list's records may carry.")


class RecordOut(BaseModel):
    external_id: str
    phone: str | None = Field(description="PhoneNumber, E.164.")
    sms_destination: str | None = Field(description="Where a text goes, E.164.")
    sms_problem: str | None = Field(description="Why the record has nowhere to text.")
    time_zone: str | None
    postal_code: str | None
    expiration_date: date | None
    fields: dict[str, str]


@router.get("")
def list_calling_lists(bu: CurrentBu, engine: EngineDep, page: PageParams,
                       archived: Annotated[bool, Query(
                           description="Also the removed lists that finished skills still "
                                       "report on.")] = False,
                       ) -> Paged[CallingListOut]:
    """The BU's calling lists, a page at a time."""
    return paged(listing.calling_lists_page(engine, bu, page, archived),
                 lambda lst: CallingListOut(name=lst.name, fields=list(lst.fields)))


class CallingListDetail(BaseModel):
    name: str
    fields: list[str]
    records: int
    skills: list[str] = Field(description="The skills that use it (finished ones too).")
    version: int = Field(description="Raised by every change; the ETag carries it.")
    archived: bool = Field(description="Removed while finished skills still report on it.")


class CallingListPatch(RequestBody):
    name: str = Field(min_length=1, max_length=200, description="A new name for the list.")


class Removed(BaseModel):
    name: str
    outcome: Literal["deleted", "archived"] = Field(
        description="deleted, or archived: kept (hidden) for the reports of finished skills.")


def _detail(view: calling_list_admin.ListView, response: Response) -> CallingListDetail:
    set_etag(response, view.calling_list.version)
    return CallingListDetail(**view.as_dict())


@router.get("/{name}")
def get_calling_list(name: str, bu: CurrentBu, engine: EngineDep,
                     response: Response) -> CallingListDetail:
    """One list: its fields, how many records, the skills that use it; ETag for changes."""
    return _detail(calling_list_admin.show_list(engine, bu, name), response)


@router.patch("/{name}")
def rename_calling_list(name: str, body: CallingListPatch, request: Request, bu: CurrentBu,
                        engine: EngineDep, clock: ClockDep,
                        response: Response) -> CallingListDetail:
    """Rename the list (If-Match: only if unchanged since that ETag, else 412)."""
    return _detail(calling_list_admin.rename_list(
        engine, bu, clock, name, body.name, expected_version(request), actor=API_ACTOR),
        response)


@router.delete("/{name}")
def remove_calling_list(name: str, request: Request, bu: CurrentBu,
                        engine: EngineDep, clock: ClockDep) -> Removed:
    """Remove the list: 409 while a skill that is not finished uses it; archived (hidden,
    kept) while finished skills report on it; else deleted with its records."""
    outcome = calling_list_admin.remove_list(engine, bu, clock, name, expected_version(request),
                                             actor=API_ACTOR)
    return Removed(name=name, outcome=outcome)


def _record(r) -> RecordOut:
    return RecordOut(
        external_id=r.external_id, phone=r.phone, sms_destination=r.sms_destination,
        sms_problem=r.sms_problem, time_zone=r.time_zone, postal_code=r.postal_code,
        expiration_date=r.expiration_date, fields=r.fields)


@router.get("/{name}/records")
def list_records(name: str, bu: CurrentBu, engine: EngineDep, page: PageParams,
                 external_id: Annotated[str | None, Query(
                     max_length=200, description="Only the record with this ExternalId.")] = None,
                 number: Annotated[str | None, Query(
                     max_length=40, description="Only the records with this number (any "
                                                "spelling) as PhoneNumber or SMS destination."
                 )] = None) -> Paged[RecordOut]:
    """A list's records in the order they were first imported, a page at a time; or those of
    one person, found by ExternalId or number."""
    if external_id or number:
        found = calling_list_admin.find_records(
            engine, bu, name, external_id=external_id, number=number,
            after_id=page.after_id, limit=page.limit)
        return paged(found, _record)
    return paged(listing.records_page(engine, bu, name, page), _record)


@router.get("/{name}/records/{external_id}")
def get_record(name: str, external_id: str, bu: CurrentBu, engine: EngineDep) -> RecordOut:
    """One record of the list, by its ExternalId."""
    return _record(calling_list_admin.record(engine, bu, name, external_id))


@router.post("/{name}/imports", responses=idempotency.responses())
async def import_calling_list(
    name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep, guard: Idempotent,
    file: Annotated[UploadFile, File(description="The CSV (or tab-separated) list.")],
    mapping: Annotated[str | None, Form(
        description='JSON object, column -> field ("-" ignores a column); '
                    "unmapped columns map by name and alias.")] = None,
    delimiter: Annotated[str | None, Form(
        description='The column delimiter: ",", ";", "|" or "tab" (default: detected from '
                    "the header and the first rows).")] = None,
    encoding: Annotated[str | None, Form(
        description='The file\'s encoding: "UTF-8", "UTF-16", "Windows-1252", ... (default: '
                    "detected over the whole file).")] = None,
) -> ImportReport:
    """Import (upsert on ExternalId) into the BU's list of that name; bad rows are reported with
    their line numbers and kept out, good rows are kept.

    The file may be separated by commas, semicolons, tabs or pipes, in UTF-8 (with or without
    a BOM), UTF-16 (Excel's "Unicode text") or Windows-1252; both are detected, and reported.
    A file that cannot be read is refused whole (422) naming the line."""
    overrides = _mapping(mapping)
    file_format = (_file_option(list_files.parse_delimiter, "delimiter", delimiter),
                   _file_option(list_files.parse_encoding, "encoding", encoding))
    with tempfile.TemporaryDirectory(prefix="psms-upload-") as folder:
        path = Path(folder) / "upload.csv"
        with path.open("wb") as target:  # streamed to disk: a list may not fit in memory
            await run_in_threadpool(shutil.copyfileobj, file.file, target)
        return await run_in_threadpool(
            guard.run, lambda: _import(engine, bu, clock, name, path, file.filename, overrides,
                                       *file_format))


def _import(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, path: Path,
            filename: str | None, overrides: dict[str, str] | None, delimiter: str | None,
            encoding: str | None) -> ImportReport:
    try:
        summary = importing.import_calling_list(engine, bu, name, path, clock, overrides,
                                                encoding=encoding, delimiter=delimiter)
    except importing.ImportRefused as exc:
        # The service names the file by its path: name the upload instead.
        raise importing.ImportRefused(
            str(exc).replace(str(path), filename or "the upload")) from exc
    read_as = summary.file_format
    return ImportReport(
        list_name=summary.list_name, encoding=read_as.encoding if read_as else "",
        delimiter=read_as.delimiter if read_as else "", rows_read=summary.rows_read,
        accepted=summary.accepted,
        rejected=summary.rejected, records_in_list=summary.records_in_list,
        columns=summary.columns,
        rejected_by_problem={str(k): v for k, v in summary.rejected_by_problem.items()},
        rejected_rows=[RejectedRow(line=e.line, field=e.field, problem=str(e.problem),
                                   reason=e.message) for e in summary.errors],
        joined_cadences=summary.joined_cadences)
