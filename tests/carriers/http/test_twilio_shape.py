"""The Twilio shape alone: its signature against Twilio's published example, and how each
answer and callback is read."""

from __future__ import annotations

import json

import pytest

from proactive_sms.carriers.base import OutboundText, ReceiptState, SourceKind, SubmitStatus
from proactive_sms.carriers.http.shape import Answer, ProviderAccount
from proactive_sms.carriers.http.twilio import TwilioShape, signature

SHAPE = TwilioShape()
TEXT = OutboundText(7, "55501", SourceKind.SHORT, "+12125550100", "Hi", "gsm7", ("Hi",))
ACCOUNT = ProviderAccount(3, "https://api.twilio.com", "AC1", "tok", "https://psms.example.com/")


def test_the_signature_is_twilios_on_its_published_example():
    fields = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234",
              "From": "+14158675310", "To": "+18005551212"}
    assert signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                     fields) == "GvWf1cFY/Q7PnoempGyD5oXAezc="


def test_a_submit_is_a_signed_form_with_its_status_callback():
    request = SHAPE.submit_request(ACCOUNT, TEXT)
    assert (request.method, request.path) == ("POST", "/2010-04-01/Accounts/AC1/Messages.json")
    assert request.form == {"To": "+12125550100", "From": "55501", "Body": "Hi",
                            "StatusCallback": "https://psms.example.com/carrier-callbacks/3/"
                                              "status"}


def _answer(status: int, body: dict | None = None, **headers: str) -> Answer:
    return Answer(status, {k.replace("_", "-"): v for k, v in headers.items()},
                  json.dumps(body or {}).encode())


@pytest.mark.parametrize(("answer", "status", "code"), [
    (_answer(201, {"sid": "SMabc"}), SubmitStatus.ACCEPTED, None),
    (_answer(201, {}), SubmitStatus.UNCERTAIN, None),  # taken, but no id to match receipts
    (_answer(429, {"code": 20429}, retry_after="2"), SubmitStatus.THROTTLED, 20429),
    (_answer(400, {"code": 21611}), SubmitStatus.THROTTLED, 21611),
    (_answer(500), SubmitStatus.UNCERTAIN, None),
    (_answer(503, {"code": 20503}), SubmitStatus.UNCERTAIN, 20503),
    (_answer(401, {"code": 20003}), SubmitStatus.NOT_SENT, 20003),
    (_answer(400, {"code": 21610}), SubmitStatus.PERMANENT, 21610),
    (_answer(400, {"code": 21211}), SubmitStatus.PERMANENT, 21211),
    (_answer(400, {"code": 21614}), SubmitStatus.PERMANENT, 21614),
    (_answer(400, {"code": 30001}), SubmitStatus.TEMPORARY, 30001),
    (_answer(400, {"code": 99999}), SubmitStatus.PERMANENT, 99999),
])
def test_each_answer_is_classified(answer, status, code):
    result = SHAPE.read_submit_answer(TEXT, answer)
    assert (result.status, result.error_code) == (status, code)
    assert result.message_id == 7


def test_a_429_carries_its_retry_after_an_unsubscribed_refusal_its_opt_out():
    throttled = SHAPE.read_submit_answer(TEXT, _answer(429, {"code": 20429}, retry_after="2"))
    assert throttled.retry_after_s == 2.0
    refused = SHAPE.read_submit_answer(TEXT, _answer(400, {"code": 21610}))
    assert refused.recipient_opted_out and "unsubscribed" in refused.detail
    assert SHAPE.read_submit_answer(TEXT, _answer(401, {"code": 20003})).link_error
    assert SHAPE.read_submit_answer(TEXT, _answer(201, {"sid": "SMabc"})).carrier_message_ids \
        == ("SMabc",)


@pytest.mark.parametrize(("status", "state"), [
    ("delivered", ReceiptState.DELIVERED), ("undelivered", ReceiptState.UNDELIVERABLE),
    ("failed", ReceiptState.UNDELIVERABLE), ("sent", ReceiptState.ENROUTE),
    ("queued", ReceiptState.ACCEPTED), ("bogus", ReceiptState.UNKNOWN)])
def test_status_callbacks_become_receipts(status, state):
    read = SHAPE.read_callback("status", {"MessageSid": "SMx", "MessageStatus": status,
                                          "To": "+12125550100", "From": "55501"})
    assert read.receipt.state is state and read.receipt.carrier_message_id == "SMx"
    assert read.receipt.recipient == "+12125550100" and read.opted_out is None


def test_an_undelivered_callback_keeps_its_code_and_21610_is_an_opt_out():
    read = SHAPE.read_callback("status", {"MessageSid": "SMx", "MessageStatus": "undelivered",
                                          "ErrorCode": "30006", "To": "+12125550100"})
    assert read.receipt.error_code == 30006 and "landline" in read.note
    opted = SHAPE.read_callback("status", {"MessageSid": "SMy", "MessageStatus": "failed",
                                           "ErrorCode": "21610", "To": "+12125550100",
                                           "From": "55501"})
    assert (opted.opted_out, opted.code) == ("+12125550100", "55501")


def test_an_inbound_callback_becomes_an_inbound_text():
    read = SHAPE.read_callback("inbound", {"MessageSid": "SMz", "From": "+12125550100",
                                           "To": "55501", "Body": "STOP"})
    assert (read.inbound.sender, read.inbound.recipient, read.inbound.text,
            read.inbound.carrier_message_id) == ("+12125550100", "55501", "STOP", "SMz")
    assert SHAPE.callback_identity("inbound", {"MessageSid": "SMz"}) == ("SMz", "")
