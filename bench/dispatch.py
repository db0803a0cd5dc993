"""Dispatch throughput against the SMPP client's own ceiling, and pacing at 100 codes, in one run.

    .venv/bin/python bench/dispatch.py [--texts 50000] [--pacing-seconds 60] [--codes 100]
                                       [--repeat 2] [--skip-pacing] [--no-docs] [--src DIR]

The SMSC simulator runs in a separate process (`python -m proactive_sms.carriers.smsc_sim`), a
fresh one per phase, so that client and server each have a core, as a carrier would be elsewhere;
its records are read back through its control HTTP interface (bench/sim_process.py) after each
phase.

0. Context: the simulator's raw load client (carriers/smsc_sim/loadtest.py: no library, no store)
   pushing the same number of submit_sm, window 50, receipts answered.
(a) The ceiling: our SmppCarrier alone (window 50), no database: N single-part texts submitted by
   50 workers, every receipt handed to a handler that only counts it.
(b) The full dispatcher: a fresh SQLite file (the embedded default), an N-record calling list
   imported and a skill launched (timed separately, not part of the rate), then
   Dispatcher(DispatchOptions(limits_lifted=True)) over a window-50 connection until every text
   is sent and every receipt stored. Rate = texts / (first claim -> last receipt stored), read
   from the message rows (submitted_at, finished_at). Also on PostgreSQL when
   PSMS_BENCH_POSTGRES_URL is set (a database of our own is created and dropped).
   The ratio b/a compares like with like: first submit -> last receipt, both sides.
Pacing: `--codes` long codes at 5/s each (one calling list, one skill per code), all on one
   window-50 connection, with more texts than the time allows; the dispatcher runs for
   `--pacing-seconds` after the first arrival. From the simulator's arrival times, per code: the
   texts that arrived in the first `--pacing-seconds` seconds against rate x seconds (utilisation),
   and the worst one-second window (most arrivals in any [t, t + 1 s) starting at an arrival).
   CPU of both processes is reported (percent of one core).

The throughput phases run `--repeat` times, interleaved (raw, a, b, raw, a, b ...), and the table
shows the best run of each (the one least disturbed by other work on the machine) with every run
listed; b/a is the ratio of the best runs, and of the medians for comparison. `--src DIR` measures
another source tree (for instance an exported older commit) with this script and this simulator.

Prints a table and refreshes the generated block of the "Dispatch" section of docs/benchmarks.md
(the text around the block is written by people and left alone). Figures, not a pass/fail test:
the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# --src DIR: measure the package of another tree (read before anything of ours is imported).
SOURCE = (Path(sys.argv[sys.argv.index("--src") + 1]).resolve()
          if "--src" in sys.argv[:-1] else ROOT / "src")
sys.path.insert(0, str(SOURCE))
sys.path.insert(1, str(ROOT))  # tests.services.dispatch_world (after SOURCE: its package wins)

import results_doc  # noqa: E402  # bench/results_doc.py: this folder is on the path
from results_doc import machine  # noqa: E402  # spend, soak, workers, stop_latency take it here too
from sim_process import RECEIPT_DELAY_S, SimulatorProcess  # noqa: E402  # (soak, workers, spend take it here too)
from sqlalchemy import Engine, create_engine, func, select, text  # noqa: E402

# The recipients are US numbers: read on a weekday afternoon in the US (real elapsed time), the
# calling-window rules are applied as in production and let every text go, whatever the hour
# the bench runs at (with the system clock it waited all night for the window to open).
from tests.services.dispatch_world import DaytimeClock  # noqa: E402

from proactive_sms.carriers.base import DeliveryReceipt, OutboundText, SourceKind  # noqa: E402
from proactive_sms.services import administration, importing, launching  # noqa: E402
from proactive_sms.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from proactive_sms.store.engine import database_url, open_engine  # noqa: E402
from proactive_sms.store.schema import message  # noqa: E402

SECTION = "## Dispatch (bench/dispatch.py)"
WINDOW = 50
BODY = "Hi {FirstName}, a bonus shift is open."
SHORT_CODE = "55501"
GOAL_RATE_PER_S = 5000.0
GOAL_RATIO = 0.5
PACING_RATE_PER_S = 5


# --- the calling list ---------------------------------------------------------------------------


def destination(i: int) -> str:
    """A distinct valid US mobile-looking number per i (up to 8 million)."""
    exchange = 200 + (i // 10_000) % 800
    return f"212{exchange:03d}{i % 10_000:04d}"


def write_list(path: Path, count: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ExternalId", "FirstName", "LastName", "PhoneNumber", "IsCellPhone"])
        for i in range(count):
            writer.writerow([f"C{i:07d}", f"Ann{i}", "Lee", destination(i), "true"])
    return path


# --- 0: the raw load client -------------------------------------------------------------------


@dataclass
class RawResult:
    submits_per_s: float
    through_receipts_per_s: float


def bench_raw(texts: int) -> RawResult:
    from proactive_sms.carriers.smsc_sim.loadtest import run_load

    with SimulatorProcess() as sim:
        result = asyncio.run(run_load(sim.host, sim.port, texts, WINDOW, receipts=True))
    return RawResult(result.submits_per_s, result.receipts_per_s)


# --- (a): SmppCarrier alone --------------------------------------------------------------------


@dataclass
class Phase:
    """One timed run: texts, the time to the last submit answer and to the last receipt."""

    name: str
    texts: int
    submit_s: float  # first submit -> last submit answered (a) / stored (b)
    receipts_s: float  # first submit -> last receipt handled (a) / stored (b)
    client_cpu_s: float
    sim_cpu_s: float
    at_carrier: int  # accepted submit_sm the simulator recorded
    extra: dict = field(default_factory=dict)

    @property
    def rate_per_s(self) -> float:
        return self.texts / self.receipts_s if self.receipts_s else 0.0

    @property
    def submit_rate_per_s(self) -> float:
        return self.texts / self.submit_s if self.submit_s else 0.0


def bench_carrier(texts: int) -> Phase:
    from proactive_sms.carriers.smpp.client import SmppCarrier
    from proactive_sms.carriers.smpp.config import SmppConfig

    async def run(sim: SimulatorProcess) -> tuple[float, float, float, int]:
        receipts = 0
        last_receipt = 0.0
        all_in = asyncio.Event()

        async def on_receipt(receipt: DeliveryReceipt) -> None:
            nonlocal receipts, last_receipt
            receipts += 1
            last_receipt = time.perf_counter()
            if receipts >= texts:
                all_in.set()

        async def on_inbound(_text) -> None:
            return None

        carrier = SmppCarrier(
            SmppConfig(host=sim.host, port=sim.port, system_id="psms", password="secret",
                       window_size=WINDOW),
            on_receipt, on_inbound)
        await carrier.start()
        if not await carrier.wait_bound(10):
            raise RuntimeError("SmppCarrier did not bind")
        outbound = [
            OutboundText(message_id=i, source=SHORT_CODE, source_kind=SourceKind.SHORT,
                         destination="+1" + destination(i), body=(b := f"Hi Ann{i}, a bonus "
                         "shift is open."), encoding="gsm7", parts=(b,))
            for i in range(texts)
        ]
        accepted = 0
        cursor = iter(outbound)

        async def worker() -> None:
            nonlocal accepted
            for item in cursor:
                result = await carrier.submit(item)
                accepted += result.status.value == "accepted"

        cpu0 = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(WINDOW)))
        submitted = time.perf_counter()
        await asyncio.wait_for(all_in.wait(), 60)
        cpu = time.process_time() - cpu0
        await carrier.stop()
        if accepted != texts:
            raise RuntimeError(f"only {accepted} of {texts} accepted")
        return submitted - start, last_receipt - start, cpu, accepted

    with SimulatorProcess() as sim:
        sim_cpu0 = sim.cpu_s()
        submit_s, receipts_s, cpu, _ = asyncio.run(run(sim))
        sim_cpu = sim.cpu_s() - sim_cpu0
        at_carrier = len(sim.submits())
    return Phase("(a) SmppCarrier alone", texts, submit_s, receipts_s, cpu, sim_cpu, at_carrier)


# --- (b): the full dispatcher ------------------------------------------------------------------


def _postgres_database(admin_url: str):
    admin = create_engine(database_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"psms_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = database_url(admin_url).rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepare_world(engine: Engine, sim: SimulatorProcess, workdir: Path, texts: int,
                   clock: DaytimeClock) -> tuple[int, float, float]:
    """BU, connection, short code, list, skill launched; returns (skill id, import s, launch s)."""
    bu = administration.init(engine, clock, "bench", "bench", "US")
    administration.add_connection(engine, bu, clock, "sim", sim.host, sim.port, "psms", "secret",
                                  WINDOW)
    administration.add_registration(engine, bu, clock, code=SHORT_CODE, kind="short",
                                    throughput_per_s=1000.0, connection="sim", dnc_group=None)
    path = write_list(workdir / f"list-{texts}.csv", texts)
    started = time.perf_counter()
    importing.import_calling_list(engine, bu, "people", path, clock)
    imported = time.perf_counter()
    created = administration.create_skill(engine, bu, clock, name="bulk", registration=SHORT_CODE,
                                          calling_list="people")
    summary = launching.start_skill(engine, created.id, clock, message_text=BODY)
    launched = time.perf_counter()
    if summary.pending != texts:
        raise RuntimeError(f"launch made {summary.pending} pending texts, expected {texts}")
    return created.id, imported - started, launched - imported


def _load_once_per_process() -> None:
    import phonenumbers.geocoder  # noqa: F401

    from proactive_sms.domain import time_zones

    time_zones.load_zip_table()


def bench_dispatcher(texts: int, url: str | None, label: str, workdir: Path,
                     options: DispatchOptions | None = None) -> Phase:
    engine = open_engine(url or f"sqlite:///{workdir / f'dispatch-{uuid.uuid4().hex[:6]}.db'}")
    try:
        with SimulatorProcess() as sim:
            clock = DaytimeClock()
            skill_id, import_s, launch_s = _prepare_world(engine, sim, workdir, texts, clock)
            dispatcher = Dispatcher(engine, clock,
                                    options or DispatchOptions(limits_lifted=True),
                                    worker_id="bench")
            # What a dispatcher loads once for its life (phonenumbers' geocoder, zipcodes'
            # table: 0.3-3 s of CPU) is loaded before the clocks start: a running dispatcher
            # has them, and the figure is the cost per text.
            _load_once_per_process()
            sim_cpu0, cpu0 = sim.cpu_s(), time.process_time()
            wall0 = time.perf_counter()
            asyncio.run(dispatcher.run(until_idle=True, receipt_grace_s=10.0))
            wall = time.perf_counter() - wall0
            cpu, sim_cpu = time.process_time() - cpu0, sim.cpu_s() - sim_cpu0
            records = sim.submits()
        with engine.connect() as conn:
            states = dict(conn.execute(
                select(message.c.state, func.count()).where(message.c.skill_id == skill_id)
                .group_by(message.c.state)).all())
            first, last_sent, last_done = conn.execute(
                select(func.min(message.c.submitted_at), func.max(message.c.sent_at),
                       func.max(message.c.finished_at))
                .where(message.c.skill_id == skill_id)).one()
    finally:
        engine.dispose()
    if states != {"delivered": texts}:
        raise RuntimeError(f"{label}: not every text delivered: {states}")
    destinations = [r["destination_addr"] for r in records]
    if len(destinations) != texts or len(set(destinations)) != texts:
        raise RuntimeError(f"{label}: the simulator saw {len(destinations)} submits to "
                           f"{len(set(destinations))} numbers, expected {texts} once each")
    first, last_sent, last_done = (_utc(first), _utc(last_sent), _utc(last_done))
    return Phase(f"(b) dispatcher, {label}", texts, (last_sent - first).total_seconds(),
                 (last_done - first).total_seconds(), cpu, sim_cpu, len(records),
                 {"import_s": import_s, "launch_s": launch_s, "wall_s": wall})


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- pacing ------------------------------------------------------------------------------------


@dataclass
class PacingResult:
    codes: int
    rate_per_s: int
    seconds: float
    utilisation_min: float
    utilisation_median: float
    utilisation_max: float
    worst_window_max: int  # most arrivals in one second of any code
    codes_over: int  # codes with at least one window over the limit
    windows_over: int  # windows (one per arrival that starts it) over the limit, all codes
    client_cpu_pct: float
    sim_cpu_pct: float
    texts: int


def long_code(n: int) -> str:
    return f"202555{n:04d}"


def bench_pacing(codes: int, seconds: float, workdir: Path) -> PacingResult:
    engine = open_engine(f"sqlite:///{workdir / f'pacing-{uuid.uuid4().hex[:6]}.db'}")
    per_code = int(PACING_RATE_PER_S * (seconds + 5))  # more than the time allows
    try:
        with SimulatorProcess() as sim:
            clock = DaytimeClock()
            bu = administration.init(engine, clock, "bench", "bench", "US")
            administration.add_connection(engine, bu, clock, "sim", sim.host, sim.port, "psms",
                                          "secret", WINDOW)
            write_list(workdir / "pacing.csv", per_code)
            importing.import_calling_list(engine, bu, "people", workdir / "pacing.csv", clock)
            for n in range(1, codes + 1):
                administration.add_registration(
                    engine, bu, clock, code=long_code(n), kind="long",
                    throughput_per_s=PACING_RATE_PER_S, connection="sim", dnc_group=None)
                created = administration.create_skill(
                    engine, bu, clock, name=f"paced{n}", registration=long_code(n),
                    calling_list="people")
                launching.start_skill(engine, created.id, clock, message_text=BODY)

            async def run() -> tuple[float, float, float]:
                dispatcher = Dispatcher(engine, clock, DispatchOptions(), worker_id="bench")
                task = asyncio.create_task(dispatcher.run())
                assert sim.control is not None
                while not (await asyncio.to_thread(sim.control.stats))["accepted"]:
                    await asyncio.sleep(0.05)
                sim_cpu0, cpu0, wall0 = sim.cpu_s(), time.process_time(), time.perf_counter()
                await asyncio.sleep(seconds + 1.0)
                wall = time.perf_counter() - wall0
                cpu, sim_cpu = time.process_time() - cpu0, sim.cpu_s() - sim_cpu0
                dispatcher.stop()
                await task
                return wall, cpu, sim_cpu

            wall, cpu, sim_cpu = asyncio.run(run())
            records = sim.submits()
    finally:
        engine.dispose()
    arrivals: dict[str, list[float]] = defaultdict(list)
    for record in records:
        arrivals[record["source_addr"].lstrip("+")].append(record["monotonic_s"])
    start = min(min(times) for times in arrivals.values())
    utilisation, worst, windows_over = [], [], 0
    for n in range(1, codes + 1):
        times = sorted(arrivals.get("1" + long_code(n), []))
        in_time = sum(1 for t in times if t < start + seconds)
        utilisation.append(in_time / (PACING_RATE_PER_S * seconds))
        counts = _window_counts(times)
        worst.append(max(counts, default=0))
        windows_over += sum(1 for c in counts if c > PACING_RATE_PER_S)
    return PacingResult(
        codes, PACING_RATE_PER_S, seconds, min(utilisation), statistics.median(utilisation),
        max(utilisation), max(worst), sum(1 for w in worst if w > PACING_RATE_PER_S),
        windows_over, 100 * cpu / wall, 100 * sim_cpu / wall, len(records))


def _window_counts(times: list[float]) -> list[int]:
    """For each arrival, how many arrivals fall in the one second that starts with it."""
    counts, end = [], 0
    for i, t in enumerate(times):
        end = max(end, i)
        while end < len(times) and times[end] < t + 1.0:
            end += 1
        counts.append(end - i)
    return counts


# --- report ------------------------------------------------------------------------------------


def _best(phases: list[Phase]) -> Phase:
    return max(phases, key=lambda p: p.rate_per_s)


def _runs(rates: list[float]) -> str:
    return ", ".join(f"{r:,.0f}" for r in rates)


def report(texts: int, raws: list[RawResult], carriers: list[Phase],
           runs: dict[str, list[Phase]], pacing: PacingResult | None) -> str:
    source = "" if SOURCE == ROOT / "src" else f" Code measured: {SOURCE}."
    lines = [f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; simulator in its own "
             f"process, receipts after {RECEIPT_DELAY_S * 1000:.0f} ms, window {WINDOW}; best of "
             f"{max(len(carriers), len(raws), 1)} interleaved runs (all runs listed).{source}", ""]
    lines += ["| run | texts | submit rate | rate to last receipt | b/a | client CPU (per text) | "
              "simulator CPU | all runs (to last receipt) |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    if raws:
        raw = max(raws, key=lambda r: r.through_receipts_per_s)
        lines.append(f"| raw load client (loadtest.py), context | {texts:,} | "
                     f"{raw.submits_per_s:,.0f}/s | {raw.through_receipts_per_s:,.0f}/s | | | | "
                     f"{_runs([r.through_receipts_per_s for r in raws])} |")
    carrier = _best(carriers) if carriers else None
    for phases in ([carriers] if carriers else []) + list(runs.values()):
        phase = _best(phases)
        ratio = (f"{phase.rate_per_s / carrier.rate_per_s:.2f}"
                 if carrier and phase is not carrier else "")
        lines.append(
            f"| {phase.name} | {phase.texts:,} | {phase.submit_rate_per_s:,.0f}/s | "
            f"**{phase.rate_per_s:,.0f}/s** | {ratio} | "
            f"{100 * phase.client_cpu_s / phase.receipts_s:.0f}% "
            f"({1e6 * phase.client_cpu_s / phase.texts:,.0f} us) | "
            f"{100 * phase.sim_cpu_s / phase.receipts_s:.0f}% | "
            f"{_runs([p.rate_per_s for p in phases])} |")
    for phases in runs.values():
        phase = _best(phases)
        lines += ["", f"{phase.name}: import {phase.extra['import_s']:.1f} s, launch "
                  f"{phase.extra['launch_s']:.1f} s (not in the rate); first submit -> last submit "
                  f"stored {phase.submit_s:.2f} s, -> last receipt stored {phase.receipts_s:.2f} "
                  f"s; every text delivered, each number once at the simulator."]
    sqlite = runs.get("SQLite")
    if carriers and sqlite:
        best = _best(sqlite)
        ratio = best.rate_per_s / carrier.rate_per_s
        median_ratio = (statistics.median(p.rate_per_s for p in sqlite)
                        / statistics.median(p.rate_per_s for p in carriers))
        met = best.rate_per_s >= GOAL_RATE_PER_S and ratio >= GOAL_RATIO
        lines += ["", f"b/a on SQLite: {ratio:.2f} (best runs), {median_ratio:.2f} (medians). "
                  f"Goals (b >= {GOAL_RATE_PER_S:,.0f}/s and b/a >= {GOAL_RATIO}): "
                  f"{'met' if met else 'not met'} - b {best.rate_per_s:,.0f}/s "
                  f"{'>=' if best.rate_per_s >= GOAL_RATE_PER_S else '<'} "
                  f"{GOAL_RATE_PER_S:,.0f}/s, b/a {ratio:.2f} "
                  f"{'>=' if ratio >= GOAL_RATIO else '<'} {GOAL_RATIO}."]
    if pacing:
        lines += [
            "", f"Pacing: {pacing.codes} long codes x {pacing.rate_per_s}/s on one window-{WINDOW} "
            f"connection for {pacing.seconds:g} s ({pacing.texts:,} texts at the simulator):", "",
            "| utilisation min / median / max | worst 1-s window (any code) | codes over | "
            "windows over | dispatcher CPU | simulator CPU |",
            "|---|---:|---:|---:|---:|---:|",
            f"| {pacing.utilisation_min:.1%} / {pacing.utilisation_median:.1%} / "
            f"{pacing.utilisation_max:.1%} | {pacing.worst_window_max} (limit "
            f"{pacing.rate_per_s}) | {pacing.codes_over} | {pacing.windows_over} | "
            f"{pacing.client_cpu_pct:.0f}% | {pacing.sim_cpu_pct:.0f}% |"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--texts", type=int, default=50_000)
    parser.add_argument("--pacing-seconds", type=float, default=60.0)
    parser.add_argument("--codes", type=int, default=100)
    parser.add_argument("--skip-pacing", action="store_true")
    parser.add_argument("--repeat", type=int, default=2,
                        help="interleaved runs of the throughput phases (the best is shown)")
    parser.add_argument("--only", choices=["raw", "a", "b", "pacing"],
                        help="run one phase (for profiling); docs are left alone")
    parser.add_argument("--src", type=Path, help="measure the package in this source tree")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()

    raws: list[RawResult] = []
    carriers: list[Phase] = []
    runs: dict[str, list[Phase]] = {}
    pacing = None
    wanted = {args.only} if args.only else {"raw", "a", "b", "pacing"}
    if args.skip_pacing:
        wanted.discard("pacing")
    postgres = os.environ.get("PSMS_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="psms-bench-dispatch-") as tmp:
        workdir = Path(tmp)
        for n in range(1, args.repeat + 1):
            if "raw" in wanted:
                print(f"[{n}] raw load client ...", flush=True)
                raws.append(bench_raw(args.texts))
            if "a" in wanted:
                print(f"[{n}] (a) SmppCarrier alone ...", flush=True)
                carriers.append(bench_carrier(args.texts))
            if "b" in wanted:
                print(f"[{n}] (b) dispatcher on SQLite ...", flush=True)
                runs.setdefault("SQLite", []).append(
                    bench_dispatcher(args.texts, None, "SQLite", workdir))
                if postgres and not args.only:
                    print(f"[{n}] (b) dispatcher on PostgreSQL ...", flush=True)
                    for url in _postgres_database(postgres):
                        runs.setdefault("PostgreSQL", []).append(
                            bench_dispatcher(args.texts, url, "PostgreSQL", workdir))
        if "pacing" in wanted:
            print(f"pacing: {args.codes} codes x {PACING_RATE_PER_S}/s for "
                  f"{args.pacing_seconds:g} s ...", flush=True)
            pacing = bench_pacing(args.codes, args.pacing_seconds, workdir)
    block = report(args.texts, raws, carriers, runs, pacing)
    print()
    print(block)
    if not args.no_docs and not args.only:
        results_doc.write_block("dispatch.py", SECTION, block)
        print(f"\n{results_doc.DOCS.relative_to(ROOT)} updated.")


if __name__ == "__main__":
    main()
