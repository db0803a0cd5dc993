"""Time from the SMSC sending a STOP to the number being on the DNC list, while a skill runs.

    .venv/bin/python bench/stop_latency.py [--stops 1000] [--rate 50]

A skill texts from a short code at 100/s while `--stops` different numbers text STOP to that code
at `--rate` per second. The simulator runs in this process's thread (its own event loop) and the
dispatcher in the main loop, on a fresh SQLite file. For each STOP the clock starts when the
simulator hands the deliver_sm to its socket and stops when the dispatcher's deliver_sm_resp
comes back: the dispatcher answers only after the transaction that put the number on the DNC list
committed, so this is an upper bound of the time to the DNC list (it adds one network hop).
Afterwards every number is checked on the list. Prints p50/p90/p99/max. Figures, not a test.
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stops", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(main(args.stops, args.rate))
