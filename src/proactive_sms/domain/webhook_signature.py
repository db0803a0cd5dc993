"""Signing webhook deliveries: HMAC-SHA256 over "<unix seconds>.<raw body>".

The header a receiver checks is `PSMS-Signature: t=<unix seconds>,v1=<hex digest>`. The timestamp
is inside what is signed, so a captured delivery cannot be replayed later than the receiver's
tolerance (docs/webhooks.md documents the recipe; receivers should allow 5 minutes).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "PSMS-Signature"
EVENT_ID_HEADER = "PSMS-Event-Id"
EVENT_TYPE_HEADER = "PSMS-Event-Type"
TOLERANCE_S = 300  # how old a signed timestamp a receiver should accept


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the PSMS-Signature header for one delivery."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"
