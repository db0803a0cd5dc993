"""The console's live figures with a skill of a million texts: page latency, SSE tick cost, and
200 open dashboards at once.

    .venv/bin/python bench/console.py [--messages 1000000] [--small 1000] [--requests 300]
                                      [--connections 200] [--hold-s 20] [--no-docs]

1. A fresh SQLite file (WAL, as shipped) with two business units: `big`, whose one running skill
   has --messages texts, and `small`, whose one running skill has --small. Records and texts are
   written with the driver's executemany in large transactions (as bench/launch.py's floor
   does), in a realistic mid-run mix: half delivered, some undeliverable or awaiting a receipt,
   a tenth skipped (four reasons), a twentieth waiting for its window, the rest pending; sent
   and delivered times spread over the last hour. Each batch adds its counts to the kept
   counters as launch does on SQLite (the per-minute figures by their trigger).
2. The cost of one SSE tick, in this process: services.dashboard.snapshot + rendering the live
   part of the page (what the feed does once per unit per tick), for the small unit and the big
   one; their ratio is the claim "the same whatever the skill's size". For context, the count
   over the message rows that reports made before (GROUP BY state, skip reason) on the big skill.
3. `psms serve --no-dispatch` as a real process on that file; a supervisor of each unit signs
   in over HTTP. p50/p95 of GET / (the dashboard) and GET /skills/<name>/report, --requests each,
   one after the other, for both units.
4. --connections event streams (GET /dashboard/events) of the big unit held open for --hold-s
   seconds, while the same pages are timed again. Per event: how old its snapshot was when it
   arrived (the data-taken stamp against the arrival time); per stream: events received; and
   the server process's CPU over the hold.

Prints a table and refreshes the generated block of the "Console" section of docs/benchmarks.md.
Figures, not a pass/fail test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
import results_doc  # noqa: E402  # bench/results_doc.py: this folder is on the path
from sqlalchemy import func, select  # noqa: E402

from proactive_sms.domain.clock import SystemClock  # noqa: E402
from proactive_sms.interfaces.web.dashboard import live_html  # noqa: E402
from proactive_sms.services import administration, console_users, dashboard  # noqa: E402
from proactive_sms.store import calling_lists, skill_counters, skills  # noqa: E402
from proactive_sms.store.engine import open_engine  # noqa: E402
from proactive_sms.store.schema import message  # noqa: E402
from proactive_sms.store.skills import SkillStatus  # noqa: E402

SECTION = "## Console (bench/console.py)"
PSMS = [sys.executable, "-m", "proactive_sms.interfaces.cli"]
REASONS = ("dnc", "duplicate_destination", "no_mobile_number", "missing_field")
BATCH = 50_000


def _stamp(moment: datetime) -> str:
    """A DateTime as SQLAlchemy stores it on SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(db: Path, units: dict[str, int]) -> dict[str, float]:
    """The units, each with one running skill of that many texts; seconds to write each."""
    engine = open_engine(f"sqlite:///{db}")
    clock = SystemClock()
    now = clock.now()
    timings = {}
    for number, (unit_name, count) in enumerate(units.items()):
        bu = administration.init(engine, clock, "acme", unit_name, "US")
        administration.add_connection(engine, bu, clock, f"sim-{unit_name}", "127.0.0.1", 9,
                                      "psms", "secret")
        code = f"5560{number}"
        administration.add_registration(engine, bu, clock, code=code, kind="short",
                                        throughput_per_s=100, connection=f"sim-{unit_name}",
                                        dnc_group=None)
        with engine.begin() as conn:
            the_list = calling_lists.ensure_list(conn, bu.id, f"list-{unit_name}",
                                                 ["FirstName"], now)
        skill_name = f"skill-{unit_name}"
        created = administration.create_skill(engine, bu, clock, name=skill_name,
                                              registration=code,
                                              calling_list=f"list-{unit_name}")
        with engine.begin() as conn:
            skills.change_status(conn, created.id, SkillStatus.RUNNING, [SkillStatus.DRAFT],
                                 now)
        started = time.perf_counter()
        _bulk(db, the_list.id, created.id, count, now, offset=number * 10_000_000)
        timings[unit_name] = time.perf_counter() - started
    engine.dispose()
    return timings


def _bulk(db: Path, list_id: int, skill_id: int, count: int, now: datetime,
          offset: int) -> None:
    engine = open_engine(f"sqlite:///{db}")
    created = _stamp(now - timedelta(hours=1))
    later = _stamp(now + timedelta(hours=2))
    for start in range(0, count, BATCH):
        ids = range(start, min(count, start + BATCH))
        with engine.begin() as conn:
            first = conn.exec_driver_sql(
                "SELECT coalesce(max(id), 0) + 1 FROM calling_record").scalar_one()
            conn.exec_driver_sql(
                "INSERT INTO calling_record (id, calling_list_id, external_id, phone, "
                "sms_destination, time_zone, postal_code, fields, source_line, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, 'America/New_York', '10001', ?, ?, ?, ?)",
                [(first + i - start, list_id, f"C{i:07d}", f"+1212{offset + i:07d}",
                  f"+1212{offset + i:07d}", f'{{"FirstName": "Ann{i}"}}', i + 2, created,
                  created) for i in ids])
            rows = []
            counts: dict[tuple[str, str], list[int]] = {}
            for i in ids:
                bucket = i % 100
                sent_at = _stamp(now - timedelta(seconds=3300 * (count - i) / count + 5))
                done_at = _stamp(now - timedelta(seconds=3300 * (count - i) / count))
                state, reason, next_at, sent, done = "pending", None, None, None, None
                if bucket < 50:
                    state, sent, done = "delivered", sent_at, done_at
                elif bucket < 55:
                    state, sent, done = "undeliverable", sent_at, done_at
                elif bucket < 60:
                    state, sent = "sent", sent_at
                elif bucket < 70:
                    state, reason, done = "skipped", REASONS[i % 4], created
                elif bucket < 75:
                    next_at = later
                rows.append((skill_id, first + i - start, f"+1212{offset + i:07d}",
                             "Hi, a bonus shift is open tonight.", "gsm7", 1, state, reason,
                             1 if sent else 0, next_at, created, sent, sent, done))
                key = (skill_counters.WAITING if next_at else state, reason or "")
                counts.setdefault(key, [0, 0])
                counts[key][0] += 1
                counts[key][1] += 1
            conn.exec_driver_sql(
                "INSERT INTO message (skill_id, record_id, destination, body, encoding, "
                "segments, state, skip_reason, attempts, next_attempt_at, created_at, "
                "submitted_at, sent_at, finished_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            # Counted as launch counts its decisions on SQLite (the per-minute figures of the
            # sent and delivered rows by their trigger).
            skill_counters.add(conn, skill_id, counts)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def tick_costs(db: Path, repeat: int) -> dict[str, list[float]]:
    """Seconds of one tick's work (snapshot + render) per unit, and of the old count."""
    engine = open_engine(f"sqlite:///{db}")
    clock = SystemClock()
    found: dict[str, list[float]] = {}
    for unit_name in ("small", "big"):
        bu = administration.business_unit(engine, unit_name)
        live_html(dashboard.snapshot(engine, bu, clock))  # warm
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            live_html(dashboard.snapshot(engine, bu, clock))
            times.append(time.perf_counter() - started)
        found[unit_name] = times
    bu = administration.business_unit(engine, "big")
    with engine.connect() as conn:
        skill_id = skills.find_skill(conn, bu.id, "skill-big").id
        counted = []
        for _ in range(3):
            started = time.perf_counter()
            conn.execute(select(message.c.state, message.c.skip_reason, func.count(),
                                func.sum(message.c.segments))
                         .where(message.c.skill_id == skill_id)
                         .group_by(message.c.state, message.c.skip_reason)).all()
            counted.append(time.perf_counter() - started)
    found["count over rows (big)"] = counted
    engine.dispose()
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(db: Path, folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PSMS_DATABASE_URL": f"sqlite:///{db}",
           "PYTHONPATH": str(ROOT / "src")}
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen([*PSMS, "serve", "--port", str(port), "--no-dispatch"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("psms serve did not answer: " + (folder / "serve.log").read_text())


def sign_in(db: Path, base: str, unit_name: str) -> dict[str, str]:
    """A supervisor of the unit signed in over HTTP; the cookies of the session."""
    engine = open_engine(f"sqlite:///{db}")
    bu = administration.business_unit(engine, unit_name)
    password = console_users.generate_password()
    username = f"sup-{unit_name}-{os.getpid()}"
    console_users.create(engine, bu, SystemClock(), username, "supervisor", password)
    engine.dispose()
    with httpx.Client(base_url=base) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        answer = client.post("/login", data={"username": username,
                                             "password": password, "csrf_token": token})
        assert answer.status_code == 303, answer.text
        return dict(client.cookies)


def time_pages(base: str, cookies: dict[str, str], unit_name: str,
               requests: int) -> dict[str, list[float]]:
    found = {}
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        for name, path in (("dashboard", "/"), ("report", f"/skills/skill-{unit_name}/report")):
            for _ in range(5):
                client.get(path)
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.get(path)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, (path, answer.status_code)
            found[name] = times
    return found


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def hold_streams(base: str, cookies: dict[str, str], connections: int, hold_s: float,
                       requests: int) -> dict:
    """`connections` event streams held open while the pages are timed again."""
    ages: list[float] = []
    counts = [0] * connections
    taken = re.compile(r'data-taken="([^"]+)"')
    limits = httpx.Limits(max_connections=connections + 10,
                          max_keepalive_connections=connections + 10)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, limits=limits,
                                 timeout=httpx.Timeout(30, read=hold_s + 30)) as client:
        opened = asyncio.Event()
        open_count = 0

        async def stream(n: int) -> None:
            nonlocal open_count
            async with client.stream("GET", "/dashboard/events") as answer:
                assert answer.status_code == 200, answer.status_code
                open_count += 1
                if open_count == connections:
                    opened.set()
                async for line in answer.aiter_lines():
                    found = taken.search(line)
                    if found:
                        arrived = datetime.now(UTC)
                        ages.append((arrived - datetime.fromisoformat(found.group(1)))
                                    .total_seconds())
                        counts[n] += 1

        tasks = [asyncio.create_task(stream(n)) for n in range(connections)]
        await asyncio.wait_for(opened.wait(), 60)
        ages.clear()
        counts[:] = [0] * connections
        started = time.monotonic()
        pages: dict[str, list[float]] = {"dashboard": [], "report": []}
        paths = {"dashboard": "/", "report": "/skills/skill-big/report"}
        while time.monotonic() - started < hold_s:
            for name, path in paths.items():
                if len(pages[name]) >= requests:
                    continue
                began = time.perf_counter()
                answer = await client.get(path)
                pages[name].append(time.perf_counter() - began)
                assert answer.status_code == 200
            await asyncio.sleep(0.02)
        held = time.monotonic() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"ages": ages, "counts": counts, "pages": pages, "held_s": held}


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f}"


def report(args, build_s: dict[str, float], ticks: dict[str, list[float]],
           alone: dict[str, dict[str, list[float]]], held: dict, cpu: float) -> str:
    small, big = ticks["small"], ticks["big"]
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), shared and noisy; Python "
        f"{platform.python_version()}; SQLite {sqlite3.sqlite_version} (WAL), `psms serve "
        f"--no-dispatch` in its own process. Skills of {args.messages:,} texts (unit `big`) and "
        f"{args.small:,} (unit `small`), written in {build_s['big']:.0f} s and "
        f"{build_s['small']:.1f} s (records and texts, counted as launch counts them).",
        "",
        "| measure | small skill | big skill | big / small |",
        "|---|---:|---:|---:|",
        f"| one SSE tick (snapshot + render), p50 ms | {ms(statistics.median(small))} | "
        f"{ms(statistics.median(big))} | "
        f"{statistics.median(big) / statistics.median(small):.2f} |",
        f"| one SSE tick, p95 ms | {ms(percentile(small, 0.95))} | {ms(percentile(big, 0.95))} "
        f"| {percentile(big, 0.95) / percentile(small, 0.95):.2f} |",
    ]
    for page in ("dashboard", "report"):
        s, b = alone["small"][page], alone["big"][page]
        lines.append(f"| GET {page} over HTTP, p50 ms | {ms(statistics.median(s))} | "
                     f"{ms(statistics.median(b))} | "
                     f"{statistics.median(b) / statistics.median(s):.2f} |")
        lines.append(f"| GET {page} over HTTP, p95 ms | {ms(percentile(s, 0.95))} | "
                     f"{ms(percentile(b, 0.95))} | "
                     f"{percentile(b, 0.95) / percentile(s, 0.95):.2f} |")
    counted = ticks["count over rows (big)"]
    lines += [
        "",
        f"For context, the count over the big skill's rows that reports made before the kept "
        f"counters: {ms(min(counted))} ms (best of 3), "
        f"{min(counted) / statistics.median(big):.0f}x one whole tick now.",
        "",
        f"With {args.connections} dashboards of the big unit open ({args.connections} event "
        f"streams, one feed shared by all), for {held['held_s']:.0f} s:",
        "",
        "| measure | value |",
        "|---|---:|",
    ]
    pages = held["pages"]
    for page in ("dashboard", "report"):
        lines.append(f"| GET {page} meanwhile, p50 / p95 ms ({len(pages[page])} requests) | "
                     f"{ms(statistics.median(pages[page]))} / "
                     f"{ms(percentile(pages[page], 0.95))} |")
    ages, counts = held["ages"], held["counts"]
    lines += [
        f"| events received per stream, min / median | {min(counts)} / "
        f"{statistics.median(counts):.0f} (a tick every 2 s) |",
        f"| age of a snapshot when it reached a stream, p50 / p95 / max ms | "
        f"{ms(statistics.median(ages))} / {ms(percentile(ages, 0.95))} / {ms(max(ages))} |",
        f"| server CPU over the hold | {100 * cpu / held['held_s']:.0f}% of one core |",
    ]
    worst = max(percentile(alone["big"]["dashboard"], 0.95),
                percentile(alone["big"]["report"], 0.95),
                percentile(pages["dashboard"], 0.95), percentile(pages["report"], 0.95))
    lines += ["", f"Goal (<= 150 ms p95 for the dashboard and the report with a skill of "
                  f"{args.messages:,} texts, alone and with {args.connections} dashboards open): "
                  f"worst p95 {ms(worst)} ms, {'met' if worst <= 0.150 else 'NOT met'}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--hold-s", type=float, default=20.0)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the database in DIR and keep it; a later run with the same "
                             "DIR measures it again without building it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="psms-console-bench-") as folder:
        work = args.keep or Path(folder)
        work.mkdir(parents=True, exist_ok=True)
        db = work / "psms.db"
        built = work / "built.txt"
        if built.exists():
            build_s = {k: float(v) for k, v in
                       (line.split("=") for line in built.read_text().split())}
            print(f"measuring {db} again", flush=True)
        else:
            print(f"writing {args.messages:,} + {args.small:,} texts ...", flush=True)
            build_s = build(db, {"small": args.small, "big": args.messages})
            built.write_text("\n".join(f"{k}={v}" for k, v in build_s.items()))
        print("tick costs ...", flush=True)
        ticks = tick_costs(db, 50)
        process, base = serve(db, work)
        try:
            cookies = {name: sign_in(db, base, name) for name in ("small", "big")}
            print("pages, one at a time ...", flush=True)
            alone = {name: time_pages(base, cookies[name], name, args.requests)
                     for name in ("small", "big")}
            print(f"{args.connections} streams for {args.hold_s:.0f} s ...", flush=True)
            before = cpu_s(process.pid)
            held = asyncio.run(hold_streams(base, cookies["big"], args.connections,
                                            args.hold_s, args.requests))
            cpu = cpu_s(process.pid) - before
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    block = report(args, build_s, ticks, alone, held, cpu)
    print(block)
    if not args.no_docs:
        results_doc.write_block("console.py", SECTION, block)


if __name__ == "__main__":
    main()
