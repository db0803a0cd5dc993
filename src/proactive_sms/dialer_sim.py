"""A voice dialer simulator: asks the HTTP API for the next voice attempts of an agent skill,
"calls", and reports an outcome for each, drawn with configurable odds from a seeded generator.

It speaks to a running `psms serve` with an API key, as a real dialer would: the dialer is
another system and the API is its contract, so the simulator exercises exactly that path (keys,
the business unit's scope, per-item problems) rather than reaching into the store.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEFAULT_ODDS = {"answering_machine": 0.3, "no_answer": 0.3, "busy": 0.1, "sale": 0.1,
                "refused": 0.2}


class DialerError(RuntimeError):
    """The API refused a request (its problem detail is in the message)."""


def parse_odds(pairs: list[str]) -> dict[str, float]:
    """`["answering_machine=0.3", "sale=0.1"]` as a dict; weights need not add up to 1."""
    odds: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not name.strip() or weight < 0:
            raise ValueError(f"odds are OUTCOME=WEIGHT with a weight of 0 or more, got '{pair}'")
        odds[name.strip()] = weight
    if odds and sum(odds.values()) <= 0:
        raise ValueError("at least one outcome needs a weight above 0")
    return odds


@dataclass
class DialerLog:
    """What the simulator did: each call as (external id, step, attempt, outcome)."""

    calls: list[tuple[str, int, int, str]] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)  # the problems of refused items
    done: dict[str, str] = field(default_factory=dict)  # external id -> why the API said done

    def outcomes(self) -> Counter:
        return Counter(outcome for *_, outcome in self.calls)


class DialerSimulator:
    def __init__(self, base_url: str, api_key: str, skill: str,
                 odds: Mapping[str, float] | None = None, seed: int = 1, batch: int = 100,
                 timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.skill = urllib.parse.quote(skill, safe="")
        self.odds = dict(odds or DEFAULT_ODDS)
        self.random = random.Random(seed)
        self.batch = batch
        self.timeout_s = timeout_s
        self.log = DialerLog()
        self._names = list(self.odds)
        self._weights = [self.odds[n] for n in self._names]

    def _request(self, method: str, path: str, body: dict | None = None):
        # Here, not at the top: urllib.request loads http, email and ssl (tens of ms), and
        # `psms` imports this module for its odds at every start (issue 17).
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/v1/skills/{self.skill}{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.api_key}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError):  # not problem+json: keep the text
                detail = json.loads(detail).get("detail", detail)
            raise DialerError(f"{method} {path}: {exc.code} {detail}") from exc
        except urllib.error.URLError as exc:
            raise DialerError(f"cannot reach the API at {self.base_url} ({exc.reason}): is "
                              "`psms serve` running?") from exc

    def pick(self) -> str:
        return self.random.choices(self._names, self._weights)[0]

    def round(self) -> int:
        """Ask for due attempts, "call" each, report the outcomes; returns how many calls."""
        attempts = self._request("GET", f"/next-attempts?limit={self.batch}")
        if not attempts:
            return 0
        items = [{"external_id": a["external_id"], "step": a["step"], "attempt": a["attempt"],
                  "outcome": self.pick()} for a in attempts]
        answer = self._request("POST", "/outcomes", {"outcomes": items})
        for item, result in zip(items, answer["results"], strict=True):
            if not result["accepted"]:
                self.log.refused.append(result["problem"])
                continue
            self.log.calls.append((item["external_id"], item["step"], item["attempt"],
                                   item["outcome"]))
            record = result["record"]
            if record and record["done"]:
                self.log.done[item["external_id"]] = record["done_reason"]
        return len(items)

    def record(self, external_id: str) -> dict:
        """Where a record stands (done and why, or its step and attempts)."""
        return self._request("GET", f"/records/{urllib.parse.quote(external_id, safe='')}")

    def in_cadence(self) -> int:
        """Records whose cadence has not ended."""
        return self._request("GET", "/cadence/report")["records_by_end"].get("in_cadence", 0)

    def run(self, rounds: int | None = None, until_done: bool = True, idle_wait_s: float = 1.0,
            max_seconds: float | None = None,
            on_round: Callable[[int], None] | None = None) -> DialerLog:
        """Call round after round: `rounds` of them, or until every record's cadence ended
        (waiting idle_wait_s between rounds with nothing due: rest minutes)."""
        started = time.monotonic()
        done_rounds = 0
        while rounds is None or done_rounds < rounds:
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            calls = self.round()
            done_rounds += 1
            if on_round:
                on_round(calls)
            if calls == 0:
                if until_done and self.in_cadence() == 0:
                    break
                time.sleep(idle_wait_s)
        return self.log
