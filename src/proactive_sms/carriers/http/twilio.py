"""The Twilio Messages API shape.

Submit: a form POST to /2010-04-01/Accounts/{AccountSid}/Messages.json with Basic auth
(AccountSid:AuthToken), fields To, From, Body, StatusCallback (and ValidityPeriod). 201 with the
message's `sid` is accepted; an error is JSON {"code", "message", "status"}.
Callbacks: form POSTs signed with X-Twilio-Signature = base64(HMAC-SHA1(AuthToken, URL + each
field name and value, in name order)). Status callbacks carry MessageSid, MessageStatus
(queued, sending, sent, delivered, undelivered, failed) and ErrorCode; inbound texts carry
MessageSid, From, To, Body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from proactive_sms.carriers.base import (
    DeliveryReceipt,
    InboundText,
    OutboundText,
    ReceiptState,
    SubmitResult,
    SubmitStatus,
)
from proactive_sms.carriers.http.shape import (
    Answer,
    ProviderAccount,
    ProviderRequest,
    ReadCallback,
    code_reason,
    int_or_none,
    retry_after_s,
)

API_PREFIX = "/2010-04-01/Accounts"
MAX_VALIDITY_S = 36_000  # Twilio's ValidityPeriod is 1..36000 seconds

# Error codes and what they make of a text. A refusal of the submit request ends the text
# `failed` (permanent) or puts it back (throttled, temporary); a status callback's code ends it
# `undeliverable` with the code recorded. docs/http_providers.md shows this table.
UNSUBSCRIBED = 21610  # the recipient replied STOP to this sender: never text them again
THROTTLE_CODES = {
    20429: "too many requests",
    21611: "the sender's queue of messages is full",
}
PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21212: "invalid 'From' number",
    21408: "no permission to send to this region",
    21606: "'From' number cannot send this message",
    21610: "recipient unsubscribed (replied STOP)",
    21612: "no route to this number",
    21614: "'To' is not a mobile number",
    21617: "body too long",
    30003: "unreachable destination handset",
    30004: "message blocked",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
    30007: "message filtered by the carrier",
}
TEMPORARY_CODES = {
    30001: "queue overflow",
    30008: "unknown error",
}
AUTH_CODES = {20003: "authentication failed (wrong Account SID or Auth Token)",
              20404: "account not found"}

_RECEIPT_STATES = {
    "delivered": ReceiptState.DELIVERED,
    "undelivered": ReceiptState.UNDELIVERABLE,
    "failed": ReceiptState.UNDELIVERABLE,
    "canceled": ReceiptState.REJECTED,
    "queued": ReceiptState.ACCEPTED,
    "accepted": ReceiptState.ACCEPTED,
    "scheduled": ReceiptState.ACCEPTED,
    "sending": ReceiptState.ENROUTE,
    "sent": ReceiptState.ENROUTE,
}


def reason(code: int | None) -> str:
    return code_reason(code, (PERMANENT_CODES, THROTTLE_CODES, TEMPORARY_CODES, AUTH_CODES),
                       "Twilio error")


def signature(token: str, url: str, fields: Mapping[str, str]) -> str:
    """X-Twilio-Signature of a form POST to `url`."""
    data = url + "".join(f"{name}{fields[name]}" for name in sorted(fields))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioShape:
    name = "twilio"

    def client_auth(self, account: ProviderAccount) -> tuple[str, str] | None:
        return account.account, account.token

    def submit_request(self, account: ProviderAccount, text: OutboundText) -> ProviderRequest:
        form = {"To": text.destination, "From": text.source, "Body": text.body,
                "StatusCallback": account.callback("status")}
        if text.validity_until is not None:
            left = (text.validity_until - datetime.now(UTC)).total_seconds()
            form["ValidityPeriod"] = str(int(min(max(left, 1), MAX_VALIDITY_S)))
        return ProviderRequest("POST", f"{API_PREFIX}/{account.account}/Messages.json",
                               form=form)

    def read_submit_answer(self, text: OutboundText, answer: Answer) -> SubmitResult:
        code, message = _error_of(answer.body)
        status = answer.status_code
        if status in (200, 201):
            try:
                sid = json.loads(answer.body)["sid"]
            except (ValueError, KeyError, TypeError):
                # It took the text (2xx) but we cannot read its id: we cannot match its
                # receipts, and must not send it again.
                return SubmitResult(text.message_id, SubmitStatus.UNCERTAIN,
                                    detail=f"accepted ({status}) without a readable sid")
            return SubmitResult(text.message_id, SubmitStatus.ACCEPTED, (str(sid),))
        detail = reason(code) or f"HTTP {status}"
        if message and code not in PERMANENT_CODES:
            detail = f"{detail}: {message}"[:200]
        if status == 429 or code in THROTTLE_CODES:
            return SubmitResult(text.message_id, SubmitStatus.THROTTLED, error_code=code or 429,
                                detail=detail, retry_after_s=retry_after_s(answer.headers))
        if status >= 500:
            # The request reached the provider and its answer is an error of its own: it may
            # have queued the text before failing. Never sent again blindly.
            return SubmitResult(text.message_id, SubmitStatus.UNCERTAIN, error_code=code,
                                detail=f"provider error HTTP {status}")
        if status in (401, 403) or code in AUTH_CODES:
            return SubmitResult(text.message_id, SubmitStatus.NOT_SENT, error_code=code,
                                detail=detail, link_error=True)
        if code in TEMPORARY_CODES:
            return SubmitResult(text.message_id, SubmitStatus.TEMPORARY, error_code=code,
                                detail=detail)
        return SubmitResult(text.message_id, SubmitStatus.PERMANENT, error_code=code,
                            detail=detail, recipient_opted_out=code == UNSUBSCRIBED)

    def account_check(self, account: ProviderAccount) -> ProviderRequest:
        return ProviderRequest("GET", f"{API_PREFIX}/{account.account}.json")

    def read_account_check(self, answer: Answer) -> str | None:
        if answer.status_code == 200:
            return None
        code, message = _error_of(answer.body)
        if answer.status_code in (401, 403) or code in AUTH_CODES:
            return reason(code) if code in AUTH_CODES else AUTH_CODES[20003]
        return f"account check answered HTTP {answer.status_code}" + (
            f": {message}" if message else "")

    def callback_fields(self, query: str, headers: Mapping[str, str],
                        body: bytes) -> dict[str, str]:
        # Form POSTs; the query string is part of the signed URL, not a field.
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def callback_identity(self, kind: str, fields: Mapping[str, str]) -> tuple[str, str]:
        sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
        event = "" if kind == "inbound" else (fields.get("MessageStatus")
                                               or fields.get("SmsStatus") or "")
        return sid, event

    def verify_callback(self, account: ProviderAccount, url: str, fields: Mapping[str, str],
                        headers: Mapping[str, str], body: bytes) -> bool:
        given = headers.get("x-twilio-signature", "")
        if not given or fields.get("AccountSid", account.account) != account.account:
            return False
        return hmac.compare_digest(signature(account.token, url, fields), given)

    def read_callback(self, kind: str, fields: Mapping[str, str]) -> ReadCallback:
        sid, status = self.callback_identity(kind, fields)
        if kind == "inbound":
            return ReadCallback(inbound=InboundText(
                sender=fields.get("From", ""), recipient=fields.get("To", ""),
                text=fields.get("Body", ""), carrier_message_id=sid), code=fields.get("To", ""))
        state = _RECEIPT_STATES.get(status.lower(), ReceiptState.UNKNOWN)
        code = int_or_none(fields.get("ErrorCode"))
        receipt = DeliveryReceipt(carrier_message_id=sid, state=state, error_code=code,
                                  raw=json.dumps(dict(fields), sort_keys=True)[:2000],
                                  recipient=fields.get("To", ""))
        opted_out = fields.get("To") if code == UNSUBSCRIBED else None
        return ReadCallback(receipt=receipt, opted_out=opted_out, code=fields.get("From", ""),
                            note=reason(code))


def _error_of(body: bytes) -> tuple[int | None, str]:
    try:
        data = json.loads(body)
    except ValueError:
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    code = data.get("code")
    return (code if isinstance(code, int) else int_or_none(code) if code else None,
            str(data.get("message") or ""))
