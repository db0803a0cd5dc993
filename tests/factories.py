"""One-line makers for what tests need: calling-list files, registrations, skills."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services import administration, importing, launching
from proactive_sms.store.tenancy import BusinessUnit

HEADER = ["ExternalId", "FirstName", "LastName", "PhoneNumber", "IsCellPhone", "PostalCode"]


def us_number(i: int, area: str = "212") -> str:
    """A distinct valid US number for each i (up to 10 million)."""
    exchange = 200 + (i // 10_000) % 800
    return f"{area}{exchange:03d}{i % 10_000:04d}"


def write_csv(path: Path, rows: Iterable[Sequence[str]], header: Sequence[str] = HEADER,
              delimiter: str = ",", bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def person(i: int, **overrides: str) -> list[str]:
    values = {"ExternalId": f"C{i:06d}", "FirstName": f"Ann{i}", "LastName": "Lee",
              "PhoneNumber": us_number(i), "IsCellPhone": "true", "PostalCode": "10001"}
    values.update(overrides)
    return [values[h] for h in HEADER]


def import_people(engine: Engine, bu: BusinessUnit, clock: Clock, tmp_path: Path, count: int,
                  name: str = "people") -> importing.ImportSummary:
    path = write_csv(tmp_path / f"{name}.csv", (person(i) for i in range(count)))
    return importing.import_calling_list(engine, bu, name, path, clock)


def registration(engine: Engine, bu: BusinessUnit, clock: Clock, code: str = "55501",
                 kind: str = "short", throughput: float = 100.0, dnc_group: str | None = None,
                 connection: str | None = None):
    return administration.add_registration(engine, bu, clock, code=code, kind=kind,
                                           throughput_per_s=throughput, connection=connection,
                                           dnc_group=dnc_group)


def skill(engine: Engine, bu: BusinessUnit, clock: Clock, name: str = "notice",
          code: str = "55501", list_name: str = "people", **options):
    return administration.create_skill(engine, bu, clock, name=name, registration=code,
                                       calling_list=list_name, **options)


def launched_skill(engine: Engine, bu: BusinessUnit, clock: Clock, tmp_path: Path,
                   count: int, message: str = "Hi {FirstName}, a bonus shift is open.",
                   **options):
    import_people(engine, bu, clock, tmp_path, count)
    registration(engine, bu, clock)
    created = skill(engine, bu, clock, **options)
    launching.start_skill(engine, created.id, clock, message_text=message)
    return created
