"""Reply-aware pacing: a skill whose texts invite replies goes no faster than its agents can
answer them.

A code's limit (`pacing.py`) says how fast the network takes texts; it says nothing of the five
agents who must answer what comes back. 20,000 texts at 100/s bring hundreds of replies a minute,
and customers wait for an answer that never comes. So, for a skill whose replies reach agents,
a text may leave only while the replies it may bring fit the places its agents have free:

    expected replies in flight + one text's share  <=  free places

- *free places*: over the skill's `available` agents, each one's limit of open conversations
  (`places_per_agent` when they have none) minus the conversations they hold, less the skill's
  conversations waiting for an agent (each of them will take a place first);
- *replies in flight*: the texts sent in the last `reply_window_s` (the time in which a reply
  usually comes) times the reply rate, less the replies already received from them (those hold
  places now, counted above);
- *reply rate*: replies per text, learnt as the skill runs and starting from a configured prior,
  which counts as `PRIOR_WEIGHT_TEXTS` texts: `(prior * weight + replies) / (weight + texts)`,
  over the texts whose reply window has passed and the replies received before the last window.
  Counting young texts would under-estimate the rate (their replies are still to come); counting
  their replies but not them would over-estimate it. Until a window has passed the prior alone
  decides; a prior far too low is still held by the places, which fill as the replies come.

Within that budget the texts are also spread out, at the rate that fills the free places in one
reply window: `free places / reply rate / reply window` (3 agents, 11 free places, reply rate 4%,
30 min -> 9 texts/min), so that replies come at a pace the agents can take, not all at once.
The code's limit stays the hard ceiling (the lane's own pacer); this only holds texts back.
With no agent available, or no free place, nothing leaves: the texts wait, and go as soon as
figures refreshed from the store (every housekeeping, never per text) show room again.

Time is whatever monotonic seconds the caller passes in, so tests drive it with a fake clock;
`try_send` is on the lane's hot path and does a few comparisons, no I/O, no allocation but one
deque entry per send.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_PRIOR_REPLY_RATE = 0.05  # replies per text until the skill has shown its own
PRIOR_WEIGHT_TEXTS = 100  # the prior weighs as much as this many texts of the skill's own
DEFAULT_PLACES_PER_AGENT = 5  # places of an agent who has no limit of their own
DEFAULT_REPLY_WINDOW_S = 1800.0  # most replies to a text come within half an hour
MIN_REPLY_RATE = 0.001  # a skill nobody answers still counts one reply per thousand texts


@dataclass(frozen=True, slots=True)
class AgentSeat:
    """One agent of the skill, as the pacing sees them."""

    available: bool
    open_conversations: int
    max_open_conversations: int | None  # None: `places_per_agent`


@dataclass(frozen=True, slots=True)
class ReplyFigures:
    """What the store says of a skill's agents and replies, read every so often."""

    available_agents: int
    free_places: int  # may be below 0: more conversations than places (transfers, backlog)
    replies: int  # people texted by the skill who replied (its conversations), ever
    replies_recent: int  # of those, opened in the last reply window
    texts_sent: int  # the skill's texts that have left, ever


def free_places(agents: Iterable[AgentSeat], waiting_conversations: int,
                places_per_agent: int = DEFAULT_PLACES_PER_AGENT) -> tuple[int, int]:
    """(available agents, free places) of a skill: places of its available agents minus what
    they hold, minus its conversations waiting for an agent. An agent who is away or offline
    takes nothing new, so their places do not count."""
    available = 0
    free = 0
    for seat in agents:
        if not seat.available:
            continue
        available += 1
        places = (seat.max_open_conversations if seat.max_open_conversations is not None
                  else places_per_agent)
        free += max(places - seat.open_conversations, 0)
    return available, free - waiting_conversations


def learnt_reply_rate(prior: float, replies: int, texts_matured: int) -> float:
    """Replies per text: the prior, weighing PRIOR_WEIGHT_TEXTS texts, moved by what the skill
    has shown. Never below MIN_REPLY_RATE nor above 1."""
    rate = (prior * PRIOR_WEIGHT_TEXTS + replies) / (PRIOR_WEIGHT_TEXTS + max(texts_matured,
                                                                                replies, 0))
    return min(max(rate, MIN_REPLY_RATE), 1.0)


@dataclass(frozen=True, slots=True)
class ReplyBound:
    """The bound a skill's agents set now, and why: for the status, the API and the console."""

    available_agents: int
    free_places: int
    reply_rate: float
    texts_per_min: float  # the pace that fills the free places in one reply window
    replies_in_flight: float  # replies expected from texts sent, not received yet
    waiting: bool  # no text may leave now for want of an agent or a place

    def explain(self) -> str:
        """'3 agents, 11 free places, reply rate 4% -> 9 texts/min', or why nothing goes."""
        agents = f"{self.available_agents} agent{'' if self.available_agents == 1 else 's'}"
        rate = f"reply rate {_percent(self.reply_rate)}"
        if self.available_agents == 0:
            return f"no agent available ({rate}): texts wait"
        places = f"{max(self.free_places, 0)} free place{'' if self.free_places == 1 else 's'}"
        if self.waiting:
            return (f"{agents}, {places}, {rate}, {self.replies_in_flight:.1f} replies in "
                    f"flight: texts wait")
        return f"{agents}, {places}, {rate} -> {_per_min(self.texts_per_min)} texts/min"


def _percent(rate: float) -> str:
    percent = rate * 100
    return f"{percent:.0f}%" if percent >= 10 or percent == int(percent) else f"{percent:.1f}%"


def _per_min(value: float) -> str:
    return f"{value:.0f}" if value >= 1 else f"{value:.2g}"


class ReplyGate:
    """One skill's pacing by the agents who answer its replies.

    `refresh` takes the store's figures (every housekeeping); `try_send` decides one text on the
    hot path; `ready_at` says when the next may go (infinity: not until the figures change).
    """

    def __init__(self, prior_reply_rate: float = DEFAULT_PRIOR_REPLY_RATE,
                 reply_window_s: float = DEFAULT_REPLY_WINDOW_S) -> None:
        if not 0 < prior_reply_rate <= 1:
            raise ValueError(f"the prior reply rate must be above 0 and at most 1, got "
                             f"{prior_reply_rate}")
        if reply_window_s <= 0:
            raise ValueError(f"the reply window must be above 0 s, got {reply_window_s}")
        self.prior = prior_reply_rate
        self.window_s = reply_window_s
        self._sends: deque[float] = deque()  # when each text of the last window left
        self.available_agents = 0
        self.free_places = 0
        self._replies_recent = 0
        self.reply_rate = prior_reply_rate
        self.interval_s = math.inf  # between two sends at the bound's pace
        self._due = -math.inf  # when the next send is due at that pace
        self._room = 0.0  # free places less the replies in flight, less one text's share

    def set_prior(self, prior_reply_rate: float) -> None:
        """A new prior (the skill's setting changed): it counts from the next figures on."""
        if not 0 < prior_reply_rate <= 1:
            raise ValueError(f"the prior reply rate must be above 0 and at most 1, got "
                             f"{prior_reply_rate}")
        self.prior = prior_reply_rate

    def refresh(self, figures: ReplyFigures, now: float) -> None:
        """New figures from the store: agents, places, replies."""
        self._expire(now)
        self.available_agents = figures.available_agents
        self.free_places = figures.free_places
        self._replies_recent = figures.replies_recent
        # Texts of the last window have not had their time to reply: not counted yet. After a
        # restart the window is empty here, and every text sent so far counts as matured.
        matured = max(figures.texts_sent - len(self._sends), 0)
        self.reply_rate = learnt_reply_rate(
            self.prior, max(figures.replies - figures.replies_recent, 0), matured)
        self._recompute()

    def _recompute(self) -> None:
        in_flight = self.replies_in_flight()
        self._room = self.free_places - in_flight - self.reply_rate
        if self.available_agents <= 0 or self.free_places <= 0:
            self.interval_s = math.inf
        else:
            per_s = self.free_places / self.reply_rate / self.window_s
            self.interval_s = 1.0 / per_s

    def replies_in_flight(self) -> float:
        """Replies expected from the texts of the last window and not received yet."""
        return max(len(self._sends) * self.reply_rate - self._replies_recent, 0.0)

    def _expire(self, now: float) -> bool:
        sends = self._sends
        horizon = now - self.window_s
        if not sends or sends[0] > horizon:
            return False
        while sends and sends[0] <= horizon:
            sends.popleft()
        return True

    def try_send(self, now: float) -> bool:
        """One text may leave at `now`: True (and counted), or False (it waits)."""
        # The hot path: inline checks, no call unless a send of the last window aged out.
        sends = self._sends
        if sends and sends[0] <= now - self.window_s:
            self._expire(now)
            self._recompute()
        if self._room < 0 or now < self._due:
            return False
        # The pace restarts from now after idle time: missed sends are not made up in a burst.
        due = self._due
        self._due = (due if due > now - self.interval_s else now) + self.interval_s
        sends.append(now)
        self._room -= self.reply_rate
        return True

    def ready_at(self, now: float) -> float:
        """The earliest moment the next text may leave (math.inf: not before new figures)."""
        sends = self._sends
        if sends and sends[0] <= now - self.window_s:
            self._expire(now)
            self._recompute()
        if self._room < 0:
            if not sends or self.free_places <= 0 or self.available_agents <= 0:
                return math.inf
            # Room comes back as the oldest sends leave the window (their replies came or
            # will not); else only new figures (an agent closing a conversation) bring it.
            return sends[0] + self.window_s
        return now if now >= self._due else self._due

    def bound(self, now: float) -> ReplyBound:
        """The bound now, and why."""
        if self._expire(now):
            self._recompute()
        per_min = 0.0 if math.isinf(self.interval_s) else 60.0 / self.interval_s
        return ReplyBound(self.available_agents, self.free_places, round(self.reply_rate, 4),
                          round(per_min, 2), round(self.replies_in_flight(), 2),
                          self._room < 0 or self.available_agents <= 0)


def invites_replies(skill_kind: str, solution: str) -> bool:
    """Whether a skill's texts bring replies that agents answer: an agent skill's SMS step, or
    any skill on an `sms_messaging` code (its replies become agents' conversations)."""
    return skill_kind == "agent" or solution == "sms_messaging"
