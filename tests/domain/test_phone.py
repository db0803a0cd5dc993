"""Phone numbers: normalization to E.164, the NANP fast path's equivalence, masking, regions."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proactive_sms.domain import phone
from proactive_sms.domain.phone import PhoneProblem, PhoneResult


def plain_e164(raw: str, region: str) -> str | None:
    """What plain phonenumbers says, with none of our shortcuts."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def uncached(raw: str, region: str) -> PhoneResult:
    """Our slow route on the raw input: phonenumbers' parse, no fast path and no cache."""
    return phone._result(raw, phone._parsed_outcome.__wrapped__(raw, region))


def assert_same_as_plain(raw: str, region: str) -> None:
    result = phone.normalize(raw, region)
    assert result == uncached(raw, region)
    assert result.e164 == plain_e164(raw, region)


# --- normalize: tables ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(212) 555-0123", "US", "+12125550123"),
        ("212.555.0123", "US", "+12125550123"),
        ("212-555-0123", "US", "+12125550123"),
        ("2125550123", "US", "+12125550123"),
        ("+1 212 555 0123", "US", "+12125550123"),
        ("12125550123", "US", "+12125550123"),
        ("1 (800) 555-0199", "US", "+18005550199"),
        ("  212 555 0123  ", "US", "+12125550123"),
        ("tel:+1-212-555-0123", "US", "+12125550123"),
        ("TEL:+12125550123", "US", "+12125550123"),
        ("1-800-FLOWERS", "US", "+18003569377"),  # vanity letters, as phonenumbers reads them
        ("+1 (787) 555-0123", "US", "+17875550123"),  # Puerto Rico shares +1
        ("(613) 555-0123", "CA", "+16135550123"),
        ("416-555-0123", "CA", "+14165550123"),
        ("(212) 555-0123", "CA", "+12125550123"),  # NANP numbers dial alike from CA
        ("+1 212 555 0123", "GB", "+12125550123"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("07400 123456", "GB", "+447400123456"),
        ("+44 7400 123456", "US", "+447400123456"),
        ("011 44 20 7946 0958", "US", "+442079460958"),  # US international prefix
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("+33 1 23 45 67 89", "GB", "+33123456789"),
        ("050 123 4567", "AE", "+971501234567"),
        ("+971 50 123 4567", "US", "+971501234567"),
        ("050 123 4567", "ae", "+971501234567"),  # region code in any case
    ],
)
def test_normalize_valid_numbers_to_e164(raw: str, region: str, e164: str) -> None:
    result = phone.normalize(raw, region)
    assert (result.e164, result.problem, result.ok) == (e164, None, True)
    assert result.e164 == plain_e164(raw, region.upper())


@pytest.mark.parametrize(
    ("raw", "region", "problem", "detail"),
    [
        ("", "US", PhoneProblem.EMPTY, "the phone number is empty"),
        ("   ", "US", PhoneProblem.EMPTY, "the phone number is empty"),
        (None, "US", PhoneProblem.EMPTY, "the phone number is empty"),
        ("hello", "US", PhoneProblem.NOT_A_NUMBER, "'hello' is not a phone number"),
        ("---", "US", PhoneProblem.NOT_A_NUMBER, "'---' is not a phone number"),
        ("1", "US", PhoneProblem.NOT_A_NUMBER, "'1' is not a phone number"),
        ("555-0100", "US", PhoneProblem.TOO_SHORT, "'555-0100' is too short for a US number"),
        ("212555012", "US", PhoneProblem.TOO_SHORT, "'212555012' is too short for a US number"),
        ("212555012345", "US", PhoneProblem.TOO_LONG, "'212555012345' is too long for a US number"),
        (
            "+1 212 555 01234", "GB", PhoneProblem.TOO_LONG,
            "'+1 212 555 01234' is too long for a US number",
        ),
        (
            "2125550123456789012", "US", PhoneProblem.TOO_LONG,
            "'2125550123456789012' is too long to be a phone number",
        ),
        (
            "+999 123 4567", "US", PhoneProblem.INVALID_COUNTRY_CODE,
            "'+999 123 4567' has no known country code",
        ),
        ("123 456 7890", "US", PhoneProblem.INVALID, "'123 456 7890' is not a valid US number"),
        (
            "+1 (555) 123-4567", "US", PhoneProblem.INVALID,
            "'+1 (555) 123-4567' is not a valid US number",
        ),
        ("(555) 123-4567", "CA", PhoneProblem.INVALID, "'(555) 123-4567' is not a valid CA number"),
        ("2125550123", "GB", PhoneProblem.INVALID, "'2125550123' is not a valid GB number"),
        ("07400 12345", "GB", PhoneProblem.INVALID, "'07400 12345' is not a valid GB number"),
        ("04 123 4567 8", "AE", PhoneProblem.INVALID, "'04 123 4567 8' is not a valid AE number"),
        (
            "+971 4 123 4567", "US", PhoneProblem.INVALID,
            "'+971 4 123 4567' is not a valid AE number",
        ),
    ],
)
def test_normalize_reports_the_problem_in_a_sentence(
    raw: str | None, region: str, problem: PhoneProblem, detail: str
) -> None:
    result = phone.normalize(raw, region)
    assert (result.e164, result.problem, result.detail, result.ok) == (None, problem, detail, False)


def test_detail_shortens_long_garbage() -> None:
    result = phone.normalize("x" * 100, "US")
    assert result.detail == "'" + "x" * 39 + "\u2026' is not a phone number"


@pytest.mark.parametrize(
    ("raw", "extension"),
    [("212-555-0123 ext. 45", "45"), ("212-555-0123 x7", "7"), ("+1-212-555-0123;ext=7", "7")],
)
def test_extension_is_dropped_from_e164_but_reported(raw: str, extension: str) -> None:
    result = phone.normalize(raw, "US")
    assert (result.e164, result.extension) == ("+12125550123", extension)
    assert result.detail == f"valid US number; extension {extension} dropped"


def test_success_detail_names_the_region() -> None:
    assert phone.normalize("+1 876 555 0123").detail == "valid JM number"
    assert phone.normalize("+800 1234 5678").detail == "valid non-geographic number"


@pytest.mark.parametrize("region", ["XX", "", "USA", "001"])
def test_unknown_region_is_a_configuration_error(region: str) -> None:
    with pytest.raises(ValueError, match="unknown region"):
        phone.normalize("2125550123", region)


# --- the fast path and the caches give exactly phonenumbers' answers ----------------------------

_SEPARATORS = st.sampled_from(["", "", " ", "-", ".", "(", ")", ") ", "  "])


@st.composite
def formatted_numbers(draw: st.DrawFn) -> str:
    """NANP-looking inputs: 10 digits, 11 starting with 1, "+1" and "tel:", any punctuation."""
    digits = draw(st.text(alphabet="0123456789", min_size=10, max_size=10))
    prefix = draw(st.sampled_from(["", "1", "+1", "+1 ", "1-", "+", "tel:+1", " +", "0", "11"]))
    text = "".join(draw(_SEPARATORS) + d for d in prefix + digits)
    if draw(st.booleans()):
        text = f"  {text} "
    return text


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_fast_path_equals_plain_phonenumbers_for_random_10_digit_strings(digits: str) -> None:
    assert_same_as_plain(digits, "US")


@settings(max_examples=2000, deadline=None)
@given(formatted_numbers(), st.sampled_from(["US", "CA", "GB", "FR", "JM"]))
def test_fast_path_equals_plain_phonenumbers_for_formatted_input(raw: str, region: str) -> None:
    assert_same_as_plain(raw, region)


@settings(max_examples=1000, deadline=None)
@given(
    st.text(alphabet="0123456789 ().-", max_size=20).map(lambda s: s.lstrip()),
    st.booleans(),
    st.sampled_from(["US", "GB", "FR", "AE", "DE"]),
)
def test_cache_key_of_digits_loses_nothing(body: str, plus: bool, region: str) -> None:
    # For digits and ( ) . - the slow route is keyed on the digits alone: check that is safe.
    raw = ("+" if plus else "") + body
    digits = raw.translate(str.maketrans("", "", "+ ().-"))
    if len(digits) >= 3:
        canonical = ("+" if plus else "") + digits
        outcome = phone._parsed_outcome.__wrapped__
        assert outcome(raw, region) == outcome(canonical, region)
    if raw.strip():
        assert_same_as_plain(raw, region)


@pytest.fixture
def fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """As after an import's first thousands of numbers: the prefix table answers."""
    monkeypatch.setattr(phone, "_asks_without_table", phone._ASKS_BEFORE_TABLE)


def test_fast_path_equals_plain_phonenumbers_in_every_area_code(fast_path) -> None:
    rng = random.Random(20240501)
    for area in range(200, 1000):
        for _ in range(12):
            national = f"{area}{rng.randrange(10_000_000):07d}"
            assert_same_as_plain(national, "US")
            assert phone.region_of(f"+1{national}") == phonenumbers.region_code_for_number(
                phonenumbers.parse(f"+1{national}")
            )


def test_fast_path_is_exact_without_the_prefix_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phone, "_nanp_decisive_lengths", lambda: None)
    for raw in ("2125550123", "5555550123", "+1 876 555 0123", "1 242 357 1234"):
        assert_same_as_plain(raw, "US")


def test_one_number_is_checked_without_building_the_prefix_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A command that checks one number (psms dnc check) must not pay for the table.
    monkeypatch.setattr(phone, "_asks_without_table", 0)
    phone._nanp_decisive_lengths.cache_clear()
    assert_same_as_plain("2125550123", "US")
    assert phone._nanp_decisive_lengths.cache_info().currsize == 0
    monkeypatch.setattr(phone, "_asks_without_table", phone._ASKS_BEFORE_TABLE)
    assert_same_as_plain("2125550124", "US")
    assert phone._nanp_decisive_lengths.cache_info().currsize == 1


def test_prefix_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch, fast_path) -> None:
    monkeypatch.setattr(phone, "_PREFIX_CACHE_LIMIT", 50)
    rng = random.Random(7)
    for _ in range(500):
        assert_same_as_plain(f"{rng.randrange(2_000_000_000, 10_000_000_000)}", "US")
    assert len(phone._prefix_verdicts) <= 50


# --- the proof that a prefix decides NANP validity ----------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "prefix_match", "area", "length"),
    [
        (r"[2-9]\d{9}", False, "200", 3),  # every completion of 200 matches
        (r"[2-9]\d{9}", False, "555", 3),
        (r"212[2-9]\d{6}", False, "212", 4),  # the exchange's first digit decides
        (r"212[2-9]\d{6}", False, "213", 3),  # nothing starting 213 can match
        (r"3052(?:0[0-8]|[1-9]\d)\d{4}", False, "305", 6),
        (r"8[024]9", True, "809", 3),  # a leading-digits prefix match
        (r"8[024]9", True, "819", 3),
        (r"2(?:1[0-2]|3)", True, "212", 3),
        (r"2(?:1[0-2]|3)", True, "213", 3),
        (r"21(?:2\d{7}|3)", True, "212", 3),
        (r"\d{9}", False, "212", 3),  # wrong length: nothing matches
        (r"\d{3}(?:5{7}|[0-4]\d{6})", False, "212", 10),  # a single number is fully decisive
    ],
)
def test_decisive_lengths_of_toy_patterns(
    pattern: str, prefix_match: bool, area: str, length: int
) -> None:
    assert phone._decisive_lengths(pattern, prefix_match, [area]) == [length]


def test_decisive_lengths_refuse_constructs_they_do_not_model() -> None:
    with pytest.raises(ValueError, match="not modelled"):
        phone._decisive_lengths(r"(\d)\1{9}", False, ["212"])


def test_installed_metadata_is_decided_by_at_most_seven_digits() -> None:
    lengths = phone._nanp_decisive_lengths()
    assert lengths is not None
    assert set(lengths) == {str(a) for a in range(200, 1000)}
    assert min(lengths.values()) >= 3 and max(lengths.values()) <= 7


# --- mask ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+12125554567", "+1******4567"),
        ("+442079460958", "+44******0958"),
        ("+971501234567", "+971*****4567"),
        ("+33612345678", "+33*****5678"),
        ("+1 (212) 555-4567", "+1******4567"),
        ("2125554567", "******4567"),  # no "+": no country code to keep
        ("+999123456789", "+********6789"),  # unknown country code: masked too
        ("+1212555", "+1****55"),  # short: at least four digits stay hidden
        ("+1234", "+1***"),
        ("+1", "+1"),
        ("+", "+"),
        ("", ""),
        (None, ""),
        ("abc", ""),
    ],
)
def test_mask_keeps_country_code_and_last_four_digits(number: str | None, masked: str) -> None:
    assert phone.mask(number) == masked


@given(st.text(alphabet="0123456789", min_size=8, max_size=14))
def test_mask_shows_only_the_last_four_national_digits(national: str) -> None:
    assert phone.mask("+1" + national) == "+1" + "*" * (len(national) - 4) + national[-4:]


@given(st.text(alphabet="0123456789", max_size=16))
def test_mask_always_hides_at_least_four_digits(digits: str) -> None:
    masked = phone.mask("+" + digits)
    assert len(masked) == len(digits) + 1
    assert masked.count("*") >= min(4, len(digits) - 3) or len(digits) <= 3


# --- region_of -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("+12125554567", "US"),
        ("+14165550123", "CA"),
        ("+17875550123", "PR"),
        ("+18765550123", "JM"),
        ("+442079460958", "GB"),
        ("+33612345678", "FR"),
        ("+971501234567", "AE"),
        ("+15550100000", None),  # invalid NANP number: no region
        ("+80012345678", None),  # non-geographic
        ("+999123", None),
        ("12125554567", None),  # not E.164
        ("", None),
        (None, None),
        ("garbage", None),
    ],
)
def test_region_of_e164(number: str | None, region: str | None) -> None:
    assert phone.region_of(number) == region
