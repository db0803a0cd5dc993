"""The fields of a calling list and how a file's columns map onto them.

Column names are matched blind to case, spaces, underscores and dashes, with the common aliases a
contact center's exports use ("Cell", "Mobile", "SMS Number" are the SMS phone number).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PHONE = "PhoneNumber"
SMS_PHONE = "SMSPhoneNumber"
IS_CELL = "IsCellPhone"
FIRST_NAME = "FirstName"
LAST_NAME = "LastName"
EXTERNAL_ID = "ExternalId"
TIME_ZONE = "TimeZone"
POSTAL_CODE = "PostalCode"
EXPIRATION_DATE = "ExpirationDate"

STANDARD_FIELDS: tuple[str, ...] = (
    PHONE, SMS_PHONE, IS_CELL, FIRST_NAME, LAST_NAME, EXTERNAL_ID, TIME_ZONE, POSTAL_CODE,
    EXPIRATION_DATE,
)

_ALIASES: dict[str, str] = {
    "phone": PHONE, "phonenumber": PHONE, "telephone": PHONE, "number": PHONE, "tel": PHONE,
    "homephone": PHONE,
    "smsphonenumber": SMS_PHONE, "smsphone": SMS_PHONE, "smsnumber": SMS_PHONE, "sms": SMS_PHONE,
    "cell": SMS_PHONE, "cellphone": SMS_PHONE, "cellnumber": SMS_PHONE, "mobile": SMS_PHONE,
    "mobilephone": SMS_PHONE, "mobilenumber": SMS_PHONE,
    "iscellphone": IS_CELL, "iscell": IS_CELL, "ismobile": IS_CELL,
    "firstname": FIRST_NAME, "first": FIRST_NAME, "givenname": FIRST_NAME,
    "lastname": LAST_NAME, "last": LAST_NAME, "surname": LAST_NAME, "familyname": LAST_NAME,
    "externalid": EXTERNAL_ID, "id": EXTERNAL_ID, "customerid": EXTERNAL_ID,
    "accountnumber": EXTERNAL_ID,
    "timezone": TIME_ZONE, "tz": TIME_ZONE,
    "postalcode": POSTAL_CODE, "zip": POSTAL_CODE, "zipcode": POSTAL_CODE, "postcode": POSTAL_CODE,
    "expirationdate": EXPIRATION_DATE, "expires": EXPIRATION_DATE, "expiry": EXPIRATION_DATE,
    "expirydate": EXPIRATION_DATE,
}

_FOLD = re.compile(r"[\s_\-.]+")


def field_key(name: str) -> str:
    """The comparison key of a field or column name: case, spaces, underscores, dashes ignored."""
    return _FOLD.sub("", name).casefold()


def standard_field(name: str) -> str | None:
    """The standard field a name stands for, or None when it is a custom field."""
    return _ALIASES.get(field_key(name))


def auto_field(header: str) -> str:
    """The field a column fills when nothing says otherwise: the standard field its name or
    alias stands for, else a custom field of its own name."""
    return standard_field(header) or header.strip()


class MappingError(ValueError):
    """A file's columns cannot be mapped: says which column or field is wrong."""


@dataclass(frozen=True)
class ColumnMapping:
    """For each column of the file, the field it fills (None: the column is ignored)."""

    headers: tuple[str, ...]
    fields: tuple[str | None, ...]

    def index_of(self, field: str) -> int | None:
        try:
            return self.fields.index(field)
        except ValueError:
            return None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if f is not None)


def map_columns(headers: Sequence[str],
                overrides: Mapping[str, str] | None = None) -> ColumnMapping:
    """Map every header to a field: overrides first (COLUMN=FIELD), then by name and alias.

    A column no standard field matches becomes a custom field of the same name. An override may
    map a column to "-" to ignore it.
    """
    overrides = dict(overrides or {})
    by_key = {field_key(h): i for i, h in enumerate(headers)}
    fields: list[str | None] = [None] * len(headers)
    for column, target in overrides.items():
        index = by_key.get(field_key(column))
        if index is None:
            raise MappingError(
                f"the mapping names column '{column}', which the file does not have "
                f"(columns: {', '.join(headers)})"
            )
        if target.strip() == "-":
            fields[index] = None
            continue
        if not target.strip():
            raise MappingError(f"column '{column}': give the field it fills (or '-' to "
                               "ignore it)")
        fields[index] = standard_field(target) or target.strip()
    overridden = {by_key[field_key(c)] for c in overrides}
    for i, header in enumerate(headers):
        if i in overridden:
            continue
        if not header.strip():
            raise MappingError(f"column {i + 1} has an empty header")
        fields[i] = auto_field(header)
    seen: dict[str, int] = {}
    for i, field in enumerate(fields):
        if field is None:
            continue
        key = field_key(field)
        if key in seen:
            raise MappingError(
                f"columns '{headers[seen[key]]}' and '{headers[i]}' both map to field {field}; "
                f"map one of them to another field, or ignore it ('{headers[i]}=-')"
            )
        seen[key] = i
    mapping = ColumnMapping(tuple(headers), tuple(fields))
    if mapping.index_of(PHONE) is None and mapping.index_of(SMS_PHONE) is None:
        raise MappingError(
            "no phone column: the file needs a column for PhoneNumber or SMSPhoneNumber "
            f"(columns: {', '.join(headers)}); map one to PhoneNumber (COLUMN=PhoneNumber)"
        )
    return mapping
