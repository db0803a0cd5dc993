"""The events a business unit's webhook receives, and the envelope each is sent in."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class EventType(enum.StrEnum):
    MESSAGE_STATUS = "message.status"  # a text was sent, delivered, undeliverable, expired, …
    INBOUND_RECEIVED = "inbound.received"  # a text came in on one of the BU's codes
    OPT_OUT = "opt_out"  # a STOP-type reply put the number on the DNC list
    OPT_IN = "opt_in"  # a START-type reply took it off again
    SKILL_STARTED = "skill.started"  # a skill was started: by a request, or by a schedule
    SKILL_FINISHED = "skill.finished"  # a skill has nothing left to send
    SKILL_STOPPED = "skill.stopped"  # a person stopped a skill: its pending texts were cancelled
    SKILL_PAUSED = "skill.paused"  # the system paused a skill: a budget was reached (why: reason)
    MESSAGE_CLICKED = "message.clicked"  # a recipient's first click on a tracked link of a text
    PING = "webhook.ping"  # a test sent on request (always sent, whatever the filter)


# The types a BU can subscribe to (a ping is always sent when asked for).
SUBSCRIBABLE = tuple(t.value for t in EventType if t is not EventType.PING)

# The message states a `message.status` event reports (pending/submitting are internal steps).
# `skipped` only when a text is skipped at the moment of sending (DNC since launch, no time
# zone): the skips decided at launch are in the skill's report, not one event each.
REPORTED_MESSAGE_STATES = frozenset(
    {"sent", "delivered", "undeliverable", "expired", "failed", "uncertain", "skipped"})


class StartTrigger(enum.StrEnum):
    """What started a skill (the `trigger` of a `skill.started` event)."""

    REQUEST = "request"  # a person or a program asked, through the console, the API or the CLI
    SCHEDULED_START = "scheduled_start"  # its own start later (`start --at`) came due
    SCHEDULE = "schedule"  # an occurrence of a recurring notice created and started it


@dataclass(frozen=True)
class StartedBy:
    """Why a skill started, as its `skill.started` event tells it."""

    trigger: StartTrigger = StartTrigger.REQUEST
    scheduled_for: datetime | None = None  # the moment it was due (a scheduled trigger)
    time_zone: str | None = None  # the zone that moment was given in
    schedule: str | None = None  # the recurring notice's name (trigger `schedule`)

    def as_data(self) -> dict[str, Any]:
        return {"trigger": self.trigger.value, "scheduled_for": self.scheduled_for,
                "time_zone": self.time_zone, "schedule": self.schedule}


BY_REQUEST = StartedBy()


def new_event_id() -> str:
    import secrets  # here: it loads hmac and hashlib, and `psms` reads SUBSCRIBABLE at start

    return "evt_" + secrets.token_hex(12)


def envelope(event_id: str, event_type: EventType, occurred_at: datetime,
             business_unit: str, data: dict[str, Any]) -> str:
    """The JSON body of a delivery, as sent (and signed) on every attempt."""
    return json.dumps({
        "id": event_id,
        "type": event_type.value,
        "occurred_at": iso(occurred_at),
        "business_unit": business_unit,
        "data": data,
    }, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # SQLite gives naive UTC
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
