"""Texts per second through the dispatcher over an HTTP provider (the Twilio shape), against the
floor of raw HTTP POSTs to the same provider simulator, in one run.

    .venv/bin/python bench/http_dispatch.py [--texts 2000] [--window 20] [--repeat 2] [--no-docs]

The provider simulator (`psms provider-sim`) runs in a process of its own (a fresh one per
phase), as a provider would be elsewhere; the figures are read back from its /_sim/ routes.

(floor) Raw httpx: one keep-alive AsyncClient, `--window` requests at once, N form POSTs of
   the Twilio shape (Basic auth, To/From/Body), no parsing beyond the status: what HTTP on this
   machine allows.
(a) Our HttpProviderCarrier alone (window `--window`), no database: N texts submitted by
   `--window` workers, each answer read into a SubmitResult.
(b) The full dispatcher: a fresh SQLite file, an N-record calling list imported and a skill
   launched (not timed), then Dispatcher(DispatchOptions(limits_lifted=True)) over a
   window-`--window` HTTP connection until every text is `sent`. Rate = texts / (first claim ->
   last answer stored), read from the message rows. No status callbacks (the simulator posts
   none), so that the phase measures the submit path; (c) adds them.
(c) As (b), with the simulator posting "sent" and "delivered" for every text to the real API
   (create_app under uvicorn, in a thread of this process: it shares the dispatcher's core) and
   the dispatcher turning them into receipts: rate = texts / (first claim -> last receipt).

Each phase runs `--repeat` times, interleaved; the table shows the best run of each with every
run listed, and the ratios b/floor, a/floor, b/a of the best runs. Figures, not a pass/fail
test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(ROOT))

import httpx  # noqa: E402
import results_doc  # noqa: E402  # bench/results_doc.py: this folder is on the path
from sqlalchemy import func, select  # noqa: E402
from tests.services.dispatch_world import DaytimeClock  # noqa: E402

from proactive_sms.carriers.base import OutboundText, SourceKind, SubmitStatus  # noqa: E402
from proactive_sms.carriers.http.client import HttpProviderCarrier  # noqa: E402
from proactive_sms.carriers.http.shape import ProviderAccount  # noqa: E402
from proactive_sms.carriers.http.twilio import API_PREFIX, TwilioShape  # noqa: E402
from proactive_sms.services import administration, importing, launching  # noqa: E402
from proactive_sms.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402
from proactive_sms.store.engine import open_engine  # noqa: E402
from proactive_sms.store.schema import message  # noqa: E402

SECTION = "## HTTP provider dispatch (bench/http_dispatch.py)"
SID, TOKEN = "AC" + "7" * 32, "bench-token"
SHORT_CODE = "55501"
BODY = "Your appointment is tomorrow at 10:00. Reply STOP to opt out."


class ProviderProcess:
    """`psms provider-sim` on a free port, in a process of its own."""

    def __enter__(self) -> ProviderProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proactive_sms.interfaces.cli", "provider-sim", "--port", "0",
             "--account", SID, "--token", TOKEN], stdout=subprocess.PIPE, text=True, env=env)
        line = self.process.stdout.readline()
        found = re.search(r"on (http://[\d.]+:\d+)", line)
        if not found:
            self.process.kill()
            raise RuntimeError(f"provider-sim did not start: {line!r}")
        self.url = found.group(1)
        return self

    def configure(self, **knobs) -> None:
        httpx.post(f"{self.url}/_sim/configure", json=knobs, timeout=120).raise_for_status()

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/_sim/stats", timeout=120).json()

    def __exit__(self, *_exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Phase:
    name: str
    texts: int
    seconds: float
    runs: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.texts / self.seconds


def _texts(count: int) -> list[OutboundText]:
    return [OutboundText(i, SHORT_CODE, SourceKind.SHORT, _number(i), BODY,
                         "gsm7", (BODY,)) for i in range(count)]


async def _in_parallel(count: int, window: int, one) -> float:
    queue = iter(range(count))
    started = time.perf_counter()

    async def worker() -> None:
        for i in queue:
            await one(i)

    await asyncio.gather(*(worker() for _ in range(window)))
    return time.perf_counter() - started


def bench_floor(texts: int, window: int) -> float:
    with ProviderProcess() as sim:
        sim.configure(statuses=[])

        async def run() -> float:
            limits = httpx.Limits(max_connections=window, max_keepalive_connections=window)
            async with httpx.AsyncClient(base_url=sim.url, auth=(SID, TOKEN),
                                         limits=limits) as client:
                path = f"{API_PREFIX}/{SID}/Messages.json"

                async def one(i: int) -> None:
                    answer = await client.post(path, data={
                        "To": _number(i), "From": SHORT_CODE, "Body": BODY})
                    if answer.status_code != 201:
                        raise RuntimeError(f"floor: HTTP {answer.status_code}")

                return await _in_parallel(texts, window, one)

        seconds = asyncio.run(run())
        _check_accepted(sim, texts, "floor")
        return seconds


def bench_carrier(texts: int, window: int) -> float:
    with ProviderProcess() as sim:
        sim.configure(statuses=[])

        async def run() -> float:
            account = ProviderAccount(1, sim.url, SID, TOKEN, "http://127.0.0.1:9")
            carrier = HttpProviderCarrier(account, TwilioShape(), window_size=window)
            await carrier.start()
            await carrier.wait_bound(10)
            outbound = _texts(texts)

            async def one(i: int) -> None:
                result = await carrier.submit(outbound[i])
                if result.status is not SubmitStatus.ACCEPTED:
                    raise RuntimeError(f"carrier: {result}")

            try:
                return await _in_parallel(texts, window, one)
            finally:
                await carrier.stop()

        seconds = asyncio.run(run())
        _check_accepted(sim, texts, "carrier")
        return seconds


def bench_dispatcher(texts: int, window: int, workdir: Path, callbacks: bool) -> float:
    engine = open_engine(f"sqlite:///{workdir / f'http-{uuid.uuid4().hex[:6]}.db'}")
    api = None
    try:
        with ProviderProcess() as sim:
            sim.configure(statuses=["sent", "delivered"] if callbacks else [])
            clock = DaytimeClock()
            callback_url = "http://127.0.0.1:9"
            if callbacks:
                api = _ApiThread(engine, clock)
                callback_url = api.url
            bu = administration.init(engine, clock, "bench", "bench", "US")
            administration.add_http_connection(engine, bu, clock, "provider", provider="twilio",
                                               account=SID, token=TOKEN, base_url=sim.url,
                                               callback_url=callback_url, window_size=window)
            administration.add_registration(engine, bu, clock, code=SHORT_CODE, kind="short",
                                            throughput_per_s=1000.0, connection="provider",
                                            dnc_group=None)
            path = workdir / f"list-{texts}.csv"
            _write_list(path, texts)
            importing.import_calling_list(engine, bu, "people", path, clock)
            created = administration.create_skill(engine, bu, clock, name="bulk",
                                                  registration=SHORT_CODE,
                                                  calling_list="people")
            summary = launching.start_skill(engine, created.id, clock, message_text=BODY)
            if summary.pending != texts:
                raise RuntimeError(f"launch made {summary.pending} pending texts of {texts}")
            dispatcher = Dispatcher(engine, clock, DispatchOptions(limits_lifted=True),
                                    worker_id="bench")
            asyncio.run(dispatcher.run(until_idle=True, receipt_grace_s=30.0 if callbacks
                                       else 0.0))
            _check_accepted(sim, texts, "dispatcher")
        with engine.connect() as conn:
            states = dict(conn.execute(select(message.c.state, func.count())
                                       .group_by(message.c.state)).all())
            first, last_sent, last_done = conn.execute(
                select(func.min(message.c.submitted_at), func.max(message.c.sent_at),
                       func.max(message.c.finished_at))).one()
    finally:
        if api is not None:
            api.stop()
        engine.dispose()
    wanted = "delivered" if callbacks else "sent"
    if states != {wanted: texts}:
        if not callbacks:
            raise RuntimeError(f"dispatcher: not every text {wanted}: {states}")
        # Reported, not fatal: on a saturated machine the provider's answers can take longer
        # than the 10 s timeout (those texts are `uncertain`, as they must be), or callbacks
        # can still be on their way when the grace ends.
        NOTES.append(f"(c) ended with {states}")
    end = last_done if callbacks else last_sent
    return (_utc(end) - _utc(first)).total_seconds()


NOTES: list[str] = []


class _ApiThread:
    def __init__(self, engine, clock) -> None:
        import uvicorn

        from proactive_sms.interfaces.api.app import create_app

        self.server = uvicorn.Server(uvicorn.Config(create_app(engine, clock), host="127.0.0.1",
                                                    port=0, log_level="warning",
                                                    lifespan="off", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _write_list(path: Path, count: int) -> None:
    with path.open("w") as handle:
        handle.write("ExternalId,FirstName,LastName,PhoneNumber,IsCellPhone\n")
        for i in range(count):
            handle.write(f"r{i},Ann,Lee,{_number(i)},true\n")


def _number(i: int) -> str:
    """A distinct valid US number per i (up to 8 million), as bench/dispatch.py makes them."""
    return f"+1212{200 + (i // 10_000) % 800:03d}{i % 10_000:04d}"


def _check_accepted(sim: ProviderProcess, texts: int, label: str) -> None:
    stats = sim.stats()
    if stats["accepted"] != texts or stats["duplicates"]:
        raise RuntimeError(f"{label}: the provider took {stats['accepted']} texts "
                           f"({stats['duplicates']} duplicates), expected {texts} once each")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    phases = {"floor": Phase("(floor) raw httpx POSTs, keep-alive", args.texts, float("inf")),
              "a": Phase("(a) HttpProviderCarrier alone", args.texts, float("inf")),
              "b": Phase("(b) dispatcher, SQLite, submits", args.texts, float("inf")),
              "c": Phase("(c) dispatcher, SQLite, + status callbacks", args.texts,
                         float("inf"))}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="psms-http-bench-") as tmp:
        for _ in range(args.repeat):
            for key, run in (("floor", lambda: bench_floor(args.texts, args.window)),
                             ("a", lambda: bench_carrier(args.texts, args.window)),
                             ("b", lambda: bench_dispatcher(args.texts, args.window,
                                                            Path(tmp), False)),
                             ("c", lambda: bench_dispatcher(args.texts, args.window,
                                                            Path(tmp), True))):
                seconds = run()
                phases[key].runs.append(seconds)
                phases[key].seconds = min(phases[key].seconds, seconds)
                print(f"{phases[key].name}: {args.texts / seconds:,.0f} texts/s "
                      f"({seconds:.2f} s)", flush=True)
    floor = phases["floor"].rate
    rows = [(phase.name, f"{phase.rate:,.0f}", f"{phase.rate / floor:.2f}",
             ", ".join(f"{phase.texts / s:,.0f}" for s in phase.runs))
            for phase in phases.values()]
    lines = [f"{results_doc.run_heading(load)} at the start. {args.texts:,} texts, window "
             f"{args.window}, best of {args.repeat}.", "",
             results_doc.table(("phase", "texts/s", "vs floor", "every run (texts/s)"), rows,
                               align="lrrl"),
             "",
             f"b/a: {phases['b'].rate / phases['a'].rate:.2f}; "
             f"c/b: {phases['c'].rate / phases['b'].rate:.2f}", *NOTES]
    block = "\n".join(lines)
    print(block)
    if not args.no_docs:
        results_doc.write_block("http_dispatch.py", SECTION, block)


if __name__ == "__main__":
    main()
