"""The provider API shapes this product speaks, by the name a connection gives."""

from __future__ import annotations

from proactive_sms.carriers.http.shape import ProviderShape
from proactive_sms.carriers.http.twilio import TwilioShape
from proactive_sms.carriers.http.vonage import VonageShape

SHAPES: dict[str, ProviderShape] = {"twilio": TwilioShape(), "vonage": VonageShape()}
DEFAULT_BASE_URLS = {"twilio": "https://api.twilio.com", "vonage": "https://rest.nexmo.com"}


def shape(name: str) -> ProviderShape:
    try:
        return SHAPES[name]
    except KeyError:
        raise ValueError(f"unknown provider '{name}' (known: {', '.join(SHAPES)})") from None
