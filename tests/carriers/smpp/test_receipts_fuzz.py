"""Property: the receipt parser reads any text and TLVs an SMSC can send into a DeliveryReceipt;
it never raises. A receipt that made it raise would end the session, and the SMSC, which never
got its deliver_sm_resp, would send it again on the next one: a reconnect loop."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from proactive_sms.carriers.base import DeliveryReceipt
from proactive_sms.carriers.smpp.receipts import (
    parse_done_date,
    parse_error_code,
    parse_receipt,
    receipt_fields,
)

# Receipt texts reach the parser decoded as latin-1: any octet is one of these characters.
_LATIN1 = st.characters(max_codepoint=0xFF)
_KEYS = st.sampled_from(["id", "sub", "dlvrd", "submit date", "done date", "stat", "err", "text",
                         "ID", "Stat", "submit_date", "x"])
_VALUES = st.one_of(
    st.text(_LATIN1, max_size=14),
    st.sampled_from(["DELIVRD", "UNDELIV", "000", "0A", "2601021530", "260102153059", "007",
                     "\xb2", "\xb3\xb9", "\xbc", "1\xb2", "٣"]),
)
_TEXTS = st.one_of(
    st.text(_LATIN1, max_size=200),
    st.lists(st.tuples(_KEYS, _VALUES), max_size=8).map(
        lambda pairs: " ".join(f"{key}:{value}" for key, value in pairs)
    ),
)
_TLVS = st.dictionaries(st.sampled_from([0x001E, 0x0427, 0x0423, 0x0424]), st.binary(max_size=70),
                        max_size=4)


@given(_TEXTS, _TLVS)
@example("id:1 stat:DELIVRD err:000", {})
def test_receipt_fields_is_total(text: str, tlvs: dict[int, bytes]) -> None:
    fields = receipt_fields(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@given(st.text(max_size=16))
def test_done_date_is_a_date_or_none(value: str) -> None:
    parsed = parse_done_date(value)
    assert parsed is None or parsed.tzinfo is not None


# Found by this fuzz: superscript digits (latin-1 octets 0xB2, 0xB3, 0xB9) pass str.isdigit()
# but int() refuses them: "err:²" or "stat:²" raised ValueError out of the parser.


@given(_VALUES)
@example("\xb2")
def test_error_code_is_an_int_or_none(value: str) -> None:
    code = parse_error_code(value)
    assert code is None or code >= 0


@given(_TEXTS, _TLVS)
@example("id:1 stat:\xb2", {})
def test_any_receipt_text_and_tlvs_give_a_receipt(text: str, tlvs: dict[int, bytes]) -> None:
    receipt = parse_receipt(text, tlvs)
    assert isinstance(receipt, DeliveryReceipt) and receipt.raw == text


