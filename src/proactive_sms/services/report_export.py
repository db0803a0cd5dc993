"""A report as CSV (state, skip_reason, messages; then its spend): the one spelling the API's
`?format=csv`, the console's export and `psms report --csv` answer with."""

from __future__ import annotations

import io

from proactive_sms.domain.spreadsheet_cells import csv_writer
from proactive_sms.services.reporting import Report

MEDIA_TYPE = "text/csv"


def report_csv(report: Report) -> str:
    """One row per state (every state named), then one per skip reason."""
    out = io.StringIO()
    writer = csv_writer(out)  # spreadsheet-safe cells, as every CSV we write
    writer.writerow(["state", "skip_reason", "messages"])
    for state, count in report.as_dict()["by_state"].items():
        if state != "skipped":
            writer.writerow([state, "", count])
    for reason, count in sorted(report.skipped_by_reason.items()):
        writer.writerow(["skipped", reason, count])
    if report.spend is not None:
        # What the texts that left cost, and the budget: a section of its own after a blank row
        spent = report.spend.as_dict()
        writer.writerow([])
        writer.writerow(["spend", "currency", "spent", "texts", "segments", "budget", "left"])
        writer.writerow(["spend", spent["currency"] or "", spent["spent"], spent["spent_texts"],
                         spent["spent_segments"], spent["budget"] or "", spent["left"] or ""])
    return out.getvalue()
