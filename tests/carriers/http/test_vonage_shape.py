"""The Vonage SMS API shape alone: the request, how each answer (one message per part) is read,
receipts and inbound texts, and the signed-webhook check."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from proactive_sms.carriers.base import OutboundText, ReceiptState, SourceKind, SubmitStatus
from proactive_sms.carriers.http.shape import Answer, ProviderAccount
from proactive_sms.carriers.http.vonage import (
    VonageShape,
    join_secrets,
    signature,
    split_secrets,
)

SHAPE = VonageShape()
TEXT = OutboundText(7, "+12025550142", SourceKind.LONG, "+12125550100", "Hi", "gsm7", ("Hi",))
ACCOUNT = ProviderAccount(3, "https://rest.nexmo.com", "key1",
                          join_secrets("apisecret", "sigsecret"), "https://psms.example.com/")


def test_a_submit_is_a_form_with_key_secret_numbers_without_plus_and_its_receipt_url():
    request = SHAPE.submit_request(ACCOUNT, TEXT)
    assert (request.method, request.path) == ("POST", "/sms/json")
    assert request.form == {
        "api_key": "key1", "api_secret": "apisecret", "from": "12025550142",
        "to": "12125550100", "text": "Hi", "status-report-req": "1",
        "callback": "https://psms.example.com/carrier-callbacks/3/status", "client-ref": "7"}
    # No Basic auth: the token also holds the signature secret, which never leaves.
    assert SHAPE.client_auth(ACCOUNT) is None


def test_a_ucs2_text_is_sent_as_unicode_and_validity_becomes_ttl_in_ms():
    text = OutboundText(8, "55501", SourceKind.SHORT, "+12125550100", "Привет", "ucs2",
                        ("Привет",), validity_until=datetime.now(UTC) + timedelta(hours=1))
    form = SHAPE.submit_request(ACCOUNT, text).form
    assert form["type"] == "unicode" and form["from"] == "55501"
    assert 3_500_000 <= int(form["ttl"]) <= 3_600_000
    past = OutboundText(9, "55501", SourceKind.SHORT, "+1212", "x", "gsm7", ("x",),
                        validity_until=datetime.now(UTC) - timedelta(hours=1))
    assert SHAPE.submit_request(ACCOUNT, past).form["ttl"] == "20000"  # Vonage's minimum


def _messages(*parts: dict, status: int = 200) -> Answer:
    return Answer(status, {}, json.dumps({"message-count": str(len(parts)),
                                          "messages": list(parts)}).encode())


def _ok(message_id: str) -> dict:
    return {"to": "12125550100", "message-id": message_id, "status": "0"}


def _refused(code: int, text: str = "") -> dict:
    return {"to": "12125550100", "status": str(code), "error-text": text}


def test_every_part_taken_is_accepted_with_one_id_per_part():
    result = SHAPE.read_submit_answer(TEXT, _messages(_ok("0A1"), _ok("0A2"), _ok("0A3")))
    assert result.status is SubmitStatus.ACCEPTED
    assert result.carrier_message_ids == ("0A1", "0A2", "0A3")


@pytest.mark.parametrize(("answer", "status", "code"), [
    (_messages(_refused(1, "Throughput Rate Exceeded")), SubmitStatus.THROTTLED, 1),
    (_messages(_refused(2)), SubmitStatus.PERMANENT, 2),
    (_messages(_refused(3)), SubmitStatus.PERMANENT, 3),
    (_messages(_refused(6)), SubmitStatus.PERMANENT, 6),
    (_messages(_refused(15)), SubmitStatus.PERMANENT, 15),
    (_messages(_refused(4)), SubmitStatus.NOT_SENT, 4),
    (_messages(_refused(8)), SubmitStatus.NOT_SENT, 8),
    (_messages(_refused(14)), SubmitStatus.NOT_SENT, 14),
    (_messages(_refused(5)), SubmitStatus.TEMPORARY, 5),
    (_messages(_refused(9)), SubmitStatus.TEMPORARY, 9),
    (_messages(_refused(99)), SubmitStatus.PERMANENT, 99),
    (Answer(429, {"retry-after": "2"}, b""), SubmitStatus.THROTTLED, 429),
    (Answer(500, {}, b"oops"), SubmitStatus.UNCERTAIN, None),
    (Answer(401, {}, b""), SubmitStatus.NOT_SENT, 4),
    (Answer(200, {}, b"not json"), SubmitStatus.UNCERTAIN, None),
    (_messages({"to": "1", "status": "0"}), SubmitStatus.UNCERTAIN, None),  # no id
])
def test_each_answer_is_classified(answer, status, code):
    result = SHAPE.read_submit_answer(TEXT, answer)
    assert (result.status, result.error_code) == (status, code), result
    assert result.link_error == (status is SubmitStatus.NOT_SENT)
    if status is SubmitStatus.THROTTLED and answer.status_code == 429:
        assert result.retry_after_s == 2.0


def test_a_barred_number_is_refused_and_goes_onto_the_dnc_list():
    result = SHAPE.read_submit_answer(TEXT, _messages(_refused(7)))
    assert result.status is SubmitStatus.PERMANENT and result.recipient_opted_out
    assert "number barred (7)" in result.detail


def test_a_text_whose_later_part_is_refused_is_uncertain_never_sent_again():
    result = SHAPE.read_submit_answer(TEXT, _messages(_ok("0A1"), _refused(5)))
    assert result.status is SubmitStatus.UNCERTAIN and not result.retryable
    assert result.detail.startswith("part 2 of 2 refused: internal error (5)")


def test_the_account_check_asks_the_balance_and_reads_401_as_wrong_credentials():
    request = SHAPE.account_check(ACCOUNT)
    url = urlsplit(request.path)
    assert (request.method, url.path) == ("GET", "/account/get-balance")
    assert dict(parse_qsl(url.query)) == {"api_key": "key1", "api_secret": "apisecret"}
    assert SHAPE.read_account_check(Answer(200, {}, b'{"value": 1}')) is None
    assert "invalid credentials" in SHAPE.read_account_check(Answer(401, {}, b""))
    assert "HTTP 503" in SHAPE.read_account_check(Answer(503, {}, b""))


def _dlr(status: str, err: str = "0", message_id: str = "0A1") -> dict[str, str]:
    return {"msisdn": "12125550100", "to": "12025550142", "messageId": message_id,
            "status": status, "err-code": err, "api-key": "key1"}


@pytest.mark.parametrize(("status", "state"), [
    ("delivered", ReceiptState.DELIVERED), ("expired", ReceiptState.EXPIRED),
    ("failed", ReceiptState.UNDELIVERABLE), ("rejected", ReceiptState.REJECTED),
    ("accepted", ReceiptState.ACCEPTED), ("buffered", ReceiptState.ENROUTE),
    ("unknown", ReceiptState.UNKNOWN), ("something new", ReceiptState.UNKNOWN),
])
def test_receipt_statuses_map_to_receipt_states(status, state):
    read = SHAPE.read_callback("status", _dlr(status))
    assert read.receipt is not None and read.receipt.state is state
    assert read.receipt.carrier_message_id == "0A1"
    assert read.receipt.error_code is None
    assert read.code == "12025550142"  # our code: the receipt's `to`
    assert SHAPE.callback_identity("status", _dlr(status)) == ("0A1", status)


def test_a_failed_receipt_keeps_its_err_code_and_says_what_it_means():
    read = SHAPE.read_callback("status", _dlr("failed", "6"))
    assert read.receipt.error_code == 6 and read.note == "anti-spam rejection (6)"


def test_an_inbound_text_is_read_from_msisdn_to_and_text():
    fields = {"msisdn": "12125550100", "to": "12025550142", "messageId": "0B9", "text": "STOP",
              "type": "text", "keyword": "STOP", "api-key": "key1"}
    read = SHAPE.read_callback("inbound", fields)
    assert read.inbound is not None and read.receipt is None
    assert (read.inbound.sender, read.inbound.recipient, read.inbound.text,
            read.inbound.carrier_message_id) == ("12125550100", "12025550142", "STOP", "0B9")
    assert SHAPE.callback_identity("inbound", fields) == ("0B9", "")


def _signed(fields: dict[str, str], secret: str = "sigsecret") -> dict[str, str]:
    fields = {**fields, "timestamp": "1764930000", "nonce": "n1"}
    return {**fields, "sig": signature(secret, fields)}


def test_the_signature_is_hmac_sha256_of_the_sorted_params_with_separators_cleaned():
    fields = {"text": "a&b=c", "msisdn": "1", "timestamp": "5"}
    expected = hmac.new(b"s", b"&msisdn=1&text=a_b_c&timestamp=5", hashlib.sha256).hexdigest()
    assert signature("s", fields) == expected
    assert signature("s", {**fields, "sig": "ignored"}) == expected


def test_only_callbacks_signed_with_the_signature_secret_are_taken():
    def verify(fields, account=ACCOUNT):
        return SHAPE.verify_callback(account, "https://x", fields, {}, b"")

    good = _signed(_dlr("delivered"))
    assert verify(good)
    assert verify({**good, "sig": good["sig"].upper()})  # hex in either case
    assert not verify(_signed(_dlr("delivered"), secret="apisecret"))
    assert not verify({**good, "status": "failed"})  # tampered
    assert not verify(_dlr("delivered"))  # unsigned
    assert not verify(_signed({**_dlr("delivered"), "api-key": "other"}))  # another account's
    no_secret = ProviderAccount(3, "", "key1", "apisecret", "https://psms.example.com/")
    assert not verify(good, no_secret)  # no signature secret: nothing can be checked


def test_callback_fields_come_from_the_query_a_form_or_json():
    assert SHAPE.callback_fields("a=1&b=2", {}, b"") == {"a": "1", "b": "2"}
    assert SHAPE.callback_fields("", {"content-type": "application/x-www-form-urlencoded"},
                                 b"a=1&text=hi+there") == {"a": "1", "text": "hi there"}
    assert SHAPE.callback_fields("", {"content-type": "application/json"},
                                 b'{"a": 1, "b": null, "c": {"x": 1}}') == {"a": "1", "b": ""}


def test_the_token_keeps_both_secrets():
    assert split_secrets(join_secrets("api", "sig")) == ("api", "sig")
    assert split_secrets("only-api") == ("only-api", "")
    with pytest.raises(ValueError):
        join_secrets("a\nb", "sig")
