"""Turning one row of a calling-list file into a record, or into a precise reason it is bad."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from proactive_sms.domain import calling_list_fields as f
from proactive_sms.domain.calling_list_fields import ColumnMapping
from proactive_sms.domain.phone import PhoneResult


class RowProblem(enum.StrEnum):
    BAD_NUMBER = "bad_number"
    MISSING_FIELD = "missing_field"
    WRONG_COLUMN_COUNT = "wrong_column_count"
    DUPLICATE_EXTERNAL_ID = "duplicate_external_id"
    BAD_DATE = "bad_date"
    BAD_VALUE = "bad_value"


class SmsProblem(enum.StrEnum):
    NO_MOBILE_NUMBER = "no_mobile_number"
    INVALID_NUMBER = "invalid_number"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line in the file (the header is line 1)
    problem: RowProblem
    message: str  # says what is wrong and with which field
    field: str | None = None


class ParsedRecord(NamedTuple):
    """A good row. A named tuple, not a frozen dataclass: an import makes a million of them,
    and building a frozen dataclass costs several times as much."""

    line: int
    external_id: str
    phone: str | None
    sms_destination: str | None
    sms_problem: SmsProblem | None
    expiration_date: date | None
    time_zone: str | None
    postal_code: str | None
    fields: dict[str, str]  # every mapped field with a value, as given in the file


_TRUE = {"true", "t", "yes", "y", "1", "x"}
_FALSE = {"false", "f", "no", "n", "0", ""}
_BOOLS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%m/%d/%y", "%d.%m.%Y")

Normalizer = Callable[[str, str], PhoneResult]


def parse_bool(raw: str) -> bool | None:
    folded = raw.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


@functools.lru_cache(maxsize=4096)  # expiration dates repeat across a list; strptime is slow
def parse_date(raw: str) -> date | None:
    text = raw.strip()
    if "T" in text:
        text = text.split("T", 1)[0]
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


class RecordParser:
    """Parses rows for one mapping and region; `normalize` is domain.phone.normalize."""

    def __init__(self, mapping: ColumnMapping, region: str, normalize: Normalizer) -> None:
        self.mapping = mapping
        self.region = region
        self.normalize = normalize
        self._width = len(mapping.headers)
        self._named = [(i, name) for i, name in enumerate(mapping.fields) if name is not None]
        self._has_external_id = mapping.index_of(f.EXTERNAL_ID) is not None

    def parse(self, line: int, row: Sequence[str]) -> ParsedRecord | RowError:
        if len(row) != self._width:
            return RowError(
                line, RowProblem.WRONG_COLUMN_COUNT,
                f"expected {self._width} columns, found {len(row)}",
            )
        values = {name: value for i, name in self._named if (value := row[i].strip())}

        phone_raw = values.get(f.PHONE)
        sms_raw = values.get(f.SMS_PHONE)
        phone, phone_error = self._number(phone_raw, f.PHONE, line)
        if sms_raw is not None and sms_raw == phone_raw:
            # Lists often give the cell number in both columns: the same text, the same answer.
            sms, sms_error = phone, _renamed(phone_error, f.SMS_PHONE)
        else:
            sms, sms_error = self._number(sms_raw, f.SMS_PHONE, line)
        if phone is None and sms is None:
            if phone_error or sms_error:
                return phone_error or sms_error  # type: ignore[return-value]
            return RowError(
                line, RowProblem.MISSING_FIELD,
                "missing required field: PhoneNumber or SMSPhoneNumber", f.PHONE,
            )

        is_cell_raw = values.get(f.IS_CELL, "")
        is_cell = _BOOLS.get(is_cell_raw)  # the usual spellings, as they are; else the full rule
        if is_cell is None:
            is_cell = parse_bool(is_cell_raw)
        if is_cell is None:
            return RowError(
                line, RowProblem.BAD_VALUE,
                f"IsCellPhone must be true or false, found '{is_cell_raw}'", f.IS_CELL,
            )

        expiration = None
        if f.EXPIRATION_DATE in values:
            expiration = parse_date(values[f.EXPIRATION_DATE])
            if expiration is None:
                return RowError(
                    line, RowProblem.BAD_DATE,
                    f"ExpirationDate '{values[f.EXPIRATION_DATE]}' is not a date "
                    "(use YYYY-MM-DD or MM/DD/YYYY)", f.EXPIRATION_DATE,
                )

        # Where a text goes: SMSPhoneNumber when present, else PhoneNumber of a cell phone.
        sms_problem: SmsProblem | None = None
        destination = sms
        if destination is None:
            if sms_error is not None:
                sms_problem = SmsProblem.INVALID_NUMBER
            elif is_cell and phone is not None:
                destination = phone
            else:
                sms_problem = SmsProblem.NO_MOBILE_NUMBER

        if self._has_external_id:
            external_id = values.get(f.EXTERNAL_ID)
            if not external_id:
                return RowError(
                    line, RowProblem.MISSING_FIELD, "missing required field: ExternalId",
                    f.EXTERNAL_ID,
                )
        else:
            # Without an ExternalId column the number is the record's identity, so a re-import
            # of the same file updates instead of doubling.
            external_id = destination or phone or ""

        return ParsedRecord(  # positional: a third cheaper than by keyword, a million times
            line, external_id, phone, destination, sms_problem, expiration,
            values.get(f.TIME_ZONE), values.get(f.POSTAL_CODE), values,
        )

    def _number(self, raw: str | None, field: str, line: int) -> tuple[str | None, RowError | None]:
        if not raw:
            return None, None
        result = self.normalize(raw, self.region)
        if result.e164 is None:
            return None, RowError(line, RowProblem.BAD_NUMBER, f"{field}: {result.detail}", field)
        return result.e164, None


def _renamed(error: RowError | None, field: str) -> RowError | None:
    """The error `_number` gives for the same number in another field."""
    if error is None:
        return None
    detail = error.message.split(": ", 1)[1]
    return RowError(error.line, error.problem, f"{field}: {detail}", field)
