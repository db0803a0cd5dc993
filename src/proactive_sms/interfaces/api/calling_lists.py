"""`/v1/calling-lists/{name}/imports`: upload a CSV with a column mapping; get the report."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import invalid
from proactive_sms.services import importing

router = APIRouter(prefix="/calling-lists", tags=["calling lists"])


class RejectedRow(BaseModel):
    line: int = Field(description="1-based line in the file (the header is line 1).")
    field: str | None
    problem: str
    reason: str


class ImportReport(BaseModel):
    list_name: str
    rows_read: int
    accepted: int
    rejected: int
    records_in_list: int
    columns: dict[str, str | None] = Field(description="Each header and the field it fills.")
    rejected_by_problem: dict[str, int]
    rejected_rows: list[RejectedRow] = Field(
        description=f"The first {importing.KEPT_ERRORS} rejected rows.")


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


@router.post("/{name}/imports")
async def import_calling_list(
    name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
    file: Annotated[UploadFile, File(description="The CSV (or tab-separated) list.")],
    mapping: Annotated[str | None, Form(
        description='JSON object, column -> field ("-" ignores a column); '
                    "unmapped columns map by name and alias.")] = None,
) -> ImportReport:
    """Import (upsert on ExternalId) into the BU's list of that name; bad rows are reported with
    their line numbers and kept out, good rows are kept."""
    overrides = _mapping(mapping)
    with tempfile.TemporaryDirectory(prefix="psms-upload-") as folder:
        path = Path(folder) / "upload.csv"
        with path.open("wb") as target:  # streamed to disk: a list may not fit in memory
            await run_in_threadpool(shutil.copyfileobj, file.file, target)
        try:
            summary = await run_in_threadpool(importing.import_calling_list, engine, bu, name,
                                              path, clock, overrides)
        except importing.ImportRefused as exc:
            # The service names the file by its path: name the upload instead.
            raise importing.ImportRefused(
                str(exc).replace(str(path), file.filename or "the upload")) from exc
    return ImportReport(
        list_name=summary.list_name, rows_read=summary.rows_read, accepted=summary.accepted,
        rejected=summary.rejected, records_in_list=summary.records_in_list,
        columns=summary.columns,
        rejected_by_problem={str(k): v for k, v in summary.rejected_by_problem.items()},
        rejected_rows=[RejectedRow(line=e.line, field=e.field, problem=str(e.problem),
                                   reason=e.message) for e in summary.errors])
