"""Tracked links: how many clicks/s `/l/{code}` answers with each click stored, against floors
measured in the same run on the same server.

    .venv/bin/python bench/clicks.py [--recipients 20000] [--seconds 10] [--clients 256]
                                     [--workers 2] [--client-procs 1] [--no-docs]

One SQLite file (the embedded default): a business unit whose link domain is this server, a
skill launched over `--recipients` people with one tracked link each; the codes are read back
from the texts. Then `--workers` API worker processes on one listening socket, each running
what a `psms serve` worker runs (create_app over its own engine, uvicorn with serve's settings,
serve's request thread limit), and `--clients` keep-alive connections (a campaign's clicks
come from many phones at once) from a load generator in
other process(es) (raw HTTP/1.1 over asyncio: cheap, but on a 2-core machine not free), each
sending one request after another for `--seconds` (after 2 s not counted).

Phases, in this order:
- static:  the same workers, the same /l/ layer (ShortLinkRedirects), answering one fixed 302
           for any code: no code check, no store. The floor.
- preview: the real app, every request from a link-preview bot (WhatsApp): the code checked
           (HMAC), the skill's targets read (cached), 302; nothing stored.
- clicks:  the real app from a phone's browser: each click stored (the recipient's first click
           INSERTs its row, later ones UPDATE it), a 302.

Reported per phase: answers/s, p50/p95/p99 latency (ms), errors, the workers' and the
client's CPU, and the load average; after `clicks`, the stored clicks are counted against
the 302s answered. Prints a table and refreshes the generated block of the "Tracked links"
section of docs/benchmarks.md. Figures, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(ROOT))

import results_doc  # noqa: E402  # bench/results_doc.py: this folder is on the path

SECTION = "## Tracked links (bench/clicks.py)"
WARMUP_S = 2.0
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
BOT = "WhatsApp/2.23.20.0 A"
TARGET = "https://shop.example.org/spring-sale"


def build(db: Path, port: int, recipients: int) -> list[str]:
    """The store, and the codes of the texts (one per recipient)."""
    from sqlalchemy import select
    from tests.factories import person, us_number, write_csv

    from proactive_sms.domain.clock import SystemClock
    from proactive_sms.services import administration, importing, launching
    from proactive_sms.store.engine import open_engine
    from proactive_sms.store.schema import message

    clock = SystemClock()
    engine = open_engine(f"sqlite:///{db}")
    bu = administration.init(engine, clock, "bench", "sales", "US")
    bu = administration.set_link_domain(engine, bu, f"http://127.0.0.1:{port}")
    administration.add_registration(engine, bu, clock, code="55501", kind="short",
                                    throughput_per_s=100, connection=None, dnc_group=None)
    path = write_csv(db.parent / "people.csv",
                     (person(i, PhoneNumber=us_number(i % 9_000_000, "646"))
                      for i in range(recipients)))
    importing.import_calling_list(engine, bu, "people", path, clock)
    created = administration.create_skill(engine, bu, clock, name="sale", registration="55501",
                                          calling_list="people")
    launching.start_skill(engine, created.id, clock,
                          message_text=f"Hi {{FirstName}}, 20% off today: {TARGET}")
    with engine.connect() as conn:
        bodies = conn.execute(select(message.c.body).where(message.c.skill_id == created.id)
                              ).scalars().all()
    engine.dispose()
    found = [re.search(r"/l/(\w+)", body).group(1) for body in bodies]
    assert len(found) == recipients
    return found


# --- the server: what a `psms serve` API worker runs -----------------------------------------

def _worker(listener: socket.socket, db: str, phase: str) -> None:
    from proactive_sms.domain.clock import SystemClock
    from proactive_sms.interfaces.api.app import create_app
    from proactive_sms.interfaces.api.short_links import ShortLinkRedirects
    from proactive_sms.interfaces.cli.api_worker import (
        GracefulServer,
        _serve,
        request_threads,
        uvicorn_config,
    )
    from proactive_sms.services.link_clicks import Click
    from proactive_sms.store.engine import make_engine

    threads = request_threads()
    engine = make_engine(f"sqlite:///{db}", threads)
    app = create_app(engine, SystemClock())
    if phase == "static":
        fixed = Click(TARGET, "mobile", counted=False, first=False)

        async def static(code: str, agent: str | None) -> Click:
            return fixed

        app = ShortLinkRedirects(app, visit=static)
    server = GracefulServer(uvicorn_config(app, access_log=False))
    asyncio.run(_serve(server, listener, threads))


def start_workers(listener: socket.socket, db: Path, phase: str,
                  workers: int) -> list[multiprocessing.Process]:
    context = multiprocessing.get_context("fork")
    started = [context.Process(target=_worker, args=(listener, str(db), phase), daemon=True)
               for _ in range(workers)]
    for process in started:
        process.start()
    return started


def stop_workers(started: list[multiprocessing.Process]) -> None:
    for process in started:
        os.kill(process.pid, signal.SIGTERM)
    for process in started:
        process.join(timeout=20)
        if process.is_alive():
            process.kill()


def wait_answering(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /l/x HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the workers did not answer")


# --- the load generator ----------------------------------------------------------------------

async def _one_client(port: int, codes: list[str], agent: str, until: float, counted_from: float,
                      seed: int, latencies: list[float], stats: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rnd = random.Random(seed)
    head = f"Host: 127.0.0.1:{port}\r\nUser-Agent: {agent}\r\n\r\n".encode()
    try:
        while True:
            now = time.monotonic()
            if now >= until:
                return
            code = codes[rnd.randrange(len(codes))]
            writer.write(b"GET /l/" + code.encode() + b" HTTP/1.1\r\n" + head)
            started = time.perf_counter()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            took = time.perf_counter() - started
            if now >= counted_from:
                if status_line.startswith(b"HTTP/1.1 302"):
                    stats["ok"] += 1
                    latencies.append(took)
                else:
                    stats["errors"] += 1
    finally:
        writer.close()


def client_process(port: int, codes: list[str], agent: str, clients: int, seconds: float,
                   seed: int, queue) -> None:
    async def main() -> tuple[dict, list[float]]:
        start = time.monotonic()
        counted_from, until = start + WARMUP_S, start + WARMUP_S + seconds
        latencies: list[float] = []
        stats = {"ok": 0, "errors": 0}
        await asyncio.gather(*(_one_client(port, codes, agent, until, counted_from,
                                           seed * 1000 + i, latencies, stats)
                               for i in range(clients)))
        return stats, latencies

    cpu0 = time.process_time()
    stats, latencies = asyncio.run(main())
    queue.put((stats, latencies, time.process_time() - cpu0))


def cpu_s(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def stored_clicks(db: Path) -> tuple[int, int]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows, clicks = conn.execute("SELECT count(*), coalesce(sum(clicks), 0) FROM link_click"
                                    ).fetchone()
    return rows, clicks


def run_phase(phase: str, args, db: Path, codes: list[str], listener: socket.socket,
              port: int) -> dict:
    workers = start_workers(listener, db, phase, args.workers)
    try:
        wait_answering(port)
        before = stored_clicks(db)
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        agent = BOT if phase == "preview" else PHONE
        share = max(1, args.clients // args.client_procs)
        clients = [context.Process(target=client_process,
                                   args=(port, codes, agent, share, args.seconds, n, queue))
                   for n in range(args.client_procs)]
        for process in clients:
            process.start()
        time.sleep(WARMUP_S)
        cpu0, load0 = cpu_s([w.pid for w in workers]), os.getloadavg()[0]
        results = [queue.get(timeout=args.seconds + 120) for _ in clients]
        cpu1, load1 = cpu_s([w.pid for w in workers]), os.getloadavg()[0]
        for process in clients:
            process.join()
        after = stored_clicks(db)
    finally:
        stop_workers(workers)
    ok = sum(r[0]["ok"] for r in results)
    errors = sum(r[0]["errors"] for r in results)
    latencies = sorted(x for r in results for x in r[1])
    return {
        "phase": phase, "per_s": ok / args.seconds, "errors": errors,
        "p50": _pct(latencies, 0.50), "p95": _pct(latencies, 0.95),
        "p99": _pct(latencies, 0.99),
        "server_cpu_pct": 100 * (cpu1 - cpu0) / args.seconds,
        "client_cpu_pct": 100 * sum(r[2] for r in results) / (args.seconds + WARMUP_S),
        "load": (load0 + load1) / 2,
        "new_rows": after[0] - before[0], "new_clicks": after[1] - before[1],
    }


def _pct(ordered: list[float], share: float) -> float:
    if not ordered:
        return float("nan")
    return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def table(rows: list[dict]) -> str:
    return results_doc.table(
        ("round", "phase", "answers/s", "p50 ms", "p95 ms", "p99 ms", "errors",
         "clicks stored (new rows)", "server CPU %", "client CPU %", "load avg"),
        [(r["round"], r["phase"], f"{r['per_s']:.0f}", f"{r['p50']:.1f}", f"{r['p95']:.1f}",
          f"{r['p99']:.1f}", r["errors"],
          f"{r['new_clicks']} ({r['new_rows']})" if r["phase"] == "clicks" else "-",
          f"{r['server_cpu_pct']:.0f}", f"{r['client_cpu_pct']:.0f}", f"{r['load']:.1f}")
         for r in rows],
        align="rlrrrrrrrrr")


def ratios(rows: list[dict]) -> str:
    import statistics

    by = {phase: {"per_s": statistics.median(r["per_s"] for r in rows if r["phase"] == phase)}
          for phase in {r["phase"] for r in rows}}
    parts = ["medians: " + ", ".join(f"{p} {v['per_s']:.0f}/s" for p, v in sorted(by.items()))]
    if "static" in by and "clicks" in by and by["static"]["per_s"]:
        share = by["clicks"]["per_s"] / by["static"]["per_s"]
        parts.append(f"clicks stored / static floor: {share:.2f}")
    if "static" in by and "preview" in by and by["static"]["per_s"]:
        parts.append(f"preview (checked, not stored) / static floor: "
                     f"{by['preview']['per_s'] / by['static']['per_s']:.2f}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client-procs", type=int, default=1)
    parser.add_argument("--only", default="static,preview,clicks")
    parser.add_argument("--rounds", type=int, default=2,
                        help="Run the phases this many times, interleaved (the machine's load "
                             "moves); ratios are of the medians.")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="psms-clicks-"))
    os.environ.setdefault("PSMS_SECRET_KEY_FILE", str(folder / "psms.key"))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(2048)
    port = listener.getsockname()[1]
    db = folder / "psms.db"
    started = time.monotonic()
    codes = build(db, port, args.recipients)
    print(f"built: {len(codes)} texts with a short link in {time.monotonic() - started:.1f} s",
          flush=True)
    rows = []
    for round_no in range(1, args.rounds + 1):
        for phase in args.only.split(","):
            rows.append({**run_phase(phase, args, db, codes, listener, port),
                         "round": round_no})
            print(f"round {round_no} {phase}: {rows[-1]['per_s']:.0f}/s", flush=True)
    listener.close()
    out = table(rows)
    summary = ratios(rows)
    print(out)
    print(summary)
    text = (f"{results_doc.run_heading()}. SQLite: {args.workers} API workers, {args.clients} "
            f"keep-alive clients in {args.client_procs} process(es), {args.seconds:.0f} s "
            f"measured per phase, {args.recipients} recipients.\n\n{out}\n\n{summary}")
    if not args.no_docs:
        results_doc.write_block("clicks.py", SECTION, text)


if __name__ == "__main__":
    main()
