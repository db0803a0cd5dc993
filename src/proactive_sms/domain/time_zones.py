"""Where a recipient is, for calling windows: candidate IANA time zones and the US state.

Sources, in order; the first that gives any zone wins:
1. the record's TimeZone field: an IANA name in any case ("america/chicago"), or a common US
   form ("EST", "Central", "US/Pacific", Windows names such as "Eastern Standard Time");
2. its PostalCode as a US ZIP (5 digits or ZIP+4), from the offline `zipcodes` package; only
   for North American numbers (or no number), since a French "75001" is not Addison, Texas;
3. the number, by `phonenumbers.timezone`: an area code can span zones (907 -> Adak and
   Anchorage) and a toll-free number gives every NANP zone; the window must hold in all.

Ambiguous labels give every zone they may mean: "MST" is Denver in winter but Arizona all year,
so it gives both, and a text waits until both are inside the window.

The state comes from the ZIP, else from the area code (phonenumbers' geocoder names the state
of every geographic US area code, as "Florida" or "New York, NY").

Costs: each source is cached on what decides it, not on the whole record: the field on its
text, the ZIP on its text (ZIP data loads per 3-digit prefix, ~1 ms the first time), and the
number on its leading digits (the prefix length that phone.py proves decides phonenumbers'
verdict), so a million distinct numbers share a few thousand cached answers.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from typing import Literal

import phonenumbers
import zipcodes
from phonenumbers import NumberParseException
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number

from proactive_sms.domain.phone import _nanp_decisive_lengths, mask, region_of

Source = Literal["time_zone_field", "postal_code", "phone_number", "none"]

# NANP territories with their own ISO region in phonenumbers: their "state" for rules.
_TERRITORIES = frozenset({"PR", "VI", "GU", "AS", "MP"})
_PREFIX_CACHE_LIMIT = 200_000  # entries before a prefix cache is reset


@dataclass(frozen=True, slots=True)
class ZoneResolution:
    """The candidate zones of a recipient, which source gave them, and a sentence for people."""

    zones: tuple[str, ...]  # IANA names, all known to zoneinfo; empty when none was found
    source: Source
    detail: str  # e.g. "ZIP 33101 (FL) -> America/New_York"


def resolve_zones(
    time_zone: str | None, postal_code: str | None, e164: str | None
) -> ZoneResolution:
    """The recipient's candidate zones: TimeZone field, else US ZIP, else the number."""
    notes: list[str] = []
    if time_zone and not time_zone.isspace():
        found = _field_resolution(time_zone)
        if found.zones:
            return found
        notes.append(found.detail)
    if postal_code and not postal_code.isspace():
        if _postal_code_applies(e164):
            found = _postal_resolution(postal_code)
            if found.zones:
                return _with_notes(found, notes)
            notes.append(found.detail)
        else:
            notes.append("PostalCode not used: the number is not North American")
    if e164 and not e164.isspace():
        found = _number_resolution(e164)
        if found.zones:
            return _with_notes(found, notes)
        notes.append(found.detail)
    if not notes:
        notes.append("no TimeZone, PostalCode or number")
    return ZoneResolution((), "none", "; ".join(notes))


def us_state_for(postal_code: str | None, e164: str | None) -> str | None:
    """The USPS code of the recipient's state ("FL"): from the ZIP, else from the area code.

    NANP territories give their code ("PR"); non-US numbers, toll-free numbers and unknown
    ZIPs give None.
    """
    if postal_code and not postal_code.isspace() and _postal_code_applies(e164):
        zip5, _ = _zip5(postal_code)
        entry = _zip_entry(zip5) if zip5 else None
        if entry is not None and entry[0]:
            return entry[0]
    if e164:
        return _state_of_number(e164.strip())
    return None


@functools.lru_cache(maxsize=4096)
def zone_info(name: str) -> zoneinfo.ZoneInfo:
    """The ZoneInfo for an IANA name; ValueError when there is no such zone."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


def is_known_zone(name: str) -> bool:
    try:
        zone_info(name)
    except ValueError:
        return False
    return True


def _with_notes(found: ZoneResolution, notes: list[str]) -> ZoneResolution:
    if not notes:
        return found
    return ZoneResolution(found.zones, found.source, "; ".join([*notes, found.detail]))


def _zones_text(zones: tuple[str, ...]) -> str:
    if len(zones) <= 4:
        return ", ".join(zones)
    return f"{len(zones)} zones ({', '.join(zones[:3])}, ...)"


# --- the TimeZone field ---------------------------------------------------------------------

_NEW_YORK = "America/New_York"
_CHICAGO = "America/Chicago"
_DENVER = "America/Denver"
_PHOENIX = "America/Phoenix"
_LOS_ANGELES = "America/Los_Angeles"
_ANCHORAGE = "America/Anchorage"
_ADAK = "America/Adak"
_HONOLULU = "Pacific/Honolulu"

# Common US forms, matched without regard to case, spaces or "_" (checked before IANA names,
# since IANA's own "EST", "MST" and "HST" are fixed offsets that ignore daylight saving time).
_US_FORMS: dict[tuple[str, ...], tuple[str, ...]] = {
    (_NEW_YORK,): (
        "EST", "EDT", "ET", "Eastern", "Eastern Time", "Eastern Standard Time",
        "Eastern Daylight Time", "US/Eastern", "EST5EDT",
    ),
    (_CHICAGO,): (
        "CST", "CDT", "CT", "Central", "Central Time", "Central Standard Time",
        "Central Daylight Time", "US/Central", "CST6CDT",
    ),
    (_DENVER,): (
        "MDT", "MT", "Mountain", "Mountain Time", "Mountain Standard Time",
        "Mountain Daylight Time", "US/Mountain", "MST7MDT",
    ),
    (_DENVER, _PHOENIX): ("MST",),  # Denver in winter, Arizona all year: either may be meant
    (_PHOENIX,): ("Arizona", "Arizona Time", "US/Arizona", "US Mountain Standard Time"),
    (_LOS_ANGELES,): (
        "PST", "PDT", "PT", "Pacific", "Pacific Time", "Pacific Standard Time",
        "Pacific Daylight Time", "US/Pacific", "PST8PDT",
    ),
    (_ANCHORAGE,): (
        "AKST", "AKDT", "AKT", "Alaska", "Alaska Time", "Alaska Standard Time",
        "Alaskan Standard Time", "Alaska Daylight Time", "US/Alaska",
    ),
    (_HONOLULU,): (
        "HST", "HAST", "Hawaii", "Hawaii Time", "Hawaii Standard Time", "Hawaiian Standard Time",
        "US/Hawaii",
    ),
    (_ADAK,): ("HDT", "Aleutian", "US/Aleutian"),  # only the Aleutians keep Hawaii summer time
    (_HONOLULU, _ADAK): ("Hawaii-Aleutian", "Hawaii-Aleutian Standard Time"),
}


def _form_key(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


_US_FORM_ZONES = {_form_key(form): zones for zones, forms in _US_FORMS.items() for form in forms}


@functools.lru_cache(maxsize=4096)
def _field_resolution(time_zone: str) -> ZoneResolution:
    shown = time_zone.strip()
    if len(shown) > 40:
        shown = shown[:39] + "\u2026"
    zones = _US_FORM_ZONES.get(_form_key(time_zone))
    if zones is None:
        name = _iana_names().get(time_zone.strip().casefold())
        zones = (name,) if name is not None else ()
    if not zones:
        return ZoneResolution((), "none", f"TimeZone {shown!r} is not a known time zone")
    return ZoneResolution(zones, "time_zone_field", f"TimeZone {shown!r} -> {_zones_text(zones)}")


@functools.cache
def _iana_names() -> dict[str, str]:
    """Every IANA name zoneinfo can load, by its case-folded form (built once, ~0.2 s)."""
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


# --- the PostalCode as a US ZIP ----------------------------------------------------------------

_ZIP = re.compile(r"(\d{5})(?:[-\s]?\d{4})?")
_ZIP_LOST_ZEROS = re.compile(r"(\d{3,4})(?:-(\d{4}))?")  # "2134": 02134 read as a number


def _postal_code_applies(e164: str | None) -> bool:
    return not e164 or e164.strip().startswith("+1")


def _zip5(postal_code: str) -> tuple[str | None, str]:
    """The 5-digit ZIP in a postal code and a note on how it was read, or (None, why not)."""
    text = postal_code.strip()
    match = _ZIP.fullmatch(text)
    if match:
        return match[1], ""
    match = _ZIP_LOST_ZEROS.fullmatch(text)
    if match:
        # Spreadsheets drop the leading zeros of New England, New Jersey and Puerto Rico ZIPs.
        return match[1].zfill(5), "; leading zeros restored"
    if text.isdecimal() and len(text) in (7, 8):  # ZIP+4 that lost its zeros: 021341234
        return text.zfill(9)[:5], "; leading zeros restored"
    return None, ""


@functools.lru_cache(maxsize=65_536)
def _postal_resolution(postal_code: str) -> ZoneResolution:
    shown = postal_code.strip()[:20]
    zip5, how = _zip5(postal_code)
    if zip5 is None:
        return ZoneResolution((), "none", f"PostalCode {shown!r} is not a US ZIP")
    entry = _zip_entry(zip5)
    if entry is None:
        return ZoneResolution((), "none", f"ZIP {zip5} is not a known US ZIP{how}")
    state, zone = entry
    if not zone or not is_known_zone(zone):
        return ZoneResolution((), "none", f"ZIP {zip5} ({state}{how}) has no time zone")
    return ZoneResolution((zone,), "postal_code", f"ZIP {zip5} ({state}{how}) -> {zone}")


_zip_blocks: dict[str, dict[str, tuple[str, str]]] = {}


def load_zip_table() -> None:
    """Load zipcodes' table now: its first query loads the whole of it (~3 s of CPU on a slow
    core), which a dispatcher would otherwise spend in its first claim, delaying a skill's
    first text by that much."""
    zipcodes.is_real("10001")


def _zip_entry(zip5: str) -> tuple[str, str] | None:
    """(state, IANA zone) of a 5-digit ZIP, or None when zipcodes does not know it.

    zipcodes scans its whole table on every query (~1 ms) and its full list costs ~140 MB
    as dicts, so we load one 3-digit prefix block at a time and keep only these two fields.
    """
    block = _zip_blocks.get(zip5[:3])
    if block is None:
        block = _zip_blocks[zip5[:3]] = {
            row["zip_code"]: (row["state"] or "", row["timezone"] or "")
            for row in zipcodes.similar_to(zip5[:3])
        }
    return block.get(zip5)


# --- the number -------------------------------------------------------------------------------

_NANP_LEADING = frozenset("23456789")
_by_prefix: dict[str, ZoneResolution] = {}


def _nanp_national(e164: str) -> str | None:
    """The 10-digit national number of "+1NXXNXXXXXX", else None."""
    if len(e164) == 12 and e164.startswith("+1") and e164[2] in _NANP_LEADING:
        national = e164[2:]
        if national.isdecimal():
            return national
    return None


def _number_resolution(e164: str) -> ZoneResolution:
    text = e164.strip()
    national = _nanp_national(text)
    if national is None:
        return _parsed_number_resolution(text)
    lengths = _nanp_decisive_lengths()
    decisive = lengths.get(national[:3]) if lengths is not None else None
    if decisive is None:  # the proof could not be made: no prefix can stand for the number
        return _nanp_resolution(national)
    # Validity and type need `decisive` digits; phonenumbers' zone table for +1 keys on at
    # most 6 national digits (NPA-NXX): any number sharing the longer prefix gets our answer.
    key = national[: max(decisive, 6)]
    found = _by_prefix.get(key)
    if found is None:
        if len(_by_prefix) >= _PREFIX_CACHE_LIMIT:
            _by_prefix.clear()
        found = _by_prefix[key] = _nanp_resolution(national)
    return found


def _nanp_resolution(national: str) -> ZoneResolution:
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
    zones = _known_zones(time_zones_for_number(number))
    where = f"area code {national[:3]}"
    if not zones:
        return ZoneResolution((), "none", f"{where} has no time zone")
    return ZoneResolution(zones, "phone_number", f"{where} -> {_zones_text(zones)}")


@functools.lru_cache(maxsize=65_536)
def _parsed_number_resolution(text: str) -> ZoneResolution:
    shown = mask(text)
    try:
        number = phonenumbers.parse(text, None)
    except NumberParseException:
        return ZoneResolution((), "none", f"number {shown} is not an E.164 number")
    zones = _known_zones(time_zones_for_number(number))
    if not zones:
        return ZoneResolution((), "none", f"number {shown} has no time zone")
    return ZoneResolution(zones, "phone_number", f"number {shown} -> {_zones_text(zones)}")


def _known_zones(zones: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    # Etc/Unknown means "none"; a name this machine's zone data lacks cannot be used either.
    return tuple(z for z in zones if z != UNKNOWN_TIMEZONE and is_known_zone(z))


# --- the state of a number -------------------------------------------------------------------

# phonenumbers' geocoder names US area codes as "Florida" or "City, ST".
_STATE_CODES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Washington D.C.": "DC", "District of Columbia": "DC",
}
_USPS_CODES = frozenset(_STATE_CODES.values()) | _TERRITORIES

_state_by_area: dict[str, str] = {}  # every US geographic area code lies in one state
_no_state_by_prefix: dict[str, None] = {}


def _state_of_number(e164: str) -> str | None:
    national = _nanp_national(e164)
    if national is None:
        return None
    state = _state_by_area.get(national[:3])
    if state is not None:
        return state
    if national[:6] in _no_state_by_prefix:
        return None
    region = region_of(e164)
    if region in _TERRITORIES:
        return region
    state = _geocoded_state(national) if region == "US" else None
    if state is not None:
        _state_by_area[national[:3]] = state
    else:
        if len(_no_state_by_prefix) >= _PREFIX_CACHE_LIMIT:
            _no_state_by_prefix.clear()
        _no_state_by_prefix[national[:6]] = None
    return state


def _geocoded_state(national: str) -> str | None:
    # Imported here: loading the geocoder's data takes ~0.5 s, for callers that never need it.
    from phonenumbers import geocoder

    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
    description = geocoder.description_for_number(number, "en")
    if ", " in description:  # "New York, NY"
        code = description.rsplit(", ", 1)[1].strip()
        return code if code in _USPS_CODES else None
    return _STATE_CODES.get(description.strip())
