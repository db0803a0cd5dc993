"""A skill's or campaign's report as JSON, or as CSV (state, skip_reason, messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from proactive_sms.services import report_export, reporting

ReportFormat = Literal["json", "csv"]

# For the OpenAPI only: `render` writes `Report.as_dict()`, and the schemathesis test checks that
# every report answered matches this.
class ReportOut(BaseModel):
    """A skill's or campaign's report."""

    title: str
    skills: list[str]
    statuses: dict[str, str] = Field(description="Each skill's status.")
    total: int
    by_state: dict[str, int] = Field(description="Texts by state, every state named.")
    skipped_by_reason: dict[str, int]
    segments_sent: int
    delivery_rate: float | None = Field(description="Delivered / texts with a final receipt.")
    achieved_rate_per_s: float | None
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    inbound: dict[str, int] = Field(description="Replies of the people texted, by kind.")
    waiting: int = Field(description="Pending texts held until their window opens.")
    next_window_at: datetime | None
    spend: dict | None = Field(None, description="What the texts that left cost: currency, "
                                                 "spent, spent_texts, spent_segments, budget, "
                                                 "left, unpriced_texts (amounts: decimal text).")
    clicks: int = Field(description="Clicks on the texts' tracked links (link-preview bots "
                                    "are not counted).")
    unique_clickers: int = Field(description="Recipients who clicked at least once.")
    click_through_rate: float | None = Field(description="unique_clickers / delivered texts "
                                                         "(/ sent texts without receipts).")


# For the OpenAPI: both media types the report endpoints answer with.
REPORT_RESPONSES = {200: {"content": {
    "application/json": {"schema": ReportOut.model_json_schema()},
    "text/csv": {"schema": {"type": "string"}},
}, "description": "The report"}}


def render(report: reporting.Report, fmt: ReportFormat) -> Response:
    if fmt == "json":
        return JSONResponse(report.as_dict())
    return Response(report_export.report_csv(report), media_type=report_export.MEDIA_TYPE)
