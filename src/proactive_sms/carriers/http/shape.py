"""What a provider's API shape must say: the seam between the neutral client and one provider."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from proactive_sms.carriers.base import DeliveryReceipt, InboundText, OutboundText, SubmitResult


@dataclass(frozen=True)
class ProviderAccount:
    """One connection's account at a provider (the store's CarrierConnection, as the carrier
    edge needs it)."""

    connection_id: int
    base_url: str  # the provider API's base, e.g. https://api.twilio.com
    account: str  # the account id (Twilio: the Account SID)
    token: str  # the secret (Twilio: the Auth Token)
    # our public base URL: the provider posts to {callback_url}/carrier-callbacks/...
    callback_url: str

    def callback(self, kind: str) -> str:
        return f"{self.callback_url.rstrip('/')}/carrier-callbacks/{self.connection_id}/{kind}"


@dataclass(frozen=True)
class ProviderRequest:
    method: str
    path: str  # below the base URL
    form: Mapping[str, str] | None = None
    json: Mapping[str, object] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """A provider's answer, as the neutral client read it off the wire."""

    status_code: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class ReadCallback:
    """A callback read into the seam's types. `opted_out`: a number the provider says has
    unsubscribed (it goes onto the DNC list that applies to `code`)."""

    receipt: DeliveryReceipt | None = None
    inbound: InboundText | None = None
    opted_out: str | None = None
    code: str = ""  # our transport code it concerns (to find its registration's DNC list)
    note: str = ""


class ProviderShape(Protocol):
    name: str

    def client_auth(self, account: ProviderAccount) -> tuple[str, str] | None:
        """HTTP Basic credentials sent with every request, or None (credentials in the
        request itself)."""
        ...

    def submit_request(self, account: ProviderAccount, text: OutboundText) -> ProviderRequest: ...

    def read_submit_answer(self, text: OutboundText, answer: Answer) -> SubmitResult: ...

    def account_check(self, account: ProviderAccount) -> ProviderRequest: ...

    def read_account_check(self, answer: Answer) -> str | None:
        """None when the account answers as it should, else why not."""
        ...

    def callback_fields(self, query: str, headers: Mapping[str, str],
                        body: bytes) -> dict[str, str]:
        """A callback's parameters, wherever this provider puts them (form body, query, JSON)."""
        ...

    def callback_identity(self, kind: str, fields: Mapping[str, str]) -> tuple[str, str]:
        """(provider message id, event) of a callback: the pair a duplicate repeats."""
        ...

    def verify_callback(self, account: ProviderAccount, url: str, fields: Mapping[str, str],
                        headers: Mapping[str, str], body: bytes) -> bool: ...

    def read_callback(self, kind: str, fields: Mapping[str, str]) -> ReadCallback: ...


# Reading an answer: the same small steps whichever shape the provider's API has.

def code_reason(code: int | None, tables: Iterable[Mapping[int, str]], unknown: str) -> str:
    """A provider's error code in words, as "what it means (code)": the first of `tables` that
    knows the code names it; an unknown code reads "{unknown} {code}"; no code reads ""."""
    if code is None:
        return ""
    for table in tables:
        if code in table:
            return f"{table[code]} ({code})"
    return f"{unknown} {code}"


def int_or_none(raw: object) -> int | None:
    """A code read off an answer or a callback: None when it is absent or not a number."""
    try:
        return int(str(raw)) if raw not in (None, "") else None
    except ValueError:
        return None


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds (only the delta form; an HTTP date is read as 1 s)."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return 1.0
    return value if math.isfinite(value) and value >= 0 else None
