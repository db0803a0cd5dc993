"""Moments in API answers always say their zone: SQLite gives back naive UTC, PostgreSQL aware
UTC, and RFC 3339 date-times need an offset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
