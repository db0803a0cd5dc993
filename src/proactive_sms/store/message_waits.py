"""When due texts were put back to wait, and for what: a calling window, a frequency cap, or a
possible opt-out under review. Read by a number's history ("why was this number not texted?").

Written where the decision is taken, once per wait: a text deferred until its window opens is
not looked at again before then, so each timing deferral is a transition; a review hold is
looked at every minute while the review waits, so only its first hold is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from proactive_sms.store.schema import message_wait

WINDOW = "window"  # outside the recipient's calling window
FREQUENCY_CAP = "frequency_cap"  # the recipient had as many texts in 24 h as the cap allows
REVIEW = "review"  # a possible opt-out from the number awaits a person's review


@dataclass(frozen=True, slots=True)
class Wait:
    message_id: int
    kind: str  # WINDOW | FREQUENCY_CAP | REVIEW
    reason: str
    until: datetime | None  # None: until a person decides (a review)
    at: datetime


def record(conn: Connection, waits: Sequence[Wait]) -> None:
    """Keep waits that just began (one statement for a claim's whole group)."""
    if waits:
        conn.execute(message_wait.insert(), [
            {"message_id": w.message_id, "kind": w.kind, "reason": w.reason, "until": w.until,
             "at": w.at} for w in waits])


def of_messages(conn: Connection, message_ids: Sequence[int]) -> dict[int, list[Wait]]:
    """The waits of these texts, oldest first."""
    found: dict[int, list[Wait]] = {}
    ids = list(message_ids)
    for start in range(0, len(ids), 900):
        rows = conn.execute(select(message_wait)
                            .where(message_wait.c.message_id.in_(ids[start:start + 900]))
                            .order_by(message_wait.c.id))
        for r in rows:
            found.setdefault(r.message_id, []).append(
                Wait(r.message_id, r.kind, r.reason, r.until, r.at))
    return found
