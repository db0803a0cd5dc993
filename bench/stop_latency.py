"""Time from the SMSC sending a STOP to the number being on the DNC list, while a skill runs.

    .venv/bin/python bench/stop_latency.py [--stops 1000] [--rate 50]

A skill texts from a short code at 100/s while `--stops` different numbers text STOP to that code
at `--rate` per second. The simulator runs in this process's thread (its own event loop) and the
dispatcher in the main loop, on a fresh SQLite file. For each STOP the clock starts when the
simulator hands the deliver_sm to its socket and stops when the dispatcher's deliver_sm_resp
comes back: the dispatcher answers only after the transaction that put the number on the DNC list
committed, so this is an upper bound of the time to the DNC list (it adds one network hop).
Afterwards every number is checked on the list. Prints p50/p90/p99/max. Figures, not a test.

    .venv/bin/python bench/stop_latency.py --workers 3 [--stops 300] [--rate 20] [--no-docs]

Across workers, on PostgreSQL ($PSMS_BENCH_POSTGRES_URL, else the local postgres@127.0.0.1/test
server; a database of our own): `--workers` real `psms dispatch` processes share as many short
codes at 100/s (one each), each code texting its own calling list; the simulator runs in its own
process. Each STOP comes from a number whose text is still pending, about 3 s ahead in *another*
code's queue than the one the STOP is sent to, so it is mostly another worker that must stop
texting it. The clock runs from the inject request until the acknowledgement (the number is on the
DNC list then); afterwards the simulator's record says whether any text reached a stopped number
after its STOP was acknowledged ("STOP -> no more texts"). Refreshes its block of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.services.dispatch_world import DaytimeClock, World  # noqa: E402

from proactive_sms.carriers.smsc_sim import SimulatorConfig, SmscSimulator  # noqa: E402
from proactive_sms.services import administration  # noqa: E402
from proactive_sms.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from proactive_sms.store.engine import open_engine  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main(stops: int, rate: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="psms-stop-"))
    engine = open_engine(f"sqlite:///{workdir / 'psms.db'}")
    clock = DaytimeClock()  # a US afternoon: the skill texts whatever the hour of the run
    sim = SmscSimulator(SimulatorConfig(receipt_delay_s=0.05)).start_in_thread()
    try:
        bu = administration.init(engine, clock, "bench", "bench", "US")
        world = World(engine, bu, sim, workdir, clock)
        world.connection(window=10)
        world.code("55501", rate=100)
        world.people("people", int(100 * (stops / rate + 10)))
        world.skill("running", "55501", "people", "Shift open tonight.")
        dispatcher = Dispatcher(engine, clock, DispatchOptions())
        task = asyncio.create_task(dispatcher.run())
        await asyncio.sleep(2.0)  # the skill is running at full pace

        latencies: list[float] = []

        async def one(i: int) -> None:
            number = f"+1415{2000000 + i:07d}"
            started = time.perf_counter()
            status = await sim.inject_inbound(number, "55501", "STOP")
            if status == 0:
                latencies.append(time.perf_counter() - started)

        sends = []
        for i in range(stops):
            sends.append(asyncio.create_task(one(i)))
            await asyncio.sleep(1.0 / rate)
        await asyncio.gather(*sends)
        sent_during = len(sim.accepted_submits())
        dispatcher.stop()
        await task
        on_list = sum(1 for i in range(stops) if administration.dnc_check(
            engine, bu, f"+1415{2000000 + i:07d}"))
    finally:
        sim.stop_in_thread()
        engine.dispose()

    ms = [x * 1000 for x in latencies]
    print(f"STOPs acknowledged: {len(ms)}/{stops}; numbers on the DNC list: {on_list}/{stops}")
    print(f"texts the running skill sent meanwhile: {sent_during}")
    print(f"STOP -> on the DNC list (ms): p50 {percentile(ms, 0.50):.1f}  "
          f"p90 {percentile(ms, 0.90):.1f}  p99 {percentile(ms, 0.99):.1f}  "
          f"max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}")


# --- across workers, on PostgreSQL --------------------------------------------------------------

WORKERS_SECTION = "## STOP latency across workers (bench/stop_latency.py --workers)"
CODE_RATE = 100
SKILL_TEXT = "Shift open."
LEAD_S = 3.0  # how far ahead in its code's queue a stopped number's text is when the STOP comes


def across_workers(stops: int, rate: float, workers: int, docs: bool) -> None:
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    import results_doc
    from dispatch import _postgres_database, machine
    from sim_process import SimulatorProcess
    from sqlalchemy import select
    from tests.factories import person, us_number, write_csv
    from tests.services.worker_fleet import Fleet, holders, unsettled, wait_for

    from proactive_sms.domain.clock import SystemClock
    from proactive_sms.services import importing, launching
    from proactive_sms.store.schema import message

    admin_url = os.environ.get("PSMS_BENCH_POSTGRES_URL",
                               "postgresql://postgres@127.0.0.1:5432/test")
    workdir = Path(tempfile.mkdtemp(prefix="psms-stop-workers-"))
    per_code = int(CODE_RATE * (stops / rate + LEAD_S + 20))  # each code sends all along
    all_day = {"weekday": "00:00-24:00", "weekend": "00:00-24:00"}
    database = _postgres_database(admin_url)
    url = next(database)
    try:
        engine = open_engine(url)
        with SimulatorProcess() as sim:
            clock = SystemClock()  # the workers read the real clock (windows: the whole day)
            bu = administration.init(engine, clock, "bench", "bench", "US")
            administration.add_connection(engine, bu, clock, "sim", sim.host, sim.port, "psms",
                                          "secret", 10)
            for c in range(workers):
                code = f"5550{c + 1}"
                administration.add_registration(engine, bu, clock, code=code, kind="short",
                                                throughput_per_s=CODE_RATE, connection="sim",
                                                dnc_group=None)
                rows = [person(c * per_code + i, PhoneNumber=us_number(c * per_code + i))
                        for i in range(per_code)]
                importing.import_calling_list(engine, bu, f"people{c}",
                                              write_csv(workdir / f"p{c}.csv", rows), clock)
                created = administration.create_skill(engine, bu, clock, name=f"bulk{c}",
                                                      registration=code,
                                                      calling_list=f"people{c}",
                                                      calling_window=all_day)
                launching.start_skill(engine, created.id, clock, message_text=SKILL_TEXT)
            fleet = Fleet(url, 15.0, workdir)
            for w in range(workers):
                fleet.start(f"w{w + 1}")
            acked: dict[str, tuple[float, float, int]] = {}  # number -> (sent, acked, status)
            lock = threading.Lock()
            try:
                wait_for(lambda: sim.control.stats()["accepted"] >= workers * CODE_RATE, 120,
                         step_s=0.2)
                held = {w: len(c) for w, c in sorted(holders(engine).items())}
                started = time.time()

                def one(i: int, acked=acked, lock=lock) -> None:
                    # a number of another code's list, LEAD_S ahead of where that code is now
                    target_code = (i + 1) % workers
                    position = sim.control.stats()["accepted"] // workers  # about, per code
                    ahead = min(position + int(CODE_RATE * LEAD_S), per_code - 1)
                    number = "+1" + us_number(target_code * per_code + ahead)
                    sent = time.time()
                    answer = sim.control.inject(number.lstrip("+"), "55501", "STOP", wait_s=10)
                    with lock:
                        acked[number] = (sent, time.time(), answer.get("command_status", -1))

                with ThreadPoolExecutor(max_workers=8) as pool:
                    for i in range(stops):
                        pool.submit(one, i)
                        time.sleep(max(started + (i + 1) / rate - time.time(), 0))
                wait_for(lambda engine=engine: unsettled(engine) == 0, 600, step_s=0.5)
            finally:
                fleet.stop_all()
            records = sim.submits()
        with engine.connect() as conn:
            skipped = set(conn.scalars(select(message.c.destination).where(
                message.c.kind == "skill", message.c.skip_reason == "dnc")))
        engine.dispose()
    finally:
        database.close()
    # When each number received a skill's text (the opt-out confirmation is another text).
    texted: dict[str, list[float]] = {}
    for r in records:
        if r["text"] == SKILL_TEXT:
            texted.setdefault("+" + r["destination_addr"].lstrip("+"), []).append(r["time_s"])
    ms = [(a - s) * 1000 for s, a, status in acked.values() if status == 0]
    after_ack = sum(1 for number, (_sent, acked_at, _status) in acked.items()
                    for moment in texted.get(number, []) if moment > acked_at)
    block = "\n".join([
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}: {workers} `psms dispatch` "
        f"workers on PostgreSQL holding {held} codes, {workers} short codes at {CODE_RATE}/s, "
        f"{stops} STOPs at {rate:g}/s to 55501, each from a number pending about {LEAD_S:g} s "
        "ahead in another code's queue.",
        "",
        "| STOPs acknowledged | their texts skipped (DNC) | texts after the acknowledgement | "
        "p50 | p90 | p99 | max |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {len(ms)}/{stops} | {len(skipped & set(acked))} | {after_ack} | "
        f"{percentile(ms, 0.5):.0f} ms | {percentile(ms, 0.9):.0f} ms | "
        f"{percentile(ms, 0.99):.0f} ms | {max(ms):.0f} ms |",
    ])
    print(block)
    if docs:
        results_doc.write_block("stop_latency.py-workers", WORKERS_SECTION, block)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stops", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--workers", type=int, default=0,
                        help="real dispatch workers on PostgreSQL (0: one in-process, SQLite)")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    if args.workers:
        across_workers(args.stops or 300, args.rate or 20.0, args.workers, not args.no_docs)
    else:
        asyncio.run(main(args.stops or 1000, args.rate or 50.0))
