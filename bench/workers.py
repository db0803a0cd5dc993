"""Dispatch workers on one PostgreSQL: texts/s and CPU per text with 1, 2 and 3 `psms dispatch`
processes, against a simulator that accepts far more.

    .venv/bin/python bench/workers.py [--texts 12000] [--codes 6] [--workers 1,2,3] [--no-docs]

For each worker count: a fresh PostgreSQL database ($PSMS_BENCH_POSTGRES_URL, else the local
postgres@127.0.0.1/test server; a database of our own is created and dropped), the SMSC simulator
in its own process (bench/dispatch.py's), `--codes` short codes at 1,000/s each on one window-50
connection (each worker binds its own session), one calling list and skill per code. The skills
are launched and paused, the workers started and left to share the codes (each holds
codes/workers), then every skill is resumed at once. Rate = texts / (first claim -> last receipt
stored), read from the message rows. CPU: user + system seconds of every worker process from the
resume to the last receipt, per text. Figures, not a test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(ROOT))

import results_doc  # noqa: E402
from dispatch import _postgres_database, machine, write_list  # noqa: E402
from sim_process import SimulatorProcess  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from tests.services.worker_fleet import Fleet, holders, unsettled, wait_for  # noqa: E402

from proactive_sms.domain.clock import SystemClock  # noqa: E402
from proactive_sms.services import administration, importing, launching, lifecycle  # noqa: E402
from proactive_sms.store.engine import open_engine  # noqa: E402
from proactive_sms.store.schema import message  # noqa: E402

SECTION = "## Workers on one PostgreSQL (bench/workers.py)"
WINDOW = 50
CODE_RATE_PER_S = 1000.0  # the most a short code may be given
BODY = "Hi {FirstName}, a bonus shift is open."
ALL_DAY = {"weekday": "00:00-24:00", "weekend": "00:00-24:00"}
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(admin_url: str, workers: int, texts: int, codes: int, workdir: Path) -> dict:
    for url in _postgres_database(admin_url):
        return _measure(url, workers, texts, codes, workdir)
    raise AssertionError("unreachable")


def _measure(url: str, workers: int, texts: int, codes: int, workdir: Path) -> dict:
    engine = open_engine(url)
    try:
        with SimulatorProcess() as sim:
            # The workers read the real clock: the skills' windows are the whole day and the
            # law's window is lifted for them (worker_fleet.Fleet), whatever the hour.
            clock = SystemClock()
            bu = administration.init(engine, clock, "bench", "bench", "US")
            administration.add_connection(engine, bu, clock, "sim", sim.host, sim.port,
                                          "psms", "secret", WINDOW)
            per_code = texts // codes
            path = write_list(workdir / f"list-{texts}.csv", per_code * codes)
            skill_ids = []
            lines = path.read_text().splitlines()
            for i in range(codes):
                code = f"5560{i}"
                administration.add_registration(engine, bu, clock, code=code, kind="short",
                                                throughput_per_s=CODE_RATE_PER_S,
                                                connection="sim", dnc_group=None)
                part = workdir / f"part-{i}.csv"
                part.write_text("\n".join([lines[0], *lines[1 + i * per_code:
                                                          1 + (i + 1) * per_code]]) + "\n")
                importing.import_calling_list(engine, bu, f"people{i}", part, clock)
                created = administration.create_skill(
                    engine, bu, clock, name=f"bulk{i}", registration=code,
                    calling_list=f"people{i}", calling_window=ALL_DAY)
                launching.start_skill(engine, created.id, clock, message_text=BODY)
                lifecycle.pause(engine, created.id, clock)
                skill_ids.append(created.id)
            fleet = Fleet(url, 15.0, workdir)
            for w in range(workers):
                fleet.start(f"w{w + 1}")
            share = -(-codes // workers)
            try:
                wait_for(lambda: sum(len(c) for c in holders(engine).values()) == codes
                         and len(holders(engine)) == workers
                         and max(len(c) for c in holders(engine).values()) <= share, 120,
                         step_s=0.5)
                held = {w: len(c) for w, c in sorted(holders(engine).items())}
                cpu0 = {w: cpu_s(p.pid) for w, p in fleet.processes.items()}
                backends0 = _backend_cpu(engine)
                wall0 = time.perf_counter()
                for skill_id in skill_ids:
                    lifecycle.resume(engine, skill_id, clock)
                wait_for(lambda: unsettled(engine) == 0, 600, step_s=0.5)
                wait_for(lambda: _states(engine).get("sent", 0) == 0, 60, step_s=0.5)
                wall = time.perf_counter() - wall0
                cpu = {w: cpu_s(p.pid) - cpu0[w] for w, p in fleet.processes.items()}
                backends = _backend_cpu(engine)
                db_cpu = sum(c - backends0.get(pid, 0.0) for pid, c in backends.items())
            finally:
                fleet.stop_all()
            sim_records = len(sim.submits())
        with engine.connect() as conn:
            first, last = conn.execute(select(func.min(message.c.submitted_at),
                                              func.max(message.c.finished_at))).one()
        states = _states(engine)
    finally:
        engine.dispose()
    total = per_code * codes
    if states != {"delivered": total} or sim_records != total:
        raise RuntimeError(f"{workers} workers: {states}, simulator saw {sim_records}")
    seconds = (_utc(last) - _utc(first)).total_seconds()
    return {"workers": workers, "texts": total, "seconds": seconds, "rate": total / seconds,
            "wall": wall, "cpu": cpu, "held": held, "db_cpu": db_cpu,
            "db_ms_per_text": 1000 * db_cpu / total,
            "cpu_ms_per_text": 1000 * sum(cpu.values()) / total}


def _backend_cpu(engine) -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL backend connected to this database (the workers'
    pooled connections, ours aside), read from /proc: the server runs on this machine."""
    with engine.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()").scalars().all()
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):  # ended meanwhile
            found[pid] = cpu_s(pid)
    return found


def _states(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(message.c.state, func.count())
                                 .group_by(message.c.state)).all())


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def report(results: list[dict], codes: int) -> str:
    one = results[0]
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}. PostgreSQL "
        f"{_server_version()}, {codes} short codes at {CODE_RATE_PER_S:,.0f}/s, simulator in its "
        "own process, every worker its own window-50 session.",
        "",
        "| workers | codes held | texts | texts/s | vs 1 worker | worker CPU (s each) | "
        "worker CPU per text | PostgreSQL CPU per text |",
        "| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['workers']} | {', '.join(str(n) for n in r['held'].values())} | "
            f"{r['texts']:,} | {r['rate']:,.0f} | {r['rate'] / one['rate']:.2f}x | "
            f"{', '.join(f'{c:.1f}' for c in r['cpu'].values())} | "
            f"{r['cpu_ms_per_text']:.2f} ms | {r['db_ms_per_text']:.2f} ms |")
    flat = [r["cpu_ms_per_text"] for r in results]
    db = [r["db_ms_per_text"] for r in results]
    lines += ["", f"Worker CPU per text across worker counts: {min(flat):.2f}-{max(flat):.2f} ms "
                  f"(median {statistics.median(flat):.2f} ms); PostgreSQL backends' CPU per "
                  f"text: {min(db):.2f}-{max(db):.2f} ms (median {statistics.median(db):.2f} ms"
                  f", so about {1000 / statistics.median(db):,.0f} texts/s per PostgreSQL core "
                  "with this schema)."]
    return "\n".join(lines)


def _server_version() -> str:
    try:
        engine = open_engine(os.environ.get("PSMS_BENCH_POSTGRES_URL", DEFAULT_URL))
        with engine.connect() as conn:
            return conn.exec_driver_sql("SHOW server_version").scalar().split()[0]
    except Exception:  # noqa: BLE001 - only a label
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=12000)
    parser.add_argument("--codes", type=int, default=6)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    admin_url = os.environ.get("PSMS_BENCH_POSTGRES_URL", DEFAULT_URL)
    workdir = Path(tempfile.mkdtemp(prefix="psms-workers-"))
    results = []
    for count in (int(n) for n in args.workers.split(",")):
        result = run_once(admin_url, count, args.texts, args.codes, workdir)
        print(f"{count} worker(s): {result['rate']:,.0f} texts/s, held {result['held']}, "
              f"CPU {result['cpu']}, {result['cpu_ms_per_text']:.2f} ms/text", flush=True)
        results.append(result)
    block = report(results, args.codes)
    print(block)
    if not args.no_docs:
        results_doc.write_block("workers.py", SECTION, block)


if __name__ == "__main__":
    main()
