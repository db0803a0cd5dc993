"""The provider simulator's knobs; each can change while it runs (`configure`, or POST
/_sim/configure with a JSON object)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class ProviderSimConfig:
    account_sid: str = "AC" + "0" * 31 + "1"
    auth_token: str = "sim-auth-token"
    # The Vonage shape's account (routes /sms/json and /account/get-balance on the same server)
    api_key: str = "simkey01"
    api_secret: str = "sim-api-secret"
    signature_secret: str = "sim-signature-secret"
    # Which shape /_sim/inbound (and inject) posts an inbound text in, unless a request says
    inbound_shape: str = "twilio"
    # Throttling: above this many accepted texts in any second, 429 (code 20429) with
    # Retry-After: retry_after_s (None: never).
    throttle_above_per_s: float | None = None
    retry_after_s: float = 1.0
    # Every Nth submit answers 500; with error_5xx_accepts the text was taken all the same
    # (callbacks follow): the case that makes a 5xx `uncertain`, never re-sent.
    error_5xx_every: int | None = None
    error_5xx_accepts: bool = True
    slow_answer_s: float = 0.0  # every answer waits this long
    # Every Nth submit is taken but its answer is held lost_hold_s (past the client's timeout).
    lost_answer_every: int | None = None
    lost_hold_s: float = 30.0
    # Status callbacks: which statuses are posted after a text is taken, how long after, and
    # the faults: each posted twice; the final one first (before the submit is even answered,
    # whose answer then waits out_of_order_answer_s); signed with a wrong key.
    statuses: tuple[str, ...] = ("sent", "delivered")
    callback_delay_s: float = 0.02
    duplicate_callbacks: bool = False
    out_of_order_callbacks: bool = False
    out_of_order_answer_s: float = 0.2
    bad_signatures: bool = False
    # Fates by destination (E.164): refused at submit with this error code (Twilio: 21211
    # invalid, 21610 unsubscribed, 21614 not mobile...; Vonage: its status, 3, 7...), or taken
    # and then `undelivered` (Vonage: `failed`) with this code. Throttling in the Vonage shape
    # answers status 1.
    refuse: dict[str, int] = field(default_factory=dict)
    undeliverable: dict[str, int] = field(default_factory=dict)
    # Where inbound texts are posted (the number's messaging webhook), unless a request names it.
    inbound_url: str | None = None

    def with_knobs(self, **knobs: Any) -> ProviderSimConfig:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(knobs) - known)
        if unknown:
            raise ValueError(f"unknown provider-sim knob(s): {', '.join(unknown)}")
        if "statuses" in knobs:
            knobs["statuses"] = tuple(knobs["statuses"])
        for name in ("refuse", "undeliverable"):
            if name in knobs:
                knobs[name] = {str(k): int(v) for k, v in dict(knobs[name]).items()}
        return replace(self, **knobs)

    def as_dict(self) -> dict[str, Any]:
        secret = {"auth_token", "api_secret", "signature_secret"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in secret}
