"""`/v1/dnc`: the tenant's DNC lists and their entries; add, remove, check, bulk import and
export numbers.

DNC lists belong to the tenant (the default list and named groups), not to one BU: a number
a BU adds is withheld from every BU of the tenant. Another tenant's lists are out of reach.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import blame
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import administration, dnc_export, dnc_import, listing
from proactive_sms.services.importing import KEPT_ERRORS
from proactive_sms.store import dnc as dnc_store

router = APIRouter(prefix="/dnc", tags=["dnc"])


class NumbersIn(RequestBody):
    numbers: list[str] = Field(min_length=1, max_length=10_000)
    group: str | None = Field(None, description="A DNC group (default: the tenant's list).")
    note: str = ""


class RemoveIn(RequestBody):
    numbers: list[str] = Field(min_length=1, max_length=10_000)
    group: str | None = None


class ChangeOut(BaseModel):
    list_name: str
    changed: int = Field(description="Numbers added (or removed); the others already were.")
    invalid: list[str] = Field(description="Values that are not phone numbers.")


class CheckOut(BaseModel):
    number: str
    lists: list[str] = Field(description="The DNC lists that hold it.")


class DncListOut(BaseModel):
    name: str
    is_default: bool = Field(description="The tenant default list, used by registrations "
                                         "that name no DNC group.")


class EntryOut(BaseModel):
    number: str = Field(description="E.164.")
    source: str = Field(description="manual, import, api or opt_out.")
    note: str
    added_at: UtcDatetime


class ImportErrorOut(BaseModel):
    line: int = Field(description="1-based line in the file (a header is line 1).")
    field: str
    reason: str


class ImportOut(BaseModel):
    list_name: str
    rows_read: int
    added: int = Field(description="Numbers new on the list.")
    already_listed: int = Field(description="Valid numbers the list held already.")
    rejected: int
    rejected_rows: list[ImportErrorOut] = Field(
        description=f"The first {KEPT_ERRORS} rejected rows, with line and reason.")


@router.post("/numbers", responses=idempotency.responses())
def add_numbers(body: NumbersIn, bu: CurrentBu, engine: EngineDep,
                clock: ClockDep, guard: Idempotent) -> ChangeOut:
    """Add numbers (in any local or E.164 spelling)."""

    def add() -> ChangeOut:
        change = administration.dnc_add(engine, bu, clock, body.numbers, body.group,
                                        source="api", note=body.note)
        return ChangeOut(list_name=change.list_name, changed=change.changed,
                         invalid=change.invalid)

    return guard.run(add)


@router.get("/lists")
def list_dnc_lists(bu: CurrentBu, engine: EngineDep, page: PageParams) -> Paged[DncListOut]:
    """The tenant's DNC lists: the default list (named 'default') and the DNC groups."""
    return paged(listing.dnc_lists_page(engine, bu, page),
                 lambda lst: DncListOut(name=lst.name, is_default=lst.is_default))


def _entry(entry: dnc_store.DncEntry) -> EntryOut:
    return EntryOut(number=entry.phone, source=entry.source, note=entry.note,
                    added_at=entry.created_at)


@router.get("/lists/{name}/entries")
def list_entries(name: str, bu: CurrentBu, engine: EngineDep,
                 page: PageParams) -> Paged[EntryOut]:
    """A DNC list's numbers, oldest first, a page at a time."""
    return paged(listing.dnc_entries_page(engine, bu, name, page), _entry)


@router.post("/lists/{name}/imports", responses=idempotency.responses())
async def import_numbers(
    name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep, guard: Idempotent,
    file: Annotated[UploadFile, File(description="CSV with a 'number' (or 'phone') column and "
                                                 "an optional 'note' column; or one number a "
                                                 "line.")],
) -> ImportOut:
    """Add a file's numbers to the list (a DNC group is created if missing). Bad rows come back
    with their line and reason, the good ones are kept; a file that is not a list of numbers is
    refused and nothing is written."""
    with tempfile.TemporaryDirectory(prefix="psms-dnc-") as folder:
        path = Path(folder) / "upload.csv"
        with path.open("wb") as target:  # streamed to disk: a list may not fit in memory
            await run_in_threadpool(shutil.copyfileobj, file.file, target)

        def run_import() -> ImportOut:
            summary = dnc_import.import_numbers(engine, bu, clock, path, name,
                                                file.filename or "the upload")
            return ImportOut(
                list_name=summary.list_name, rows_read=summary.rows_read, added=summary.added,
                already_listed=summary.already_listed, rejected=summary.rejected,
                rejected_rows=[ImportErrorOut(line=e.line, field=e.field, reason=e.reason)
                               for e in summary.errors])

        return await run_in_threadpool(guard.run, run_import)


@router.get("/lists/{name}/export", response_class=StreamingResponse, responses={
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "number,source,note,added_at; one line per entry"}})
def export_list(name: str, bu: CurrentBu, engine: EngineDep) -> StreamingResponse:
    """The list as CSV, streamed (a page of entries at a time, no connection held between)."""
    return StreamingResponse(dnc_export.csv_chunks(engine, bu, name), media_type="text/csv",
                             headers={"Content-Disposition":
                                      f'attachment; filename="dnc-{quote(name)}.csv"'})


@router.post("/removals")
def remove_numbers(body: RemoveIn, bu: CurrentBu, engine: EngineDep,
                   clock: ClockDep) -> ChangeOut:
    """Take numbers off a list."""
    change = administration.dnc_remove(engine, bu, body.numbers, body.group, clock=clock,
                                       source="api")
    return ChangeOut(list_name=change.list_name, changed=change.changed, invalid=change.invalid)


@router.get("/numbers/{number}")
def check_number(number: str, bu: CurrentBu, engine: EngineDep) -> CheckOut:
    """Which of the tenant's DNC lists hold the number."""
    with blame("number"):
        lists = administration.dnc_check(engine, bu, number)
    return CheckOut(number=number, lists=lists)
