"""The cost of reply-aware pacing's decision per text, on the lane's hot path.

    .venv/bin/python bench/reply_pacing.py [--texts 1000000] [--repeat 5]

What a lane does for each text of a reply-paced skill: `LaneReplyGates.shut` when the text
reaches the head of its buffer, then `LaneReplyGates.allows` as it joins a claimed group (a
dict lookup, the window's expiry, a few comparisons, one deque append). Measured with a fake
monotonic clock that moves 10 ms a text, in three cases:

- *open*: 20 agents, 400 free places, 5% replies, a 30 min window: every text goes (the
  common case; the window's deque fills and expires as it would);
- *spaced*: the same skill asked every 0.1 ms: most asks are refused by the pace;
- *full*: no free place: every text is refused (the skill waits);

against a floor measured in the same run: the same loop calling a function that does one dict
lookup and returns True (what any per-text check costs in CPython). Best of `--repeat` runs, in
CPU time of this process (time.process_time): on a shared machine wall time would count the
moments other processes had the core. Figures, not a test; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from proactive_sms.domain.reply_pacing import ReplyFigures  # noqa: E402
from proactive_sms.services.reply_gating import LaneReplyGates, PacedSkill  # noqa: E402

SKILL = 7


def _gates(free_places: int) -> LaneReplyGates:
    gates = LaneReplyGates(1800.0)
    gates.refresh([PacedSkill(SKILL, 1, 0.05, ReplyFigures(20, free_places, 0, 0, 0))], 0.0)
    return gates


def _loop_floor(texts: int, step_s: float) -> tuple[float, float]:
    table = {SKILL: True}

    def check(skill_id: int, now: float) -> bool:
        return table.get(skill_id, True)

    now, started, wall = 0.0, time.process_time(), time.perf_counter()
    for _ in range(texts):
        check(SKILL, now)
        now += step_s
    return time.process_time() - started, time.perf_counter() - wall


def _loop_gates(texts: int, step_s: float, free_places: int) -> tuple[float, float, int]:
    gates = _gates(free_places)
    shut, allows = gates.shut, gates.allows
    sent, now, started, wall = 0, 0.0, time.process_time(), time.perf_counter()
    for _ in range(texts):
        if not shut(SKILL, now) and allows(SKILL, now):
            sent += 1
        now += step_s
    return time.process_time() - started, time.perf_counter() - wall, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.texts
    floor, floor_wall = min(_loop_floor(n, 0.01) for _ in range(args.repeat))
    cases = {"open (every text goes)": (0.01, 400_000),
             "spaced (asked every 0.1 ms, most wait for the pace)": (0.0001, 400),
             "full (no free place: every text waits)": (0.01, 0)}
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[0]
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {n:,} texts per run, "
          f"best of {args.repeat}, Python {platform.python_version()}, load average {load}")
    print()
    print("| case | texts let through | CPU ns per text | × floor | wall ns per text |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| floor: one dict lookup in a function call | - | {floor / n * 1e9:.0f} | 1.0x "
          f"| {floor_wall / n * 1e9:.0f} |")
    for name, (step_s, free) in cases.items():
        cpu, wall, sent = min(_loop_gates(n, step_s, free) for _ in range(args.repeat))
        print(f"| {name} | {sent:,} | {cpu / n * 1e9:.0f} | {cpu / floor:.1f}x "
              f"| {wall / n * 1e9:.0f} |")

if __name__ == "__main__":
    main()
