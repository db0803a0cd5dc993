"""A skill's or campaign's report as JSON, or as CSV (state, skip_reason, messages)."""

from __future__ import annotations

import csv
import io
from typing import Literal

from fastapi.responses import JSONResponse, Response

from proactive_sms.services import reporting

ReportFormat = Literal["json", "csv"]

# For the OpenAPI: both media types the report endpoints answer with.
REPORT_RESPONSES = {200: {"content": {
    "application/json": {"schema": {"type": "object"}},
    "text/csv": {"schema": {"type": "string"}},
}, "description": "The report"}}


def render(report: reporting.Report, fmt: ReportFormat) -> Response:
    if fmt == "json":
        return JSONResponse(report.as_dict())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["state", "skip_reason", "messages"])
    for state, count in report.as_dict()["by_state"].items():
        if state != "skipped":
            writer.writerow([state, "", count])
    for reason, count in sorted(report.skipped_by_reason.items()):
        writer.writerow(["skipped", reason, count])
    return Response(out.getvalue(), media_type="text/csv")
