"""A report as CSV (state, skip_reason, messages): the one spelling the API's `?format=csv` and
the console's export both answer with."""

from __future__ import annotations

import io

from proactive_sms.domain.spreadsheet_cells import csv_writer
from proactive_sms.services.reporting import Report

MEDIA_TYPE = "text/csv"


def report_csv(report: Report) -> str:
    """One row per state (every state named), then one per skip reason, then the tracked
    links' counts (`clicks`, `unique_clickers`: docs/links.md)."""
    out = io.StringIO()
    writer = csv_writer(out)  # spreadsheet-safe cells, as every CSV we write
    writer.writerow(["state", "skip_reason", "messages"])
    for state, count in report.as_dict()["by_state"].items():
        if state != "skipped":
            writer.writerow([state, "", count])
    for reason, count in sorted(report.skipped_by_reason.items()):
        writer.writerow(["skipped", reason, count])
    writer.writerow(["clicks", "", report.clicks])
    writer.writerow(["unique_clickers", "", report.unique_clickers])
    return out.getvalue()
