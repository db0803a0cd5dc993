"""The API under 50 clients while the dispatcher holds its pace: the old layout of `psms serve`
(API and dispatcher in one process) against the new one (API worker processes, the dispatcher
in a process of its own), back to back in one run, with the floors that tell what is left.

    .venv/bin/python bench/api_load.py [--clients 50] [--seconds 30] [--codes 10] [--rate 5]
                                       [--think-ms 0] [--workers N] [--only old,new,...]
                                       [--main-src DIR] [--no-docs] [--src DIR]

For each phase: a fresh SQLite file (the embedded default) with one business unit, an API key,
`--codes` long codes at `--rate`/s on one connection to the SMSC simulator (its own process,
`python -m proactive_sms.carriers.smsc_sim`), and one running skill per code over a calling
list with more people than the phase can text (so the pace, not the list, bounds dispatch).
Then `psms serve` as a real process, and, after a warm-up, `--clients` concurrent clients in
another process (this script with --client: raw HTTP/1.1 keep-alive over asyncio, so the load
generator itself costs little CPU) for 5 s not counted (each worker warms its caches), then
`--seconds` measured, each sending one request after another
(with `--think-ms` between them) from a mix of reads:

    skill progress 30%, messages page (50, one skill) 20%, registrations 15%,
    one registration 10%, skills 10%, calling lists 10%, templates 5%.

Phases:
- main:    with --main-src DIR (the src/ of main before this change, from `git archive`):
           that tree's `psms serve`, which ran the API and the dispatcher in one process.
- old:     this tree's `psms serve --dispatch-in-process`: the API and the dispatcher in one
           event loop as main had them, with this tree's other changes (reads' deferred BEGIN,
           fewer thread-pool hops): the layout alone.
- new:     `psms serve`: API worker processes (--workers, else the default) + the dispatcher.
- quiet:   the new layout with one client reading once a second: the dispatcher's floor
           (the texts/s this machine gives it when the API is nearly idle).
- new-idle: the same without dispatch (`--no-dispatch`): the reads' floor with nothing sending.
- healthz: the new layout, no dispatch, every client asking GET /healthz (no key, one
           `SELECT 1`): the floor of the HTTP stack and processes themselves.

Reported per phase: requests/s, p50/p95/p99/max latency (ms) and errors; for phases that
dispatch, texts/s submitted in the measured window (from the message rows' submitted_at)
against the pace (codes x rate); the CPU of serve and all its children and of the client.

Prints a table and refreshes the generated block of the "API under load" section of
docs/benchmarks.md. Figures, not a pass/fail test: the machine has 2 cores shared with other
work, and the client, the simulator, the API workers and the dispatcher all share them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
# --src DIR: measure the package of another tree (read before anything of ours is imported).
SOURCE = (Path(sys.argv[sys.argv.index("--src") + 1]).resolve()
          if "--src" in sys.argv[:-1] else ROOT / "src")
sys.path.insert(0, str(SOURCE))
sys.path.insert(1, str(ROOT))  # tests.services.dispatch_world

from sim_process import SimulatorProcess  # noqa: E402  # bench/sim_process.py: this folder is on the path

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## API under load (bench/api_load.py)"
BEGIN = "<!-- bench/api_load.py: generated results, begin -->"
END = "<!-- bench/api_load.py: generated results, end -->"
ALL_DAY_RULES = ROOT / "tests" / "services" / "all_day_rules.json"
ALL_DAY = {"weekday": "00:00-24:00", "weekend": "00:00-24:00"}
WARMUP_S = 4.0  # after serve answers, before the clients start (the dispatcher binds)
LOAD_WARMUP_S = 5.0  # the clients' first seconds, not counted
MIX = [("progress", 30), ("messages", 20), ("registrations", 15), ("registration", 10),
       ("skills", 10), ("lists", 10), ("templates", 5)]


# --- the load client (a process of its own) -----------------------------------------------------


def _paths(kind: str, codes: list[str], rnd: random.Random) -> str:
    i = rnd.randrange(len(codes))
    return {
        "progress": f"/v1/skills/skill-{i}/progress",
        "messages": f"/v1/messages?skill=skill-{i}&limit=50",
        "registrations": "/v1/registrations",
        "registration": f"/v1/registrations/%2B1{codes[i]}",
        "skills": "/v1/skills",
        "lists": "/v1/calling-lists",
        "templates": "/v1/templates",
        "healthz": "/healthz",
    }[kind]


async def _one_client(port: int, key: str, kinds: list[str], weights: list[int],
                      codes: list[str], record_from: float, until: float, think_s: float,
                      seed: int,
                      latencies: list[float], errors: list[str]) -> None:
    rnd = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < until:
            path = _paths(rnd.choices(kinds, weights)[0], codes, rnd)
            request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       f"Authorization: Bearer {key}\r\n\r\n").encode()
            started = time.monotonic()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            await reader.readexactly(length)
            if started >= record_from:  # the warm-up's answers are not counted
                latencies.append(time.monotonic() - started)
            status = head[9:12]
            if status != b"200":
                errors.append(f"{status.decode()} {path}")
            if think_s:
                await asyncio.sleep(rnd.uniform(0.5, 1.5) * think_s)
    finally:
        writer.close()


async def _client_main(spec: dict) -> dict:
    kinds, weights = zip(*spec["mix"], strict=True)
    latencies: list[float] = []
    errors: list[str] = []
    # A few seconds of the same load first, not counted: every worker builds its statements'
    # caches and opens its connections on its first requests.
    started = time.monotonic() + spec["warmup_s"]
    until = started + spec["seconds"]
    cpu0 = time.process_time()
    await asyncio.gather(*(
        _one_client(spec["port"], spec["key"], list(kinds), list(weights), spec["codes"],
                    started, until, spec["think_s"], n, latencies, errors)
        for n in range(spec["clients"])))
    elapsed = time.monotonic() - started
    return {"latencies": latencies, "errors": errors[:20], "error_count": len(errors),
            "elapsed_s": elapsed, "cpu_s": time.process_time() - cpu0}


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and all its live descendants."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    todo = [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            fields = stats[current]
            total += (int(fields[11]) + int(fields[12])) / tick
        todo.extend(children.get(current, []))
    return total


@dataclass
class Phase:
    name: str
    serve_args: list[str]
    dispatch: bool
    healthz_only: bool = False
    env: dict[str, str] = field(default_factory=dict)
    source: Path | None = None  # another tree's package for serve (--main-src)
    clients: int | None = None  # instead of --clients
    think_ms: float | None = None  # instead of --think-ms


def build(db: Path, sim_port: int, codes: list[str], people: int) -> str:
    """The unit, its key, codes, list and running skills; the API key's secret."""
    from tests.services.dispatch_world import World

    from proactive_sms.domain.clock import SystemClock
    from proactive_sms.services import administration, api_keys
    from proactive_sms.store.engine import open_engine

    engine = open_engine(f"sqlite:///{db}")
    clock = SystemClock()
    bu = administration.init(engine, clock, "acme", "sales", "US")
    world = World(engine, bu, SimpleNamespace(port=sim_port), db.parent, clock)
    world.connection(window=10)
    world.people("people", people)
    for i, code in enumerate(codes):
        world.code(code, kind="long", rate=RATE_PER_S)
        world.skill(f"skill-{i}", code, "people", "Hi {FirstName}, a shift is open tonight.",
                    calling_window=ALL_DAY)
    secret = api_keys.create(engine, bu, clock, "bench").secret
    engine.dispose()
    return secret


def submitted(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT count(*) FROM message WHERE submitted_at IS NOT NULL"
                            ).fetchone()[0]


RATE_PER_S = 5.0


def run_phase(phase: Phase, args, folder: Path) -> dict:
    codes = [f"212555{1000 + i:04d}" for i in range(args.codes)]
    db = folder / f"{phase.name}-{len(list(folder.glob('*.db')))}.db"  # a phase may repeat
    # Enough people that no skill runs dry: warm-up, the measured window, and a margin.
    people = int(args.rate * (args.seconds + WARMUP_S + 30))
    with SimulatorProcess(receipt_delay_s=0.5, source=SOURCE) as sim:
        key = build(db, sim.port, codes, people)
        port = free_port()
        env = {**os.environ, "PSMS_DATABASE_URL": f"sqlite:///{db}",
               "PSMS_WINDOW_RULES": str(ALL_DAY_RULES), "PYTHONPATH": str(phase.source or SOURCE),
               **phase.env}
        log_path = db.with_suffix(".log")
        log = log_path.open("w")
        serve = subprocess.Popen(
            [sys.executable, "-m", "proactive_sms.interfaces.cli", "serve", "--port", str(port),
             *phase.serve_args], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
        try:
            _wait_healthy(port, serve, log_path)
            time.sleep(WARMUP_S)
            spec = {"port": port, "key": key, "codes": codes, "warmup_s": LOAD_WARMUP_S,
                    "clients": phase.clients or args.clients, "seconds": args.seconds,
                    "think_s": (args.think_ms if phase.think_ms is None else phase.think_ms)
                    / 1000,
                    "mix": [("healthz", 1)] if phase.healthz_only else MIX}
            client_process = subprocess.Popen(
                [sys.executable, __file__, "--client", json.dumps(spec)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(LOAD_WARMUP_S)
            sent0, cpu0, t0 = submitted(db), tree_cpu_s(serve.pid), time.monotonic()
            out, err = client_process.communicate(timeout=args.seconds + 120)
            client = subprocess.CompletedProcess(client_process.args,
                                                 client_process.returncode, out, err)
            sent1, cpu1, t1 = submitted(db), tree_cpu_s(serve.pid), time.monotonic()
            if client.returncode != 0:
                raise RuntimeError(f"load client failed: {client.stderr}")
            result = json.loads(client.stdout)
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
            log.close()
    latencies = sorted(result["latencies"])
    window_s = t1 - t0
    return {
        "phase": phase.name, "requests": len(latencies),
        "rps": len(latencies) / result["elapsed_s"],
        "p50": _pct(latencies, 0.50), "p95": _pct(latencies, 0.95),
        "p99": _pct(latencies, 0.99), "max": latencies[-1] if latencies else 0.0,
        "errors": result["error_count"], "error_samples": result["errors"],
        "texts_per_s": (sent1 - sent0) / window_s if phase.dispatch else None,
        "pace_per_s": args.codes * args.rate if phase.dispatch else None,
        "serve_cpu_pct": 100 * (cpu1 - cpu0) / window_s,
        "client_cpu_pct": 100 * result["cpu_s"] / result["elapsed_s"],
    }


def _pct(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _wait_healthy(port: int, process: subprocess.Popen, log: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve ended: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"serve did not answer: {log.read_text()}")


# --- report -------------------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    lines = ["| phase | requests/s | p50 ms | p95 ms | p99 ms | max ms | errors | texts/s "
             "(pace) | serve CPU % | client CPU % |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        texts = (f"{r['texts_per_s']:.1f} ({r['pace_per_s']:.0f})"
                 if r["texts_per_s"] is not None else "-")
        lines.append(
            f"| {r['phase']} | {r['rps']:.0f} | {1000 * r['p50']:.1f} | {1000 * r['p95']:.1f} "
            f"| {1000 * r['p99']:.1f} | {1000 * r['max']:.0f} | {r['errors']} | {texts} "
            f"| {r['serve_cpu_pct']:.0f} | {r['client_cpu_pct']:.0f} |")
    return "\n".join(lines)


def ratios(rows: list[dict]) -> str:
    by = {r["phase"]: r for r in rows}
    out = []
    for before in ("main", "old"):
        if before not in by or "new" not in by:
            continue
        old, new = by[before], by["new"]
        out.append(f"- p99 {before}/new: {old['p99'] / max(new['p99'], 1e-9):.1f}x; "
                   f"requests/s new/{before}: {new['rps'] / max(old['rps'], 1e-9):.2f}x; "
                   f"texts/s against the pace: {before} "
                   f"{old['texts_per_s'] / old['pace_per_s']:.0%}, new "
                   f"{new['texts_per_s'] / new['pace_per_s']:.0%}.")
    if "new" in by and "quiet" in by:
        out.append(f"- dispatch under load against the same processes unloaded (quiet): "
                   f"new {by['new']['texts_per_s'] / by['quiet']['texts_per_s']:.0%}"
                   + "".join(f", {b} {by[b]['texts_per_s'] / by['quiet']['texts_per_s']:.0%}"
                             for b in ("main", "old") if b in by) + ".")
    if "new" in by and "new-idle" in by:
        out.append(f"- new p99 against the same reads with nothing sending (new-idle): "
                   f"{by['new']['p99'] / max(by['new-idle']['p99'], 1e-9):.2f}x.")
    if "healthz" in by and "new-idle" in by:
        out.append(f"- the reads' p99 against GET /healthz on the same processes: "
                   f"{by['new-idle']['p99'] / max(by['healthz']['p99'], 1e-9):.1f}x.")
    return "\n".join(out)


def write_docs(block: str) -> None:
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    generated = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: generated, text,
                      flags=re.S)
    elif SECTION in text:
        text = text.replace(SECTION, f"{SECTION}\n\n{generated}", 1)
    else:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{generated}\n"
    DOCS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--codes", type=int, default=10)
    parser.add_argument("--rate", type=float, default=5.0, help="Texts/s per code.")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="Mean pause of a client between its requests (0: none).")
    parser.add_argument("--workers", type=int, default=None,
                        help="API workers of the new layout (default: serve's own).")
    parser.add_argument("--main-src", default=None,
                        help="The src/ of main before this change (git archive): adds the "
                             "phase 'main', its `psms serve` as it was.")
    parser.add_argument("--only", default=None,
                        help="Phases, comma-separated (default: main if --main-src, old, new, "
                             "new-idle, healthz).")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--src", default=None, help="Measure another source tree.")
    parser.add_argument("--client", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(_client_main(json.loads(args.client)))))
        return
    global RATE_PER_S
    RATE_PER_S = args.rate
    workers = ["--workers", str(args.workers)] if args.workers else []
    phases = {
        "main": Phase("main", [], dispatch=True,
                      source=Path(args.main_src).resolve() if args.main_src else None),
        "old": Phase("old", ["--dispatch-in-process"], dispatch=True),
        "new": Phase("new", workers, dispatch=True),
        # The dispatcher's floor: the new layout with one client reading once a second.
        "quiet": Phase("quiet", workers, dispatch=True, clients=1, think_ms=1000),
        # The new layout with anyio's default thread pool (40) instead of serve's.
        "new-40threads": Phase("new-40threads", workers, dispatch=True,
                               env={"PSMS_API_THREADS": "40"}),
        "new-idle": Phase("new-idle", [*workers, "--no-dispatch"], dispatch=False),
        "healthz": Phase("healthz", [*workers, "--no-dispatch"], dispatch=False,
                         healthz_only=True),
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="psms-api-load-") as folder:
        names = args.only or (("main," if args.main_src else "")
                              + "old,new,quiet,new-idle,healthz")
        for name in names.split(","):
            row = run_phase(phases[name], args, Path(folder))
            rows.append(row)
            print(table([row]).splitlines()[-1], flush=True)
            if row["error_samples"]:
                print("  errors:", row["error_samples"][:5], flush=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"Run {when} on {platform.node()} ({os.cpu_count()} cores, shared with other work: "
             f"client, simulator, API and dispatcher all on them), SQLite. {args.clients} "
             f"clients, {args.seconds:.0f} s each phase, think {args.think_ms:.0f} ms, "
             f"{args.codes} long codes x {args.rate:g}/s.\n\n{table(rows)}\n\n{ratios(rows)}")
    print()
    print(block)
    if not args.no_docs:
        write_docs(block)


if __name__ == "__main__":
    main()
