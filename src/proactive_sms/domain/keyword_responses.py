"""What a registration answers to STOP, START and HELP, and the rules those answers follow.

Defaults comply with REFERENCE.md: the opt-out confirmation carries no marketing; the help answer
names the sender and how to reach it, the message frequency, "Msg&data rates may apply" and how to
stop. Toll-free codes answer nothing themselves: the carrier does, and its reply cannot be changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TOLL_FREE = "toll_free"
TEXT_KEYS = ("opt_out_text", "opt_in_text", "help_text")
SETTING_KEYS = (*TEXT_KEYS, "sender_name", "contact", "extra_keywords")

DEFAULT_OPT_OUT = ("{sender}: you are unsubscribed and will receive no more messages. "
                   "Reply START to resubscribe.")
DEFAULT_OPT_IN = ("{sender}: you are subscribed again. Msg frequency varies. Msg&data rates may "
                  "apply. Reply HELP for help, STOP to opt out.")
DEFAULT_HELP = ("{sender}: for help contact {contact}. Msg frequency varies. Msg&data rates may "
                "apply. Reply STOP to opt out.")


class KeywordResponseError(ValueError):
    """A keyword-response setting that is not allowed: names the setting and why."""


@dataclass(frozen=True)
class KeywordResponses:
    opt_out_text: str | None  # None: this code sends no confirmation of its own (toll-free)
    opt_in_text: str | None
    help_text: str | None
    extra_keywords: dict[str, list[str]]


def resolve(kind: str, settings: Mapping[str, object], default_sender: str) -> KeywordResponses:
    """The texts a registration of `kind` sends, from its stored settings and the defaults."""
    extra = dict(settings.get("extra_keywords") or {})  # type: ignore[arg-type]
    if kind == TOLL_FREE:
        return KeywordResponses(None, None, None, extra)
    sender = str(settings.get("sender_name") or default_sender)
    contact = str(settings.get("contact") or "the number you were texted from")

    def text(key: str, default: str) -> str:
        chosen = str(settings.get(key) or default)
        return chosen.replace("{sender}", sender).replace("{contact}", contact)

    return KeywordResponses(text("opt_out_text", DEFAULT_OPT_OUT),
                            text("opt_in_text", DEFAULT_OPT_IN),
                            text("help_text", DEFAULT_HELP), extra)


def validate_update(kind: str, updates: Mapping[str, object]) -> None:
    """Refuse what a registration of `kind` may not be given."""
    for key, value in updates.items():
        if key not in SETTING_KEYS:
            raise KeywordResponseError(f"unknown keyword-response setting '{key}' "
                                       f"(known: {', '.join(SETTING_KEYS)})")
        if kind == TOLL_FREE and key in TEXT_KEYS and value:
            raise KeywordResponseError(
                f"{key}: a toll-free code's STOP/START/HELP answers belong to the carrier and "
                "cannot be set")
        if key in TEXT_KEYS and value is not None and not str(value).strip():
            raise KeywordResponseError(f"{key} is empty")
    help_text = updates.get("help_text")
    if help_text and "stop" not in str(help_text).lower():
        raise KeywordResponseError("help_text must say how to stop (e.g. 'Reply STOP to opt out')")
