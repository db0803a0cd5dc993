"""A DNC list as CSV (number, source, note, added_at), streamed a page of entries at a time with
no connection held between pages, so a list of millions neither fills memory nor holds the
database while a slow client reads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Engine

from proactive_sms.domain.spreadsheet_cells import csv_writer
from proactive_sms.services import listing
from proactive_sms.services.listing import PageRequest
from proactive_sms.store.tenancy import BusinessUnit

EXPORT_PAGE = 1000
HEADER = ["number", "source", "note", "added_at"]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def csv_chunks(engine: Engine, bu: BusinessUnit, list_name: str) -> Iterator[str]:
    """The list's CSV, a page of entries per chunk. The first page is read now, so an unknown
    list raises NotFound here, before anything is sent. Cells a spreadsheet would run as
    formulas get a leading apostrophe (domain.spreadsheet_cells); E.164 numbers stay as they
    are."""
    first = listing.dnc_entries_page(engine, bu, list_name, PageRequest(0, EXPORT_PAGE))

    def chunks() -> Iterator[str]:
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(HEADER)
        page = first
        while True:
            for entry in page.items:
                writer.writerow([entry.phone, entry.source, entry.note,
                                 _utc(entry.created_at).isoformat()])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if not page.more or page.last_id is None:
                return
            page = listing.dnc_entries_page(engine, bu, list_name,
                                            PageRequest(page.last_id, EXPORT_PAGE))

    return chunks()
