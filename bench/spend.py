"""What spend control costs: the full dispatcher with and without prices and budgets, in one run.

    .venv/bin/python bench/spend.py [--texts 20000] [--repeat 2] [--no-docs]

Two worlds, the same in every other way (bench/dispatch.py's phase b: a fresh SQLite file, an
N-record list, one skill, the SMSC simulator in its own process, limits lifted, window 50):
- floor: the code has no price, nobody has a budget (what main does per text);
- spend: the code has a price, the skill a budget and the unit a monthly budget, both far above
  the cost, so nothing pauses: every text's cost is written at launch, the trigger of migration
  0033 adds each sent text to `skill_spend` in the result's transaction, and the dispatcher's
  budget check (services/spend_guard.py) runs at every refresh.
Rate = texts / (first claim -> last receipt stored), as in bench/dispatch.py. Also the start: a
start under a budget first runs the dry run (its cost is what a budget is checked against), so
it is timed with the launch. Runs are interleaved (floor, spend, floor, spend...); the table
shows the best of each and the ratio spend/floor of the best runs.

Prints a table and refreshes the generated block of the "Spend" section of
docs/benchmarks.md. Figures, not a pass/fail test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(ROOT))
sys.path.insert(2, str(ROOT / "bench"))

import results_doc  # noqa: E402
from dispatch import SHORT_CODE, WINDOW, _utc, write_list  # noqa: E402
from sim_process import SimulatorProcess  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from tests.services.dispatch_world import DaytimeClock  # noqa: E402

from proactive_sms.services import (  # noqa: E402
    administration,
    code_prices,
    importing,
    launching,
    spend,
)
from proactive_sms.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from proactive_sms.store.engine import open_engine  # noqa: E402
from proactive_sms.store.schema import message  # noqa: E402

SECTION = "## Spend (bench/spend.py)"
BODY = "Hi {FirstName}, a bonus shift is open."


@dataclass
class Run:
    world: str
    texts: int
    start_s: float  # start_skill: the dry run under a budget, then the launch
    dispatch_s: float  # first claim -> last receipt stored
    spent: str

    @property
    def rate_per_s(self) -> float:
        return self.texts / self.dispatch_s


def run(world: str, texts: int, workdir: Path) -> Run:
    engine = open_engine(f"sqlite:///{workdir / f'spend-{uuid.uuid4().hex[:6]}.db'}")
    try:
        with SimulatorProcess() as sim:
            clock = DaytimeClock()
            bu = administration.init(engine, clock, "bench", "bench", "US")
            administration.add_connection(engine, bu, clock, "sim", sim.host, sim.port, "psms",
                                          "secret", WINDOW)
            administration.add_registration(engine, bu, clock, code=SHORT_CODE, kind="short",
                                            throughput_per_s=1000.0, connection="sim",
                                            dnc_group=None)
            importing.import_calling_list(engine, bu, "people",
                                          write_list(workdir / f"list-{texts}.csv", texts), clock)
            budget = None
            if world == "spend":
                code_prices.set_price(engine, bu, clock, SHORT_CODE, "0.0079", "USD")
                spend.set_unit_budget(engine, bu, clock, monthly="1000000")
                budget = "1000000"
            created = administration.create_skill(engine, bu, clock, name="bulk",
                                                  registration=SHORT_CODE,
                                                  calling_list="people", budget=budget)
            started = time.perf_counter()
            launching.start_skill(engine, created.id, clock, message_text=BODY)
            start_s = time.perf_counter() - started
            dispatcher = Dispatcher(engine, clock, DispatchOptions(limits_lifted=True),
                                    worker_id="bench")
            asyncio.run(dispatcher.run(until_idle=True, receipt_grace_s=10.0))
        with engine.connect() as conn:
            delivered = conn.scalar(select(func.count()).select_from(message)
                                    .where(message.c.state == "delivered"))
            first, last = conn.execute(select(func.min(message.c.submitted_at),
                                              func.max(message.c.finished_at))).one()
        spent = spend.unit_spend(engine, bu, clock).as_dict()["spent"]
    finally:
        engine.dispose()
    if delivered != texts:
        raise RuntimeError(f"{world}: {delivered} of {texts} texts delivered")
    return Run(world, texts, start_s, (_utc(last) - _utc(first)).total_seconds(), spent)


def result_writes(priced: bool, texts: int, workdir: Path) -> float:
    """The store's side alone: seconds to move `texts` submitted texts to `sent` in batches of
    500 (as the dispatcher's result writer does), with or without a cost on each (with one,
    the trigger of 0033 counts every text). No network, no dispatcher: the trigger's own cost."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from proactive_sms.domain.clock import ManualClock
    from proactive_sms.domain.message_states import MessageState
    from proactive_sms.domain.prices import PriceList
    from proactive_sms.store import messages
    from proactive_sms.store.messages import Decision

    engine = open_engine(f"sqlite:///{workdir / f'writes-{uuid.uuid4().hex[:6]}.db'}")
    try:
        clock = ManualClock(datetime(2026, 3, 4, 16, 0, tzinfo=UTC))
        bu = administration.init(engine, clock, "bench", "bench", "US")
        administration.add_registration(engine, bu, clock, code=SHORT_CODE, kind="short",
                                        throughput_per_s=1000.0, connection=None,
                                        dnc_group=None)
        importing.import_calling_list(engine, bu, "people",
                                      write_list(workdir / f"list-{texts}.csv", texts), clock)
        created = administration.create_skill(engine, bu, clock, name="bulk",
                                              registration=SHORT_CODE, calling_list="people")
        with engine.connect() as conn:
            records = list(conn.scalars(text("SELECT id FROM calling_record ORDER BY id")))
        with engine.begin() as conn:
            messages.insert_decisions(conn, created.id, [
                Decision(r, MessageState.PENDING, f"+1212555{r % 10_000:04d}", "Hi", "gsm7", 1)
                for r in records], clock.now(), PriceList("USD", 7_900) if priced else None)
        with engine.connect() as conn:
            ids = list(conn.scalars(select(message.c.id).order_by(message.c.id)))
        now = clock.now()
        with engine.begin() as conn:
            messages.transition(conn, ids, MessageState.SUBMITTING, now, submitted_at=now)
        started = time.perf_counter()
        for i in range(0, len(ids), 500):
            with engine.begin() as conn:
                messages.transition(conn, ids[i:i + 500], MessageState.SENT, now, sent_at=now)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def report(texts: int, runs: list[Run], writes: dict[bool, list[float]] | None = None) -> str:
    best = {w: max((r for r in runs if r.world == w), key=lambda r: r.rate_per_s)
            for w in ("floor", "spend")}
    rows = []
    for world, found in best.items():
        mine = [r for r in runs if r.world == world]
        rows.append((world, f"{found.rate_per_s:,.0f}",
                     ", ".join(f"{r.rate_per_s:,.0f}" for r in mine),
                     f"{min(r.start_s for r in mine):.2f}", found.spent))
    lines = [f"{results_doc.run_heading()}. {texts:,} texts, SQLite, window {WINDOW}, limits "
             "lifted.", "",
             results_doc.table(("world", "texts/s (best)", "runs", "start s (best)", "spent"),
                               rows, align="lrlrr")]
    ratio = best["spend"].rate_per_s / best["floor"].rate_per_s
    start_ratio = (min(r.start_s for r in runs if r.world == "spend")
                   / min(r.start_s for r in runs if r.world == "floor"))
    lines += ["", f"spend/floor dispatch rate: **{ratio:.2f}**; start (dry run + launch "
                  f"under a budget) / launch alone: **{start_ratio:.2f}**"]
    if writes:
        floor, priced = (min(writes[False]) / texts * 1e6, min(writes[True]) / texts * 1e6)
        lines += ["", f"Results written (store alone, {texts:,} texts, batches of 500, best of "
                      f"{len(writes[False])}): floor {floor:.1f} us/text, counted as spent "
                      f"{priced:.1f} us/text: the trigger costs **{priced - floor:.1f} us** a "
                      f"text (ratio {priced / floor:.2f})."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="psms-bench-spend-") as folder:
        for _ in range(args.repeat):
            for world in ("floor", "spend"):
                found = run(world, args.texts, Path(folder))
                print(f"{world}: {found.rate_per_s:,.0f} texts/s, start {found.start_s:.2f} s",
                      flush=True)
                runs.append(found)
        writes: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(3):
            for priced in (False, True):
                writes[priced].append(result_writes(priced, args.texts, Path(folder)))
    table = report(args.texts, runs, writes)
    print(table)
    if not args.no_docs:
        results_doc.write_block("spend.py", SECTION, table)


if __name__ == "__main__":
    main()
