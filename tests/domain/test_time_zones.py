"""Candidate time zones and the US state of a recipient: the field, the ZIP, the number."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import geocoder
from phonenumbers.timezone import time_zones_for_number

from proactive_sms.domain import time_zones
from proactive_sms.domain.time_zones import ZoneResolution, resolve_zones, us_state_for

NY, CHI, DEN, PHX, LA = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles",
)
ANC, ADAK, HNL = "America/Anchorage", "America/Adak", "Pacific/Honolulu"


# --- the TimeZone field ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "zones"),
    [
        ("America/Chicago", (CHI,)),
        ("america/chicago", (CHI,)),
        ("  AMERICA/LOS_ANGELES ", (LA,)),
        ("Europe/Paris", ("Europe/Paris",)),
        ("US/Eastern", (NY,)),
        ("us/central", (CHI,)),
        ("US/Michigan", ("US/Michigan",)),  # an IANA link zoneinfo can load
        ("EST", (NY,)),
        ("edt", (NY,)),
        ("Eastern", (NY,)),
        ("eastern  time", (NY,)),
        ("Eastern Standard Time", (NY,)),  # Windows name
        ("CST", (CHI,)),
        ("CDT", (CHI,)),
        ("Central", (CHI,)),
        ("MDT", (DEN,)),
        ("Mountain", (DEN,)),
        ("MST", (DEN, PHX)),  # Denver in winter, Arizona all year
        ("Arizona", (PHX,)),
        ("US Mountain Standard Time", (PHX,)),
        ("PST", (LA,)),
        ("PDT", (LA,)),
        ("Pacific", (LA,)),
        ("pacific_time", (LA,)),
        ("AKST", (ANC,)),
        ("AKDT", (ANC,)),
        ("Alaska", (ANC,)),
        ("HST", (HNL,)),
        ("Hawaii", (HNL,)),
        ("HDT", (ADAK,)),  # only the Aleutians keep Hawaii summer time
        ("utc", ("UTC",)),
    ],
)
def test_time_zone_field_forms_resolve_to_iana_zones(field: str, zones: tuple[str, ...]) -> None:
    found = resolve_zones(field, "33101", "+12125550123")
    assert found.zones == zones
    assert found.source == "time_zone_field"
    assert repr(field.strip()) in found.detail


def test_us_abbreviations_are_not_iana_fixed_offsets() -> None:
    # IANA has zones named EST, MST and HST that never observe daylight saving time.
    for abbreviation in ("EST", "MST", "HST"):
        assert abbreviation not in resolve_zones(abbreviation, None, None).zones


def test_field_that_disagrees_with_the_area_code_wins() -> None:
    found = resolve_zones("America/Los_Angeles", "10001", "+12125550123")
    assert found == ZoneResolution((LA,), "time_zone_field", "TimeZone 'America/Los_Angeles' -> "
                                   "America/Los_Angeles")


@pytest.mark.parametrize(
    "field", ["Mars/Olympus", "GMT-5", "Eastern-ish", "../etc/passwd", "x" * 80]
)
def test_unknown_field_falls_through_to_the_zip_and_says_so(field: str) -> None:
    found = resolve_zones(field, "60601", "+12125550123")
    assert found.zones == (CHI,)
    assert found.source == "postal_code"
    assert "is not a known time zone" in found.detail
    assert len(found.detail) < 200


@pytest.mark.parametrize("field", [None, "", "   "])
def test_empty_field_is_no_field(field: str | None) -> None:
    found = resolve_zones(field, None, "+13125550123")
    assert (found.zones, found.source) == ((CHI,), "phone_number")
    assert "TimeZone" not in found.detail


# --- the PostalCode --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postal_code", "zones", "state"),
    [
        ("10001", (NY,), "NY"),
        ("33101", (NY,), "FL"),
        ("32501", (CHI,), "FL"),  # Pensacola: Florida's panhandle is Central
        ("85001", (PHX,), "AZ"),
        ("96801", (HNL,), "HI"),
        ("99501", (ANC,), "AK"),
        ("80202", (DEN,), "CO"),
        ("90012-1234", (LA,), "CA"),
        ("90012 1234", (LA,), "CA"),
        ("900121234", (LA,), "CA"),
        (" 73102 ", (CHI,), "OK"),
        ("2134", (NY,), "MA"),  # 02134 that a spreadsheet read as a number
        ("21341234", (NY,), "MA"),
        ("601", ("America/Puerto_Rico",), "PR"),
    ],
)
def test_zip_gives_zone_and_state(postal_code: str, zones: tuple[str, ...], state: str) -> None:
    found = resolve_zones(None, postal_code, "+12125550123")
    assert found.zones == zones
    assert found.source == "postal_code"
    assert us_state_for(postal_code, "+12125550123") == state


def test_zip_detail_names_the_zip_the_state_and_restored_zeros() -> None:
    assert resolve_zones(None, "33101", None).detail == "ZIP 33101 (FL) -> America/New_York"
    assert resolve_zones(None, "2134", None).detail == (
        "ZIP 02134 (MA; leading zeros restored) -> America/New_York"
    )


@pytest.mark.parametrize(
    ("postal_code", "why"),
    [
        ("00000", "ZIP 00000 is not a known US ZIP"),
        ("K1A 0B6", "PostalCode 'K1A 0B6' is not a US ZIP"),
        ("1", "PostalCode '1' is not a US ZIP"),
        ("09001", "ZIP 09001 (AE) has no time zone"),  # an APO address: no zone in the data
    ],
)
def test_unusable_zip_falls_through_to_the_number(postal_code: str, why: str) -> None:
    found = resolve_zones(None, postal_code, "+13125550123")
    assert found.zones == (CHI,)
    assert found.source == "phone_number"
    assert found.detail == f"{why}; area code 312 -> America/Chicago"


def test_postal_code_is_a_us_zip_only_for_north_american_numbers() -> None:
    # 75001 is Addison, Texas, and the 1st arrondissement of Paris.
    found = resolve_zones(None, "75001", "+33612345678")
    assert found.zones == ("Europe/Paris",)
    assert "PostalCode not used" in found.detail
    assert us_state_for("75001", "+33612345678") is None
    assert resolve_zones(None, "75001", None).zones == (CHI,)  # no number: read as a US ZIP


# --- the number ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "zones"),
    [
        ("+12125550123", (NY,)),
        ("+13055550123", (NY,)),  # Miami
        ("+13125550123", (CHI,)),
        ("+13035550123", (DEN,)),
        ("+16025550123", (PHX,)),
        ("+12135550123", (LA,)),
        ("+19075550123", (ADAK, ANC)),  # Alaska's one area code spans two zones
        ("+18085550123", (HNL,)),
        ("+12085550123", ("America/Boise", LA)),  # Idaho: Mountain in the south, Pacific north
        ("+17875550123", ("America/Puerto_Rico",)),
        ("+14165550123", ("America/Toronto",)),
        ("+33612345678", ("Europe/Paris",)),
        ("+447911123456", ("Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey",
                           "Europe/London")),
    ],
)
def test_number_gives_the_zones_of_its_area_code(e164: str, zones: tuple[str, ...]) -> None:
    found = resolve_zones(None, None, e164)
    assert (found.zones, found.source) == (zones, "phone_number")
    assert e164[5:] not in found.detail  # never the full number


def test_toll_free_number_gives_every_nanp_zone() -> None:
    found = resolve_zones(None, None, "+18005550199")
    assert {NY, CHI, DEN, PHX, LA, ANC, HNL} <= set(found.zones)
    assert re.match(r"area code 800 -> \d+ zones \(America/Adak, ", found.detail)


@pytest.mark.parametrize(
    "e164", ["+12685550123", "+11005550123", "12125550123", "+999", "nonsense"]
)
def test_number_without_a_zone_gives_none(e164: str) -> None:
    found = resolve_zones(None, None, e164)
    assert found.zones == ()
    assert found.source == "none"
    assert "Etc/Unknown" not in found.zones


def test_nothing_at_all_gives_none() -> None:
    assert resolve_zones(None, None, None) == ZoneResolution(
        (), "none", "no TimeZone, PostalCode or number"
    )
    found = resolve_zones("Atlantis", "ABCDE", "+12685550123")
    assert found.source == "none"
    assert found.detail == (
        "TimeZone 'Atlantis' is not a known time zone; PostalCode 'ABCDE' is not a US ZIP; "
        "area code 268 has no time zone"
    )


def plain_zones(e164: str) -> tuple[str, ...]:
    zones = time_zones_for_number(phonenumbers.parse(e164, None))
    return tuple(z for z in zones if z != "Etc/Unknown")


@settings(max_examples=400, deadline=None)
@given(
    area=st.integers(200, 999),
    exchange=st.integers(0, 999),
    line=st.integers(0, 9999),
)
def test_prefix_cache_gives_what_phonenumbers_gives(area: int, exchange: int, line: int) -> None:
    e164 = f"+1{area}{exchange:03d}{line:04d}"
    assert resolve_zones(None, None, e164).zones == plain_zones(e164)


def test_prefix_cache_agrees_across_numbers_sharing_an_area_code() -> None:
    # Idaho's 208 splits by exchange: the cache must key on more than the area code.
    for e164 in ("+12082010123", "+12082150123", "+12082450123", "+12082550123"):
        assert resolve_zones(None, None, e164).zones == plain_zones(e164)


# --- the state ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "state"),
    [
        ("+12125550123", "NY"),  # geocoder says "New York, NY"
        ("+13055550123", "FL"),  # geocoder says "Florida"
        ("+14055550123", "OK"),
        ("+14105550123", "MD"),
        ("+12035550123", "CT"),
        ("+12025550123", "DC"),  # "Washington D.C."
        ("+12065550123", "WA"),  # "Washington State"
        ("+19075550123", "AK"),
        ("+18085550123", "HI"),
        ("+17875550123", "PR"),
        ("+16715550123", "GU"),
        ("+18005550199", None),  # toll-free: nowhere
        ("+14165550123", None),  # Ontario is not a US state
        ("+33612345678", None),
        ("12125550123", None),
    ],
)
def test_state_from_the_area_code(e164: str, state: str | None) -> None:
    assert us_state_for(None, e164) == state


def test_state_prefers_the_zip_over_the_area_code() -> None:
    assert us_state_for("33101", "+12125550123") == "FL"
    assert us_state_for("00000", "+12125550123") == "NY"  # unknown ZIP: the area code
    assert us_state_for(None, None) is None
    assert us_state_for("33101", None) == "FL"


def plain_state(e164: str) -> str | None:
    number = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(number) != "US":
        return None
    description = geocoder.description_for_number(number, "en")
    if ", " in description:
        return description.rsplit(", ", 1)[1]
    return time_zones._STATE_CODES.get(description)


@settings(max_examples=300, deadline=None)
@given(area=st.integers(200, 999), rest=st.integers(2_000_000, 9_999_999))
def test_area_code_state_is_what_the_geocoder_says(area: int, rest: int) -> None:
    e164 = f"+1{area}{rest}"
    expected = plain_state(e164)
    if expected is None and phonenumbers.region_code_for_number(
        phonenumbers.parse(e164, None)
    ) in ("PR", "VI", "GU", "AS", "MP"):
        expected = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    assert us_state_for(None, e164) == expected


def test_geocoder_names_every_state_we_map() -> None:
    # Every name the geocoder uses for a geographic US area code is in our table.
    for area in range(200, 1000):
        number = phonenumbers.PhoneNumber(country_code=1, national_number=int(f"{area}2345678"))
        if phonenumbers.region_code_for_number(number) != "US":
            continue
        description = geocoder.description_for_number(number, "en")
        if description and ", " not in description:
            assert description in time_zones._STATE_CODES, description
