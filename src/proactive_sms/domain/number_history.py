"""A number's history: the decisions taken about it, as events in the order they happened.

Plain data, no I/O: services.number_history gathers the facts from the store and builds these.
Events that share a moment (an import and the launch that read it a moment later on a frozen
clock, a STOP and the DNC entry it made) keep the order of cause and effect by their kind.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class EventKind(enum.StrEnum):
    # In the order of cause and effect, for events of the same moment.
    IMPORTED = "imported"  # a calling-list record carries the number
    REIMPORTED = "reimported"  # a later import updated that record
    RECEIVED = "received"  # a text from the number: a reply, a keyword, a possible opt-out
    REVIEWED = "reviewed"  # a person (or the deadline) decided a possible opt-out
    DNC_ADDED = "dnc_added"  # put on a DNC list that applies to the unit's codes
    DNC_REMOVED = "dnc_removed"  # taken off one
    QUEUED = "queued"  # a skill decided to text it (or a system text was queued)
    SKIPPED = "skipped"  # a skill decided not to text it, and why
    WAITED = "waited"  # a due text put back: calling window or frequency cap, until when
    HELD = "held"  # a due text held while a possible opt-out from the number awaits review
    SUBMITTED = "submitted"  # left for the carrier, through which connection
    ACCEPTED = "accepted"  # the carrier took it and gave its id
    REFUSED = "refused"  # the carrier refused it for good (or retries ran out)
    UNCERTAIN = "uncertain"  # left, but no answer was recorded: never re-sent blindly
    RECEIPT = "receipt"  # the carrier's delivery receipt
    ENDED = "ended"  # expired or cancelled before it left


_RANK = {kind: rank for rank, kind in enumerate(EventKind)}


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime  # timezone-aware UTC
    kind: EventKind
    summary: str  # one sentence for a person, with no full phone number in it
    skill: str | None = None
    message_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def utc(moment: datetime) -> datetime:
    """A stored moment as aware UTC (SQLite gives naive UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def in_order(events: Iterable[HistoryEvent]) -> list[HistoryEvent]:
    """By time; at the same moment, cause before effect (the kinds' order); then as given."""
    indexed = list(enumerate(events))
    indexed.sort(key=lambda pair: (utc(pair[1].at), _RANK[pair[1].kind], pair[0]))
    return [event for _, event in indexed]
