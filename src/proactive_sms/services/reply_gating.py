"""Reply-aware pacing in the dispatcher: which skills it applies to, their figures from the
store at housekeeping, and the gates a code's lane asks for each text.

A lane carries every skill of its code; only some of them invite replies. The lane asks
`LaneReplyGates.allows(item, now)` for each text it is about to claim (a dict lookup and a few
comparisons: the figures behind it are refreshed at housekeeping, not per text). When a skill's
gate is shut its texts are set aside: the lane drops them from its buffer and reads no more of
them, so the other skills of the code go on; they stay `pending` (waiting, never skipped), and
go again as soon as the gate opens (the lane's `parked` texts, code_lane.py).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from proactive_sms.domain.reply_pacing import (
    DEFAULT_PRIOR_REPLY_RATE,
    ReplyBound,
    ReplyFigures,
    ReplyGate,
    invites_replies,
)
from proactive_sms.store import reply_pace
from proactive_sms.store.outbox import OutboxItem
from proactive_sms.store.registrations import Registration
from proactive_sms.store.skills import Skill


@dataclass(frozen=True)
class PacedSkill:
    """A running skill under reply-aware pacing, with its figures as last read."""

    skill_id: int
    registration_id: int
    prior_reply_rate: float
    figures: ReplyFigures


def read_paced_skills(conn: Connection, running: Sequence[Skill],
                      codes: dict[int, Registration], now: datetime, reply_window_s: float,
                      places_per_agent: int) -> list[PacedSkill]:
    """The running skills of these codes whose texts invite replies, whose setting is on and
    that some agent answers, with their figures (a few statements for all of them)."""
    chosen = [s for s in running if s.registration_id in codes and s.reply_pacing
              and invites_replies(s.kind, codes[s.registration_id].solution)]
    found = reply_pace.figures(conn, [s.id for s in chosen],
                               now - timedelta(seconds=reply_window_s), places_per_agent)
    return [PacedSkill(s.id, s.registration_id, s.reply_rate_prior or DEFAULT_PRIOR_REPLY_RATE,
                       found[s.id]) for s in chosen if s.id in found]


class LaneReplyGates:
    """The reply gates of one lane's skills, and the texts it has set aside for them."""

    def __init__(self, reply_window_s: float) -> None:
        self.reply_window_s = reply_window_s
        self.gates: dict[int, ReplyGate] = {}
        # Texts of skills whose gate was shut, in the order they were met; while a skill has
        # texts here the lane reads no more of its texts (`parked` keys go to fetch_pending).
        self.parked: dict[int, deque[OutboxItem]] = {}
        self.rewind = False  # a skill's parked texts all went: read from the start next time
        # The code's skills running at the dispatcher's last look. A text of another skill (one
        # started since) waits for the next look: until then nobody knows whether it invites
        # replies, and a fresh skill would otherwise send a housekeeping's worth unpaced.
        self.known: frozenset[int] = frozenset()

    def refresh(self, paced: Iterable[PacedSkill], now: float,
                running: frozenset[int] | None = None) -> None:
        """New figures, and the code's running skills (None: all those paced); a skill no
        longer paced (setting off, skill ended) loses its gate and its held texts go back."""
        seen = set()
        for entry in paced:
            seen.add(entry.skill_id)
            gate = self.gates.get(entry.skill_id)
            if gate is None:
                gate = self.gates[entry.skill_id] = ReplyGate(entry.prior_reply_rate,
                                                              self.reply_window_s)
            elif gate.prior != entry.prior_reply_rate:
                gate.set_prior(entry.prior_reply_rate)
            gate.refresh(entry.figures, now)
        for skill_id in [s for s in self.gates if s not in seen]:
            del self.gates[skill_id]
        self.known = frozenset(seen) if running is None else running | seen

    def allows(self, skill_id: int | None, now: float) -> bool:
        """Whether a text of this skill may be claimed now (counted if so). System texts
        (no skill) and known skills without reply pacing always may."""
        if skill_id is None:
            return True
        gate = self.gates.get(skill_id)
        if gate is None:
            return skill_id in self.known
        return gate.try_send(now)

    def shut(self, skill_id: int | None, now: float) -> bool:
        """Whether this skill's texts must be set aside now: its gate is shut, or the skill
        was not running at the dispatcher's last look."""
        if skill_id is None:
            return False
        gate = self.gates.get(skill_id)
        if gate is None:
            return skill_id not in self.known
        return gate.ready_at(now) > now

    def awaits_a_look(self) -> bool:
        """Whether texts are held for a skill the dispatcher's last look did not see running
        (one started since): only the next look can let them go."""
        return any(skill_id not in self.gates and skill_id not in self.known
                   for skill_id in self.parked)

    def wait_s(self, skill_id: int, now: float) -> float:
        """Seconds until this skill's next text may go (0: now; math.inf: not before new
        figures; a skill without a gate any more: now)."""
        gate = self.gates.get(skill_id)
        return 0.0 if gate is None else max(gate.ready_at(now) - now, 0.0)

    def bounds(self, now: float) -> dict[int, ReplyBound]:
        """Each paced skill's bound now, for the status."""
        return {skill_id: gate.bound(now) for skill_id, gate in self.gates.items()}

    # --- the lane's buffer -------------------------------------------------------------------

    def take(self, buffer: deque[OutboxItem], count: int, now: float) -> list[OutboxItem]:
        """Up to `count` texts from the head of `buffer`, each let through by its skill's gate
        (a text its gate refuses ends the group there, and is parked)."""
        group = []
        for _ in range(min(count, len(buffer))):
            item = buffer[0]
            if not self.allows(item.skill_id, now):
                self._park(buffer.popleft())
                break
            group.append(buffer.popleft())
        return group

    def _park(self, item: OutboxItem) -> None:
        self.parked.setdefault(item.skill_id, deque()).append(item)  # type: ignore[arg-type]

    def park_shut_heads(self, buffer: deque[OutboxItem], now: float) -> bool:
        """Set aside the texts at the head of `buffer` whose skill's gate is shut now (their
        skill waits for its agents); True if any was."""
        parked = False
        while buffer and self.shut(buffer[0].skill_id, now):
            self._park(buffer.popleft())
            parked = True
        return parked

    def unpark(self, buffer: deque[OutboxItem], now: float, poll_s: float) -> float:
        """Put back at the head of `buffer` one parked text of each skill whose gate is open
        (all of a skill no longer reply-paced); returns seconds until the next parked text may
        go (math.inf: none waits on time, only on new figures)."""
        if not self.parked:
            return math.inf
        soonest = math.inf
        for skill_id in list(self.parked):
            waiting = self.parked[skill_id]
            if skill_id not in self.gates:
                if skill_id in self.known:  # no longer paced: all of them go back
                    buffer.extendleft(reversed(waiting))
                    waiting.clear()
                else:  # not running at the last look (started since, or ended): dropped,
                    waiting.clear()  # read again from the store if it runs (they are pending)
                    soonest = min(soonest, poll_s)
            else:
                wait_s = self.wait_s(skill_id, now)
                if wait_s <= 0:
                    buffer.appendleft(waiting.popleft())
                soonest = min(soonest, wait_s if wait_s > 0 else poll_s)
            if not waiting:
                del self.parked[skill_id]
                self.rewind = True  # its texts past the parked ones were not read
        return soonest
