"""Signing webhook deliveries as the Standard Webhooks specification says (standardwebhooks.com).

Every delivery carries three headers:
- `webhook-id`: the event's id, the same on every retry and redelivery (receivers drop repeats);
- `webhook-timestamp`: the unix seconds of this attempt;
- `webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`.

The HMAC key comes from the endpoint's secret. A *standard* secret is `whsec_` followed by the
standard base64 of 32 random bytes; the key is those bytes, so receivers verify with the
official libraries given the secret as it is (`Webhook("whsec_…")`).

Secrets made before this scheme (`whsec_` + URL-safe base64 without padding, 43 characters)
are *legacy*: their receivers hashed the whole string, as UTF-8, over "<timestamp>.<body>" and
read `PSMS-Signature: t=<unix seconds>,v1=<hex digest>`. Their deliveries keep that header
(unchanged, so those receivers keep working) beside the standard ones, whose key is then the
secret's UTF-8 bytes (`Webhook(secret.encode())` verifies them). Rotating a legacy secret gives
a standard one, and the legacy header stops. docs/webhooks.md says the same for integrators.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64 bytes
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"

# Sent only for legacy secrets: the scheme their receivers were written for.
LEGACY_SIGNATURE_HEADER = "PSMS-Signature"
LEGACY_EVENT_ID_HEADER = "PSMS-Event-Id"
LEGACY_EVENT_TYPE_HEADER = "PSMS-Event-Type"

TOLERANCE_S = 300  # how old (or early) a signed timestamp a receiver should accept


def new_secret() -> str:
    """A fresh standard secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def standard_key(secret: str) -> bytes | None:
    """The key bytes of a standard secret, or None when `secret` is not one (a legacy secret:
    its URL-safe alphabet and missing padding never pass the strict decode)."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES else None


def is_legacy(secret: str) -> bool:
    return standard_key(secret) is None


def signing_key(secret: str) -> bytes:
    """The HMAC key of the standard signature: the decoded bytes of a standard secret, the
    UTF-8 bytes of a legacy one."""
    key = standard_key(secret)
    return key if key is not None else secret.encode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of "<id>.<t>.<body>"."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def legacy_signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The `PSMS-Signature` value of the scheme before Standard Webhooks."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signed_headers(secret: str, msg_id: str, event_type: str, timestamp: int,
                   body: bytes) -> dict[str, str]:
    """Every signing header of one delivery attempt."""
    headers = {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, msg_id, timestamp, body),
    }
    if is_legacy(secret):
        headers[LEGACY_SIGNATURE_HEADER] = legacy_signature_header(secret, timestamp, body)
        headers[LEGACY_EVENT_ID_HEADER] = msg_id
        headers[LEGACY_EVENT_TYPE_HEADER] = event_type
    return headers
