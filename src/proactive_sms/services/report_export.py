"""A report as CSV (state, skip_reason, messages; cost, budget, currency on its `spent` row):
the one spelling the API's `?format=csv`, the console's export and `psms report --csv` answer
with."""

from __future__ import annotations

import io

from proactive_sms.domain.spreadsheet_cells import csv_writer
from proactive_sms.services.reporting import Report

MEDIA_TYPE = "text/csv"


def report_csv(report: Report) -> str:
    """One row per state (every state named), then one per skip reason, then (when the report
    has its spend) one `spent` row: the texts that left, what they cost and the budget, in the
    columns after `messages` (empty on the other rows, so a reader of the first three columns
    reads them as before); then the tracked links' counts (`clicks`, `unique_clickers`:
    docs/links.md)."""
    out = io.StringIO()
    writer = csv_writer(out)  # spreadsheet-safe cells, as every CSV we write
    writer.writerow(["state", "skip_reason", "messages", "cost", "budget", "currency"])
    for state, count in report.as_dict()["by_state"].items():
        if state != "skipped":
            writer.writerow([state, "", count, "", "", ""])
    for reason, count in sorted(report.skipped_by_reason.items()):
        writer.writerow(["skipped", reason, count, "", "", ""])
    if report.spend is not None:
        spent = report.spend.as_dict()
        writer.writerow(["spent", "", spent["spent_texts"], spent["spent"],
                         spent["budget"] or "", spent["currency"] or ""])
    writer.writerow(["clicks", "", report.clicks, "", "", ""])
    writer.writerow(["unique_clickers", "", report.unique_clickers, "", "", ""])
    return out.getvalue()
