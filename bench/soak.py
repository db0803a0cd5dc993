"""Soak: 100 codes sending for a long time while the SMSC misbehaves, one fault after another.

    .venv/bin/python bench/soak.py [--minutes 30] [--codes 100] [--rate-per-s 5]
                                   [--fault-every-s 60] [--drain-s 30] [--no-docs]

The SMSC simulator runs in its own process (as in bench/dispatch.py); the dispatcher runs in this
one, on a fresh SQLite file: `--codes` long codes at `--rate-per-s` each on one window-50
connection, one skill per code over one calling list sized so that, at full pace, the texts last
the whole run. Every `--fault-every-s` (after a clean first interval) the next fault of the
simulator's misbehaviour catalogue (docs/smsc_simulator.md) is switched on through its control
interface for a while, then off again; the catalogue is gone through in turn.

At the end the skills are paused, receipts get `--drain-s` to come in, and the dispatcher stops.
Then, from the store and the simulator's records:
- memory: the RSS of this process (the dispatcher) every 5 s; first (after the clean interval),
  last, peak, and the growth per 10 minutes fitted over the run after the clean interval;
- nothing lost: every text is final (delivered, undeliverable, expired, failed), uncertain, or
  still pending (never sent, paused at the end); none is left `submitting`; no text that reached
  the simulator is recorded as pending or failed (it would be sent a second time);
- none twice: no (code, number) arrives twice at the simulator;
- no limit breached: per code, the most arrivals in any one second (from the simulator's clock).
Exits non-zero when a promise is broken. Prints a table and refreshes the generated block of the
"Soak" section of docs/benchmarks.md (the text around it is written by people and left alone).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(ROOT))

# The list writer and the window count are bench/dispatch.py's.
_spec = importlib.util.spec_from_file_location("bench_dispatch", ROOT / "bench" / "dispatch.py")
assert _spec is not None and _spec.loader is not None
bench_dispatch = importlib.util.module_from_spec(_spec)
sys.modules["bench_dispatch"] = bench_dispatch  # its dataclasses look their module up there
_spec.loader.exec_module(bench_dispatch)

import results_doc  # noqa: E402  # bench/results_doc.py: this folder is on the path
from sim_process import SimulatorProcess  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from tests.services.dispatch_world import DaytimeClock  # noqa: E402

from proactive_sms.carriers.smsc_sim import SimulatorConfig  # noqa: E402
from proactive_sms.services import administration, importing, launching, lifecycle  # noqa: E402
from proactive_sms.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from proactive_sms.store.engine import open_engine  # noqa: E402
from proactive_sms.store.schema import message  # noqa: E402

SECTION = "## Soak (bench/soak.py)"
RSS_EVERY_S = 5.0
SETTLED = frozenset({"delivered", "undeliverable", "expired", "failed"})


@dataclass(frozen=True)
class Fault:
    name: str
    knobs: dict[str, Any]
    active_s: float  # how long it stays on (capped by the interval between faults)


# The catalogue, in the order it is gone through. Ratios are low enough that the link is up most
# of the time; a fault that needs a new bind to bite also drops the connection once.
FAULTS = (
    Fault("black hole", {"black_hole": True}, 15),
    Fault("generic_nack", {"generic_nack_ratio": 0.05}, 20),
    Fault("bind refused", {"bind_refusal_status": 0x0D, "drop_connection_after": 1}, 10),
    Fault("wrong command_length", {"malformed_ratio": 0.002, "malformed_kind": "short_length"}, 20),
    Fault("PDU split across reads", {"split_writes_octets": 200}, 20),
    Fault("deliver_sm before bind_resp",
          {"deliver_before_bind_resp": True, "drop_connection_after": 1}, 10),
    Fault("receipts for unknown ids", {"unknown_receipt_ratio": 0.05}, 20),
    Fault("receipts before submit_sm_resp", {"receipt_before_resp": 0.2}, 20),
    Fault("duplicate receipts", {"duplicate_receipts": 0.2}, 20),
    Fault("connection dropped mid-PDU", {"drop_connection_after": 1, "drop_mid_pdu": True}, 5),
)
_DEFAULTS = SimulatorConfig()


def _off(fault: Fault) -> dict[str, Any]:
    return {knob: getattr(_DEFAULTS, knob) for knob in fault.knobs}


@dataclass
class SoakResult:
    minutes: float
    codes: int
    rate_per_s: float
    fault_every_s: float
    faults: list[tuple[float, str]]  # (seconds into the run, fault)
    rss_mb: list[tuple[float, float]]  # (seconds into the run, RSS)
    clean_s: float
    states: Counter
    arrivals: int
    duplicates: int  # (code, number) pairs seen more than once at the simulator
    resend_risk: int  # texts at the simulator that the store holds as pending or failed
    worst_window: int  # most arrivals of one code in one second
    codes_over: int
    reconnects: int
    clean_used: float  # share of the limit used in the clean first interval
    sim_counters: dict[str, int] = field(default_factory=dict)

    @property
    def rss_after_clean(self) -> list[tuple[float, float]]:
        return [(t, mb) for t, mb in self.rss_mb if t >= self.clean_s] or self.rss_mb

    @property
    def growth_mb_per_10_min(self) -> float:
        points = self.rss_after_clean
        if len(points) < 3:
            return 0.0
        slope = statistics.linear_regression([t for t, _ in points], [mb for _, mb in points])
        return slope.slope * 600

    @property
    def broken(self) -> list[str]:
        problems = []
        if self.states.get("submitting"):
            problems.append(f"{self.states['submitting']} texts left submitting")
        if self.duplicates:
            problems.append(f"{self.duplicates} numbers texted twice by one code")
        if self.resend_risk:
            problems.append(f"{self.resend_risk} texts at the SMSC held as pending/failed")
        if self.codes_over:
            problems.append(f"{self.codes_over} codes over their limit in some second")
        return problems


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak(minutes: float, codes: int, rate_per_s: float, every_s: float, drain_s: float,
         workdir: Path) -> SoakResult:
    duration_s = minutes * 60
    engine = open_engine(f"sqlite:///{workdir / f'soak-{uuid.uuid4().hex[:6]}.db'}")
    code_of_skill: dict[int, str] = {}
    try:
        with SimulatorProcess() as sim:
            assert sim.control is not None
            control = sim.control
            clock = DaytimeClock()
            bu = administration.init(engine, clock, "soak", "soak", "US")
            administration.add_connection(engine, bu, clock, "sim", sim.host, sim.port, "psms",
                                          "secret", bench_dispatch.WINDOW)
            per_code = int(rate_per_s * duration_s)
            bench_dispatch.write_list(workdir / "soak.csv", per_code)
            importing.import_calling_list(engine, bu, "people", workdir / "soak.csv", clock)
            for n in range(1, codes + 1):
                code = bench_dispatch.long_code(n)
                administration.add_registration(
                    engine, bu, clock, code=code, kind="long", throughput_per_s=rate_per_s,
                    connection="sim", dnc_group=None)
                created = administration.create_skill(engine, bu, clock, name=f"soak{n}",
                                                      registration=code, calling_list="people")
                launching.start_skill(engine, created.id, clock,
                                      message_text=bench_dispatch.BODY)
                code_of_skill[created.id] = code
            print(f"launched {codes} x {per_code} texts; soaking {minutes:g} min", flush=True)

            faults: list[tuple[float, str]] = []
            samples: list[tuple[float, float]] = []

            async def run() -> int:
                dispatcher = Dispatcher(engine, clock, DispatchOptions(), worker_id="soak")
                task = asyncio.create_task(dispatcher.run())
                started = time.monotonic()
                next_fault_at, next_sample_at, turn = every_s, 0.0, 0
                active: Fault | None = None
                off_at = 0.0
                while (now := time.monotonic() - started) < duration_s:
                    if now >= next_sample_at:
                        samples.append((now, rss_mb()))
                        next_sample_at += RSS_EVERY_S
                    if active is not None and now >= off_at:
                        await asyncio.to_thread(control.configure, **_off(active))
                        active = None
                    if active is None and now >= next_fault_at:
                        active = FAULTS[turn % len(FAULTS)]
                        turn += 1
                        off_at = now + min(active.active_s, 0.6 * every_s)
                        next_fault_at += every_s
                        await asyncio.to_thread(control.configure, **active.knobs)
                        faults.append((now, active.name))
                        print(f"{now:7.1f} s  {active.name} ({rss_mb():.0f} MB)", flush=True)
                    await asyncio.sleep(0.25)
                if active is not None:
                    await asyncio.to_thread(control.configure, **_off(active))
                for skill_id in code_of_skill:
                    lifecycle.pause(engine, skill_id, clock)
                print(f"skills paused; {drain_s:g} s for the last receipts", flush=True)
                await asyncio.sleep(drain_s)
                samples.append((time.monotonic() - started, rss_mb()))
                reconnects = sum(carrier.stats.reconnects
                                 for carrier in dispatcher.carriers.values())
                dispatcher.stop()
                await task
                return reconnects

            reconnects = asyncio.run(run())
            records = sim.submits()
            counters = dict(control.stats()["counters"])
        with engine.connect() as conn:
            rows = conn.execute(select(message.c.skill_id, message.c.destination,
                                       message.c.state)).all()
            states = Counter(dict(conn.execute(
                select(message.c.state, func.count()).group_by(message.c.state)).all()))
    finally:
        engine.dispose()

    at_sim = Counter((r["source_addr"].lstrip("+"), r["destination_addr"].lstrip("+"))
                     for r in records)
    arrivals: dict[str, list[float]] = defaultdict(list)
    for r in records:
        arrivals[r["source_addr"].lstrip("+")].append(r["monotonic_s"])
    first_arrival = min((r["monotonic_s"] for r in records), default=0.0)
    clean = sum(1 for r in records if r["monotonic_s"] < first_arrival + every_s)
    clean_used = clean / (codes * rate_per_s * every_s)
    worst, codes_over = 0, 0
    for times in arrivals.values():
        counts = bench_dispatch._window_counts(sorted(times))
        worst = max(worst, max(counts, default=0))
        codes_over += any(c > rate_per_s for c in counts)
    resend_risk = sum(
        1 for skill_id, destination, state in rows
        if state in ("pending", "failed")
        and ("1" + code_of_skill[skill_id], (destination or "").lstrip("+")) in at_sim
    )
    return SoakResult(minutes, codes, rate_per_s, every_s, faults, samples, every_s, states,
                      len(records), sum(1 for n in at_sim.values() if n > 1), resend_risk, worst,
                      codes_over, reconnects, clean_used, counters)


def report(result: SoakResult, when: str) -> str:
    rss = result.rss_after_clean
    states = ", ".join(f"{state} {n:,}" for state, n in sorted(result.states.items()))
    faults = "; ".join(f"{t:.0f} s {name}" for t, name in result.faults)
    final = sum(n for s, n in result.states.items() if s in SETTLED)
    counters = result.sim_counters
    used = result.arrivals / (result.codes * result.rate_per_s * result.minutes * 60)
    sim_faults = ", ".join(f"{k} {counters[k]:,}" for k in sorted(counters) if k in (
        "black_holed_reads", "bind_refused", "generic_nack_sent", "malformed_sent",
        "unknown_receipts_sent", "connections_dropped", "deliver_sm_redelivered", "connections"))
    lines = [
        f"Run {when}, {bench_dispatch.machine()}; SQLite, simulator in its own process.",
        "",
        f"{result.minutes:g} min, {result.codes} long codes x {result.rate_per_s:g}/s on one "
        f"window-{bench_dispatch.WINDOW} connection, a fault every {result.fault_every_s:g} s "
        f"after a clean first {result.clean_s:g} s (in which {result.clean_used:.0%} of the "
        "limit was used).",
        "",
        "| RSS first / last / peak | growth per 10 min | texts at the SMSC (of the limit) "
        "| final | uncertain "
        "| left submitting | twice at the SMSC | at the SMSC but pending/failed | worst second "
        "(any code) | codes over | reconnects |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {rss[0][1]:.0f} / {rss[-1][1]:.0f} / {max(mb for _, mb in result.rss_mb):.0f} MB "
        f"| {result.growth_mb_per_10_min:+.1f} MB | {result.arrivals:,} ({used:.0%}) | {final:,} "
        f"| {result.states.get('uncertain', 0):,} | {result.states.get('submitting', 0)} "
        f"| {result.duplicates} | {result.resend_risk} | {result.worst_window} "
        f"(limit {result.rate_per_s:g}) | {result.codes_over} | {result.reconnects} |",
        "",
        f"States at the end: {states}.",
        "",
        f"Faults: {faults}.",
        "",
        f"Simulator counters: {sim_faults}.",
        "",
        "Verdict: " + ("; ".join(result.broken) if result.broken else
                       "every promise held (nothing lost, none twice, no limit breached)."),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--codes", type=int, default=100)
    parser.add_argument("--rate-per-s", type=float, default=5.0)
    parser.add_argument("--fault-every-s", type=float, default=60.0)
    parser.add_argument("--drain-s", type=float, default=30.0)
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="psms-bench-soak-") as tmp:
        result = soak(args.minutes, args.codes, args.rate_per_s, args.fault_every_s,
                      args.drain_s, Path(tmp))
    block = report(result, when)
    print()
    print(block)
    if not args.no_docs:
        results_doc.write_block("soak.py", SECTION, block)
        print(f"\n{results_doc.DOCS.relative_to(ROOT)} updated.")
    if result.broken:
        sys.exit(1)


if __name__ == "__main__":
    main()
