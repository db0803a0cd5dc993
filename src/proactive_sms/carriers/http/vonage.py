"""The Vonage SMS API shape (the second provider, of another shape than Twilio's).

Submit: a form POST to {base}/sms/json with api_key, api_secret, from, to (E.164 without its
+), text, type=unicode for a UCS-2 text, status-report-req=1 and callback (our status URL),
client-ref (our message id) and ttl (ms). The answer is HTTP 200 whatever happened: a JSON
{"message-count", "messages": [{"status", "message-id", "error-text"}, ...]}, one element per
part (Vonage splits a long text itself): status "0" is taken, anything else is refused.
Account check: GET /account/get-balance (401 on wrong credentials).
Callbacks (GET query or POST form/JSON): delivery receipts carry messageId, msisdn (the
recipient), to (our code), status (delivered, expired, failed, rejected, accepted, buffered,
unknown) and err-code; inbound texts carry messageId, msisdn (the sender), to, text.
Signed webhooks: every callback carries `sig`, the hex HMAC-SHA256 (key: the account's
signature secret) of "&name=value" for each other parameter in name order, with '&' and '='
in values replaced by '_'. Unsigned or badly signed callbacks are refused.

A long text: every part has its own message-id and its own receipt. The text is delivered
when every part is, and takes the first final state that is not `delivered` (store.deliveries
applies that rule to any carrier's parts).

The connection's token holds two secrets, the API secret and the signature secret
(`join_secrets`): one sealed field, no other place to keep a secret in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

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

SUBMIT_PATH = "/sms/json"
BALANCE_PATH = "/account/get-balance"
MIN_TTL_MS, MAX_TTL_MS = 20_000, 604_800_000  # Vonage's ttl bounds
SECRETS_SEPARATOR = "\n"  # between the API secret and the signature secret in the token

# Submit status codes (developer.vonage.com/api-errors/sms) and what they make of a text.
# docs/http_providers.md shows this table.
THROTTLED = 1
BARRED = 7  # the number is on Vonage's block list (a US recipient who texted STOP, say)
LINK_CODES = {  # the account's, not the text's: the link is down until the account answers
    4: "invalid credentials",
    8: "account barred",
    11: "account not enabled for HTTP",
    14: "invalid signature",
    32: "signature and API secret disallowed",
}
TEMPORARY_CODES = {
    5: "internal error",
    9: "partner quota violation (no credit)",
    10: "too many existing binds",
}
PERMANENT_CODES = {
    2: "missing parameters",
    3: "invalid parameters",
    6: "invalid message (unroutable number prefix)",
    7: "number barred",
    12: "message too long",
    15: "invalid sender address",
    22: "invalid network code",
    23: "invalid callback URL",
    29: "non-whitelisted destination",
    33: "number de-activated",
}
# Receipt err-codes (recorded with an undeliverable text).
DLR_ERRORS = {
    1: "unknown", 2: "absent subscriber (temporary)", 3: "absent subscriber (permanent)",
    4: "call barred by user", 5: "portability error", 6: "anti-spam rejection",
    7: "handset busy", 8: "network error", 9: "illegal number", 10: "illegal message",
    11: "unroutable", 12: "destination unreachable", 13: "subscriber age restriction",
    14: "number blocked by carrier", 15: "prepaid insufficient funds",
    16: "gateway quota exceeded", 50: "entity filter", 51: "header filter",
    52: "content filter", 53: "consent filter", 54: "regulation error", 99: "general error",
}

_RECEIPT_STATES = {
    "delivered": ReceiptState.DELIVERED,
    "expired": ReceiptState.EXPIRED,
    "failed": ReceiptState.UNDELIVERABLE,
    "rejected": ReceiptState.REJECTED,
    "accepted": ReceiptState.ACCEPTED,
    "buffered": ReceiptState.ENROUTE,
    "unknown": ReceiptState.UNKNOWN,
}


def reason(code: int | None) -> str:
    return code_reason(code, ({THROTTLED: "throttled"}, PERMANENT_CODES, LINK_CODES,
                              TEMPORARY_CODES), "Vonage status")


def dlr_reason(code: int | None) -> str:
    if not code:
        return ""
    return f"{DLR_ERRORS.get(code, 'Vonage err-code')} ({code})"


def join_secrets(api_secret: str, signature_secret: str) -> str:
    """The connection's token: both secrets, sealed together."""
    if SECRETS_SEPARATOR in api_secret or SECRETS_SEPARATOR in signature_secret:
        raise ValueError("a Vonage secret cannot hold a line break")
    return f"{api_secret}{SECRETS_SEPARATOR}{signature_secret}"


def split_secrets(token: str) -> tuple[str, str]:
    """(API secret, signature secret); no signature secret: every callback is refused."""
    api_secret, _, signature_secret = token.partition(SECRETS_SEPARATOR)
    return api_secret, signature_secret


def signature(secret: str, params: Mapping[str, str]) -> str:
    """The `sig` of a signed callback (HMAC-SHA256 method), hex, lower case."""
    data = "".join(f"&{name}={_clean(params[name])}" for name in sorted(params)
                   if name != "sig")
    return hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()


def _clean(value: str) -> str:
    return value.replace("&", "_").replace("=", "_")


def national(number: str) -> str:
    """Vonage writes numbers without the leading +."""
    return number.removeprefix("+")


class VonageShape:
    name = "vonage"

    def client_auth(self, account: ProviderAccount) -> tuple[str, str] | None:
        return None  # api_key and api_secret go in each request (never the signature secret)

    def submit_request(self, account: ProviderAccount, text: OutboundText) -> ProviderRequest:
        api_secret, _ = split_secrets(account.token)
        form = {"api_key": account.account, "api_secret": api_secret,
                "from": national(text.source), "to": national(text.destination),
                "text": text.body, "status-report-req": "1",
                "callback": account.callback("status"), "client-ref": str(text.message_id)}
        if text.encoding == "ucs2":
            form["type"] = "unicode"
        if text.validity_until is not None:
            left_ms = (text.validity_until - datetime.now(UTC)).total_seconds() * 1000
            form["ttl"] = str(int(min(max(left_ms, MIN_TTL_MS), MAX_TTL_MS)))
        return ProviderRequest("POST", SUBMIT_PATH, form=form)

    def read_submit_answer(self, text: OutboundText, answer: Answer) -> SubmitResult:
        status = answer.status_code
        if status == 429:
            return SubmitResult(text.message_id, SubmitStatus.THROTTLED, error_code=429,
                                detail="HTTP 429", retry_after_s=retry_after_s(answer.headers))
        if status >= 500:
            # It may have taken the text before failing: never sent again blindly.
            return SubmitResult(text.message_id, SubmitStatus.UNCERTAIN,
                                detail=f"provider error HTTP {status}")
        if status in (401, 403):
            return SubmitResult(text.message_id, SubmitStatus.NOT_SENT, error_code=4,
                                detail=f"{reason(4)}: HTTP {status}", link_error=True)
        parts = _messages_of(answer.body) if status == 200 else None
        if not parts:
            if 200 <= status < 300:
                return SubmitResult(text.message_id, SubmitStatus.UNCERTAIN,
                                    detail=f"HTTP {status} without readable messages")
            return SubmitResult(text.message_id, SubmitStatus.PERMANENT,
                                detail=f"HTTP {status}")
        ids = [p.get("message-id") for p in parts]
        codes = [int_or_none(p.get("status")) for p in parts]
        if all(c == 0 for c in codes) and all(ids):
            return SubmitResult(text.message_id, SubmitStatus.ACCEPTED, tuple(map(str, ids)))
        taken = [i for i, c in zip(ids, codes, strict=True) if c == 0 and i]
        first_bad = next(n for n, c in enumerate(codes) if c != 0 or not ids[n])
        code = codes[first_bad]
        detail = reason(code) if code is not None else "unreadable status"
        error_text = str(parts[first_bad].get("error-text") or "")
        if error_text and code not in PERMANENT_CODES:
            detail = f"{detail}: {error_text}"[:200]
        if taken:
            # Some parts left and will reach the handset: the text is not refused, nor sent
            # again (a recipient would read its first parts twice).
            return SubmitResult(text.message_id, SubmitStatus.UNCERTAIN, error_code=code,
                                detail=f"part {first_bad + 1} of {len(parts)} refused: "
                                       f"{detail}"[:200])
        if code == 0:  # taken without an id: its receipts cannot be matched
            return SubmitResult(text.message_id, SubmitStatus.UNCERTAIN,
                                detail="accepted without a message-id")
        if code == THROTTLED:
            return SubmitResult(text.message_id, SubmitStatus.THROTTLED, error_code=code,
                                detail=detail, retry_after_s=retry_after_s(answer.headers))
        if code in LINK_CODES:
            return SubmitResult(text.message_id, SubmitStatus.NOT_SENT, error_code=code,
                                detail=detail, link_error=True)
        if code in TEMPORARY_CODES:
            return SubmitResult(text.message_id, SubmitStatus.TEMPORARY, error_code=code,
                                detail=detail)
        return SubmitResult(text.message_id, SubmitStatus.PERMANENT, error_code=code,
                            detail=detail, recipient_opted_out=code == BARRED)

    def account_check(self, account: ProviderAccount) -> ProviderRequest:
        api_secret, _ = split_secrets(account.token)
        query = urlencode({"api_key": account.account, "api_secret": api_secret})
        return ProviderRequest("GET", f"{BALANCE_PATH}?{query}")

    def read_account_check(self, answer: Answer) -> str | None:
        if answer.status_code == 200:
            return None
        if answer.status_code in (401, 403):
            return f"{reason(4)} (wrong API key or secret)"
        return f"account check answered HTTP {answer.status_code}"

    def callback_fields(self, query: str, headers: Mapping[str, str],
                        body: bytes) -> dict[str, str]:
        """Vonage sends a callback as a GET (query), a form POST or a JSON POST."""
        fields = dict(parse_qsl(query, keep_blank_values=True))
        if not body:
            return fields
        if "json" in headers.get("content-type", ""):
            try:
                data = json.loads(body)
            except ValueError:
                return fields
            if isinstance(data, dict):
                fields.update({str(k): "" if v is None else str(v) for k, v in data.items()
                               if not isinstance(v, dict | list)})
            return fields
        fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return fields

    def callback_identity(self, kind: str, fields: Mapping[str, str]) -> tuple[str, str]:
        message_id = fields.get("messageId") or fields.get("message-id") or ""
        event = "" if kind == "inbound" else fields.get("status", "")
        return message_id, event

    def verify_callback(self, account: ProviderAccount, url: str, fields: Mapping[str, str],
                        headers: Mapping[str, str], body: bytes) -> bool:
        _, secret = split_secrets(account.token)
        given = fields.get("sig", "")
        if not secret or not given:
            return False
        if fields.get("api-key", account.account) != account.account:
            return False
        return hmac.compare_digest(signature(secret, fields), given.lower())

    def read_callback(self, kind: str, fields: Mapping[str, str]) -> ReadCallback:
        message_id, status = self.callback_identity(kind, fields)
        if kind == "inbound":
            return ReadCallback(inbound=InboundText(
                sender=fields.get("msisdn", ""), recipient=fields.get("to", ""),
                text=fields.get("text", ""), carrier_message_id=message_id),
                code=fields.get("to", ""))
        state = _RECEIPT_STATES.get(status.lower(), ReceiptState.UNKNOWN)
        code = int_or_none(fields.get("err-code"))
        receipt = DeliveryReceipt(
            carrier_message_id=message_id, state=state,
            error_code=code if code else None,
            raw=json.dumps({k: v for k, v in fields.items() if k != "sig"},
                           sort_keys=True)[:2000],
            recipient=fields.get("msisdn", ""))
        return ReadCallback(receipt=receipt, code=fields.get("to", ""), note=dlr_reason(code))


def _messages_of(body: bytes) -> list[dict] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return None
    return messages
