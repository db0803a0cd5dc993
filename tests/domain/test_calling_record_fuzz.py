"""Properties of the pure half of the importer: any header list maps or raises MappingError naming
the problem; any row parses into a record or a RowError with that row's line and a reason."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain import phone
from proactive_sms.domain.calling_list_fields import MappingError, map_columns
from proactive_sms.domain.calling_record import ParsedRecord, RecordParser, RowError, RowProblem

_HEADERS = st.lists(
    st.one_of(st.sampled_from(["PhoneNumber", "SMSPhoneNumber", "ExternalId", "FirstName",
                               "IsCellPhone", "ExpirationDate", "TimeZone", "cell", " ", ""]),
              st.text(max_size=12)),
    min_size=1, max_size=7,
)
_CELLS = st.one_of(
    st.sampled_from(["2125550123", "+12125550199", "(212) 555-0100", "+1 212", "yes", "no", "x",
                     "2026-02-30", "12/31/2026", "", " ", "\u202e", "٢١٢٥٥٥٠١٢٣"]),
    st.text(max_size=20),
)


@given(_HEADERS, st.lists(_CELLS, max_size=8), st.integers(2, 10**6),
       st.sampled_from(["US", "GB", "FR"]))
def test_any_header_and_row_give_a_mapping_error_a_record_or_a_row_error(
    headers: list[str], row: list[str], line: int, region: str
) -> None:
    try:
        mapping = map_columns(headers)
    except MappingError as refused:
        assert str(refused)
        return
    parsed = RecordParser(mapping, region, phone.normalize).parse(line, row)
    if isinstance(parsed, RowError):
        assert parsed.line == line and isinstance(parsed.problem, RowProblem) and parsed.message
        return
    assert isinstance(parsed, ParsedRecord) and parsed.line == line
    assert parsed.phone or parsed.sms_destination
    assert parsed.sms_destination is None or parsed.sms_destination.startswith("+")
