"""Import + launch of a large calling list, against the floor of a bulk CSV load in the same run.

    .venv/bin/python bench/launch.py [--rows N] [--out DIR] [--no-docs]

1. Generates a realistic calling list (ExternalId, FirstName, LastName, PhoneNumber, IsCellPhone,
   PostalCode and a custom field Balance): valid US numbers in several formats across ~300 area
   codes, some landlines, some repeated numbers, a small share of bad rows, a few names that need
   UCS-2. The same seed gives the same file.
2. The floor: the `sqlite3` command-line shell's `.import --csv` of that file into a fresh
   database (best of 3; the least work that reads the file and stores every row). For context also
   a Python-stdlib floor: the csv module + executemany into sqlite3, in one transaction.
3. Ours, in a child process on a fresh SQLite file (WAL, synchronous=NORMAL, as shipped):
   services.importing.import_calling_list, then services.launching.start_skill with the saved
   template "Hi {FirstName}, your balance of {Balance} is due." Wall time of each.
4. Peak memory of that child and the worker processes it starts (import and launch do their
   per-row work in a forked worker for a large list), so neither the generator, the floors nor
   this parent count. This parent samples, every 0.2 s, the PSS (proportional set size, from
   /proc/PID/smaps_rollup) of the child and its descendants and keeps the peak of their sum:
   a page a worker shares with the child after the fork counts once, split between them, so the
   sum is the memory the whole tree holds. The sum of their RSS (shared pages counted in each
   process: an overstatement) and the child's own ru_maxrss are shown too. (Not ru_maxrss of
   RUSAGE_CHILDREN for the workers: that is the largest one only, and it counts a fresh
   worker's moment between fork and exec, when it maps all of the child.) It is the whole
   tree - interpreter, SQLAlchemy, phonenumbers' metadata, SQLite's page cache - which is what
   an operator sees; the child's RSS before the import is reported too, so the part the import
   and launch add can be told apart. (tracemalloc would miss SQLite's own allocations and slow
   the run down severalfold.)

With --postgres URL (or $PSMS_BENCH_POSTGRES_URL), also on PostgreSQL, fresh databases each:
`psql \\copy` of the file into a table of its columns, the PostgreSQL schema floor (`psql` alone
writing the same records and messages into our migrated schema, SQL only: PG_FLOOR_SQL), and ours
(before and after); CPU of the client and of the server's backends (/proc/PID/stat read through
pg_read_file: the URL's user must be a superuser, else the server's figures are left out).

Prints a table and refreshes the generated block of the "Import + launch" section of
docs/benchmarks.md (the text around the block is written by people and left alone).
Figures, not a pass/fail test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import results_doc  # bench/results_doc.py: this folder is on the path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Import + launch (bench/launch.py)"
TEMPLATE = "Hi {FirstName}, your balance of {Balance} is due."
HEADER = ["ExternalId", "FirstName", "LastName", "PhoneNumber", "IsCellPhone", "PostalCode",
          "Balance"]
GOAL_RATIO = 5.0
GOAL_SCHEMA_RATIO = 2.0  # issue 18: against SQLite alone writing the same rows
GOAL_PEAK_MB = 300.0
FLOOR_RUNS = 3
SEED = 20260304
GENERATOR_VERSION = 1  # bump when the generated file changes, so a cached file is not reused

FIRST_NAMES = [
    "Ann", "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Maria", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony",
    "Betty", "Mark", "Sandra", "Kevin", "Ashley", "Wei", "Priya", "Mohammed", "Olga", "José",
    "Chloé", "Søren", "Anaïs", "Renée", "Ümit", "Björn",
]
UCS2_FIRST_NAMES = ["Zoë", "Łukasz", "Nguyễn", "Ioana-Ștefania", "Çağla"]  # not GSM-7
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Clark",
    "O'Brien", "Nguyen", "Kim", "Patel",
]


# --- the calling list ---------------------------------------------------------------------------


def us_area_codes() -> list[str]:
    """Area codes phonenumbers places in the US (checked on one number each, at start)."""
    import phonenumbers

    codes = []
    for area in range(201, 990):
        number = phonenumbers.parse(f"+1{area}2345678")
        if (phonenumbers.is_valid_number(number)
                and phonenumbers.region_code_for_number(number) == "US"):
            codes.append(str(area))
    return codes


def generate(path: Path, rows: int) -> dict[str, int]:
    """Write the list; return how many rows of each kind it has."""
    rng = random.Random(SEED)
    areas = us_area_codes()
    kinds = {"good": 0, "landline": 0, "repeated_number": 0, "ucs2_name": 0, "bad": 0}
    numbers: list[str] = []  # a sample of issued numbers, for repeats
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            external_id = f"C{i:08d}"
            roll = rng.random()
            if roll < 0.02 and i > 0:
                first = rng.choice(UCS2_FIRST_NAMES)
                kinds["ucs2_name"] += 1
            else:
                first = rng.choice(FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            if numbers and rng.random() < 0.01:
                digits = rng.choice(numbers)  # the same person twice, as exports have
                kinds["repeated_number"] += 1
            else:
                digits = f"{rng.choice(areas)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
                if len(numbers) < 50_000:
                    numbers.append(digits)
                elif rng.random() < 0.05:
                    numbers[rng.randrange(len(numbers))] = digits
            style = rng.random()
            if style < 0.4:
                shown = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
            elif style < 0.7:
                shown = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
            elif style < 0.9:
                shown = f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}"
            else:
                shown = digits
            is_cell = "true" if rng.random() < 0.85 else "false"
            if is_cell == "false":
                kinds["landline"] += 1
            postal = f"{rng.randint(501, 99950):05d}"
            balance = f"${rng.randint(5, 250_000) / 100:,.2f}"
            row = [external_id, first, last, shown, is_cell, postal, balance]
            bad = rng.random()
            if bad < 0.015:  # 1.5% bad rows, of six kinds
                kinds["bad"] += 1
                kind = rng.randrange(6)
                if kind == 0:
                    row[3] = f"{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"  # too short
                elif kind == 1:
                    row[3] = rng.choice(["n/a", "unknown", "call office", "-"])
                elif kind == 2:
                    row[3] = ""
                elif kind == 3:
                    row[4] = "maybe"
                elif kind == 4:
                    row = row[:5]
                else:
                    row[0] = f"C{rng.randrange(max(i, 1)):08d}"  # an ExternalId seen before
            else:
                kinds["good"] += 1
            writer.writerow(row)
    return kinds


def ensure_list(out: Path, rows: int) -> tuple[Path, dict[str, int], float]:
    """The generated file, reused when a previous run made the same one."""
    path = out / f"people-{rows}.csv"
    meta = out / f"people-{rows}.json"
    wanted = {"rows": rows, "seed": SEED, "version": GENERATOR_VERSION}
    if path.exists() and meta.exists():
        known = json.loads(meta.read_text())
        if {k: known.get(k) for k in wanted} == wanted:
            return path, known["kinds"], 0.0
    started = time.perf_counter()
    kinds = generate(path, rows)
    meta.write_text(json.dumps({**wanted, "kinds": kinds}))
    return path, kinds, time.perf_counter() - started


# --- the floors ---------------------------------------------------------------------------------


def cli_floor(csv_path: Path, work: Path) -> float | None:
    """Best wall time of the sqlite3 shell's `.import --csv` into a fresh database."""
    shell = shutil.which("sqlite3")
    if shell is None:
        return None
    best = None
    for _ in range(FLOOR_RUNS):
        db = work / "floor-cli.db"
        db.unlink(missing_ok=True)
        started = time.perf_counter()
        subprocess.run([shell, str(db), f".import --csv {csv_path} people"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
        db.unlink(missing_ok=True)
    return best


def python_floor(csv_path: Path, work: Path) -> float:
    """csv module + executemany into sqlite3 (one transaction, 5,000 rows a call)."""
    db = work / "floor-py.db"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = ", ".join(f'"{h}" TEXT' for h in header)
        conn.execute(f"CREATE TABLE people ({columns})")
        marks = ", ".join("?" * len(header))
        sql = f"INSERT INTO people VALUES ({marks})"
        batch: list[list[str]] = []
        for row in reader:
            if len(row) != len(header):  # the shell pads or truncates; we just skip
                continue
            batch.append(row)
            if len(batch) == 5000:
                conn.executemany(sql, batch)
                batch = []
        conn.executemany(sql, batch)
    conn.commit()
    conn.close()
    elapsed = time.perf_counter() - started
    db.unlink(missing_ok=True)
    return elapsed


# The schema floor: SQLite alone writing what import and launch write - a calling_record and a
# message per row, into our own tables with every index, constraint and foreign key, WAL and
# synchronous=NORMAL as shipped - in SQL only (no Python per row). The CSV goes into an
# in-memory temporary table with `.import`, then two INSERT .. SELECT statements. The phone is
# normalized by SQL (digits, "+1"), the fields built with json_object, the text by
# concatenation: the same columns and about the same bytes as ours, without the checks.
_DIGITS = ("replace(replace(replace(replace(replace(PhoneNumber, '(', ''), ')', ''), '-', ''), "
           "' ', ''), '+', '')")
_FIELDS = ", ".join(f"'{name}', \"{name}\"" for name in HEADER)
FLOOR_SQL = f"""
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA temp_store = MEMORY;
.import --csv --schema temp {{csv}} raw
BEGIN;
INSERT INTO calling_record (calling_list_id, external_id, phone, sms_destination, sms_problem,
    expiration_date, time_zone, postal_code, fields, source_line, created_at, updated_at)
SELECT 1, ExternalId, number, CASE WHEN IsCellPhone = 'true' THEN number END,
    CASE WHEN IsCellPhone = 'true' THEN NULL ELSE 'no_mobile_number' END, NULL, NULL,
    PostalCode, json_object({_FIELDS}), line + 1, '{{now}}', '{{now}}'
FROM (SELECT *, '+1' || substr(digits, length(digits) - 9) AS number
      FROM (SELECT *, rowid AS line, {_DIGITS} AS digits FROM temp.raw))
WHERE true
ON CONFLICT (calling_list_id, external_id) DO NOTHING;
COMMIT;
BEGIN;
INSERT INTO message (skill_id, record_id, destination, body, encoding, segments, state,
    skip_reason, detail, attempts, created_at)
SELECT 1, id, sms_destination,
    CASE WHEN sms_destination IS NOT NULL THEN 'Hi ' || json_extract(fields, '$.FirstName')
        || ', your balance of ' || json_extract(fields, '$.Balance') || ' is due.' END,
    CASE WHEN sms_destination IS NOT NULL THEN 'gsm7' END,
    CASE WHEN sms_destination IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN sms_destination IS NOT NULL THEN 'pending' ELSE 'skipped' END,
    CASE WHEN sms_destination IS NULL THEN sms_problem END, NULL, 0, '{{now}}'
FROM calling_record WHERE calling_list_id + 0 = 1 ORDER BY id
ON CONFLICT (skill_id, record_id, cadence_step, step_attempt) DO NOTHING;
COMMIT;
SELECT (SELECT count(*) FROM calling_record), (SELECT count(*) FROM message);
"""


def schema_floor(csv_path: Path, work: Path, src: Path) -> dict | None:
    """Best wall time of the sqlite3 shell writing the records and messages (FLOOR_SQL) into a
    fresh database of our schema (made by our migrations beforehand, with the unit, list and
    skill the rows refer to: not timed)."""
    shell = shutil.which("sqlite3")
    if shell is None:
        return None
    best = best_cpu = None
    for _ in range(FLOOR_RUNS):
        db = work / "floor-schema.db"
        for stale in work.glob("floor-schema.db*"):
            stale.unlink()
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-schema",
                        str(db), "--src", str(src)], check=True, stdout=subprocess.DEVNULL)
        script = FLOOR_SQL.format(csv=csv_path, now="2026-03-04 16:00:00.000000")
        started, cpu = time.perf_counter(), cpu_s(resource.RUSAGE_CHILDREN)
        done = subprocess.run([shell, str(db)], input=script, check=True, capture_output=True,
                              text=True)
        elapsed = time.perf_counter() - started
        used = cpu_s(resource.RUSAGE_CHILDREN) - cpu
        records, texts = (int(n) for n in done.stdout.strip().splitlines()[-1].split("|"))
        best = elapsed if best is None else min(best, elapsed)
        best_cpu = used if best_cpu is None else min(best_cpu, used)
        for stale in work.glob("floor-schema.db*"):
            stale.unlink()
    return {"seconds": best, "cpu_s": best_cpu, "records": records, "messages": texts}


def child_schema(db: str, src: Path) -> None:
    """A fresh database of our schema (a SQLite file, or a PostgreSQL URL) with a unit, a code,
    the list (id 1), a skill (id 1)."""
    sys.path.insert(0, str(src))
    from proactive_sms.domain.clock import ManualClock
    from proactive_sms.services import administration
    from proactive_sms.store import calling_lists
    from proactive_sms.store.engine import open_engine

    clock = ManualClock(datetime(2026, 3, 4, 16, 0, tzinfo=UTC))
    engine = open_engine(db if "://" in db else f"sqlite:///{db}")
    bu = administration.init(engine, clock, "bench", "sales", "US")
    administration.add_registration(engine, bu, clock, code="55501", kind="short",
                                    throughput_per_s=100.0, connection=None, dnc_group=None)
    with engine.begin() as conn:
        calling_lists.ensure_list(conn, bu.id, "people", HEADER, clock.now())
    administration.create_skill(engine, bu, clock, name="balance-due", registration="55501",
                                calling_list="people")
    engine.dispose()


# --- PostgreSQL ---------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server of `admin_url` (dropped afterwards); yields its URL."""
    name = f"psms_bench_{uuid.uuid4().hex[:10]}"
    _psql(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _plain(url: str) -> str:
    """A SQLAlchemy URL as libpq (psql) spells it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def _psql(url: str, command: str) -> None:
    subprocess.run(["psql", _plain(url), "-v", "ON_ERROR_STOP=1", "-q", "-c", command],
                   check=True, stdout=subprocess.DEVNULL)


def psql_floor(csv_path: Path, admin_url: str) -> dict | None:
    """Best wall (and CPU) time of `psql \\copy` of the file into a fresh table of the same
    columns (text), on a fresh database: the least work that reads the file into PostgreSQL."""
    if shutil.which("psql") is None:
        return None
    best = best_cpu = None
    columns = ", ".join(f'"{name}" text' for name in HEADER)
    for _ in range(FLOOR_RUNS):
        with postgres_database(admin_url) as url:
            _psql(url, f"CREATE TABLE people ({columns})")
            # Rows with a wrong number of columns would stop COPY: the floor reads a copy of
            # the file without them (made once, before the clock starts).
            good = _good_rows(csv_path)
            started, cpu = time.perf_counter(), cpu_s(resource.RUSAGE_CHILDREN)
            _psql(url, f"\\copy people FROM '{good}' WITH (FORMAT csv, HEADER true)")
            elapsed = time.perf_counter() - started
            used = cpu_s(resource.RUSAGE_CHILDREN) - cpu
        best = elapsed if best is None else min(best, elapsed)
        best_cpu = used if best_cpu is None else min(best_cpu, used)
    return {"seconds": best, "cpu_s": best_cpu}


def _good_rows(csv_path: Path) -> Path:
    """The file without the rows whose column count is wrong (COPY refuses them), kept."""
    good = csv_path.with_suffix(".good.csv")
    if not good.exists():
        with csv_path.open(encoding="utf-8", newline="") as source, \
                good.open("w", encoding="utf-8", newline="") as target:
            writer = csv.writer(target)
            for row in csv.reader(source):
                if len(row) == len(HEADER):
                    writer.writerow(row)
    return good


# The PostgreSQL schema floor: PostgreSQL alone writing what import and launch write, as the
# SQLite one above: `psql` copies the file's good rows into a temporary table (\copy), then one
# INSERT .. SELECT into calling_record and one into message, each in its own transaction, into a
# fresh database made by our migrations (every index, constraint, foreign key and trigger) with
# the unit, code, list and skill the rows refer to (not timed). No Python per row, no checks.
# Its last statement reads the backend's own CPU time (/proc/self/stat of the server process,
# through pg_read_file: a superuser's connection; absent otherwise).
_PG_DIGITS = "regexp_replace(\"PhoneNumber\", '[^0-9]', '', 'g')"
_PG_FIELDS = ", ".join(f"'{name}', \"{name}\"" for name in HEADER)
PG_FLOOR_SQL = f"""
\\set ON_ERROR_STOP 1
CREATE TEMP TABLE raw ({", ".join(f'"{name}" text' for name in HEADER)});
\\copy raw FROM '{{csv}}' WITH (FORMAT csv, HEADER true)
BEGIN;
INSERT INTO calling_record (calling_list_id, external_id, phone, sms_destination, sms_problem,
    expiration_date, time_zone, postal_code, fields, source_line, created_at, updated_at)
SELECT 1, "ExternalId", number, CASE WHEN "IsCellPhone" = 'true' THEN number END,
    CASE WHEN "IsCellPhone" = 'true' THEN NULL ELSE 'no_mobile_number' END, NULL, NULL,
    "PostalCode", json_build_object({_PG_FIELDS}), line + 1, '{{now}}', '{{now}}'
FROM (SELECT *, '+1' || right(digits, 10) AS number
      FROM (SELECT *, row_number() OVER () AS line, {_PG_DIGITS} AS digits FROM raw) AS r) AS n
ON CONFLICT (calling_list_id, external_id) DO NOTHING;
COMMIT;
BEGIN;
INSERT INTO message (skill_id, record_id, destination, body, encoding, segments, state,
    skip_reason, detail, attempts, created_at)
SELECT 1, id, sms_destination,
    CASE WHEN sms_destination IS NOT NULL THEN 'Hi ' || (fields ->> 'FirstName')
        || ', your balance of ' || (fields ->> 'Balance') || ' is due.' END,
    CASE WHEN sms_destination IS NOT NULL THEN 'gsm7' END,
    CASE WHEN sms_destination IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN sms_destination IS NOT NULL THEN 'pending' ELSE 'skipped' END,
    CASE WHEN sms_destination IS NULL THEN sms_problem END, NULL, 0, '{{now}}'
FROM calling_record WHERE calling_list_id = 1 ORDER BY id
ON CONFLICT (skill_id, record_id, cadence_step, step_attempt) DO NOTHING;
COMMIT;
SELECT (SELECT count(*) FROM calling_record) || '|' || (SELECT count(*) FROM message);
\\set ON_ERROR_STOP 0
SELECT 'stat|' || pg_read_file('/proc/self/stat');
"""


def pg_schema_floor(csv_path: Path, admin_url: str, src: Path) -> dict | None:
    """Best wall time (and CPU: psql's, the server backend's) of `psql` writing the records and
    messages (PG_FLOOR_SQL) into a fresh database of our schema."""
    if shutil.which("psql") is None:
        return None
    best: dict | None = None
    good = _good_rows(csv_path)
    for _ in range(FLOOR_RUNS):
        with postgres_database(admin_url) as url:
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-schema", url,
                            "--src", str(src)], check=True, stdout=subprocess.DEVNULL,
                           env=_bench_env(csv_path.parent))
            script = PG_FLOOR_SQL.format(csv=good, now="2026-03-04 16:00:00+00")
            started, cpu = time.perf_counter(), cpu_s(resource.RUSAGE_CHILDREN)
            done = subprocess.run(["psql", _plain(url), "-X", "-q", "-At"], input=script,
                                  check=True, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            used = cpu_s(resource.RUSAGE_CHILDREN) - cpu
        lines = done.stdout.strip().splitlines()
        counts = next(line for line in lines if not line.startswith("stat|"))
        records, texts = (int(n) for n in counts.split("|"))
        stat = next((line[5:] for line in lines if line.startswith("stat|")), None)
        run = {"seconds": elapsed, "cpu_s": used, "server_cpu_s": _stat_cpu_s(stat),
               "records": records, "messages": texts}
        if best is None or elapsed < best["seconds"]:
            best = run
    return best


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_cpu_s(stat: str | None) -> float | None:
    """User + system CPU seconds from the text of a /proc/PID/stat (None when not read)."""
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def server_cpu(conn) -> dict[int, float] | None:
    """CPU seconds so far of each server process connected to this database (our engine's pool),
    read by the server itself (pg_read_file of /proc/PID/stat: a superuser's connection on a
    Linux server); None when it cannot be read."""
    from sqlalchemy import text

    try:
        with conn.begin_nested():
            rows = conn.execute(text(
                "SELECT pid, pg_read_file('/proc/' || pid || '/stat') FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_type = 'client backend'")).all()
    except Exception:  # not a superuser, not Linux: the figure is left out
        return None
    return {pid: _stat_cpu_s(stat) for pid, stat in rows}


def _server_cpu_used(before: dict[int, float] | None, after: dict[int, float] | None) -> float:
    """CPU the server's backends used between two readings (a backend new since counts whole)."""
    if before is None or after is None:
        return float("nan")
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --- ours, in a child process -------------------------------------------------------------------


def cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (RUSAGE_SELF, with its worker processes once
    they have ended: RUSAGE_CHILDREN too) - a figure the machine's load disturbs far less than
    wall time."""
    whos = [who] if who != resource.RUSAGE_SELF else [who, resource.RUSAGE_CHILDREN]
    return sum(resource.getrusage(w).ru_utime + resource.getrusage(w).ru_stime for w in whos)


def child(db: str, csv_path: Path, src: Path) -> None:
    """Import and launch on a fresh database (a SQLite file, or a PostgreSQL URL); print one
    JSON line with times and peak RSS."""
    sys.path.insert(0, str(src))
    from sqlalchemy import text

    from proactive_sms.domain.clock import ManualClock
    from proactive_sms.services import administration, importing, launching
    from proactive_sms.store.engine import open_engine

    clock = ManualClock(datetime(2026, 3, 4, 16, 0, tzinfo=UTC))
    postgres = "://" in db
    engine = open_engine(db if postgres else f"sqlite:///{db}")
    bu = administration.init(engine, clock, "bench", "sales", "US")
    administration.add_registration(engine, bu, clock, code="55501", kind="short",
                                    throughput_per_s=100.0, connection=None, dnc_group=None)
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def server() -> dict[int, float] | None:
        if not postgres:
            return None
        with engine.connect() as conn:
            return server_cpu(conn)

    server_0 = server()
    started, cpu = time.perf_counter(), cpu_s()
    imported = importing.import_calling_list(engine, bu, "people", csv_path, clock)
    import_s, import_cpu_s = time.perf_counter() - started, cpu_s() - cpu
    server_imported = server()

    saved = administration.save_template(engine, bu, clock, "balance", TEMPLATE,
                                         calling_list="people")
    created = administration.create_skill(engine, bu, clock, name="balance-due",
                                          registration="55501", calling_list="people")
    server_1 = server()
    started, cpu = time.perf_counter(), cpu_s()
    launched = launching.start_skill(engine, created.id, clock, template_id=saved.id)
    launch_s, launch_cpu_s = time.perf_counter() - started, cpu_s() - cpu
    server_2 = server()
    if postgres:
        with engine.connect() as conn:
            db_bytes = conn.scalar(text("SELECT pg_database_size(current_database())"))
    else:
        db_bytes = sum(p.stat().st_size for p in Path(db).parent.glob(Path(db).name + "*"))
    engine.dispose()

    print(json.dumps({
        "import_s": import_s,
        "launch_s": launch_s,
        "import_cpu_s": import_cpu_s,
        "launch_cpu_s": launch_cpu_s,
        # the server's backends (PostgreSQL; NaN when they could not be read)
        "import_server_cpu_s": _server_cpu_used(server_0, server_imported),
        "launch_server_cpu_s": _server_cpu_used(server_1, server_2),
        "rss_before_kb": rss_before_kb,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,  # KiB on Linux
        "rows_read": imported.rows_read,
        "accepted": imported.accepted,
        "rejected": imported.rejected,
        "rejected_by_problem": {str(k): v for k, v in imported.rejected_by_problem.items()},
        "pending": launched.pending,
        "skipped": {str(k): v for k, v in launched.skipped.items()},
        "db_bytes": db_bytes,
    }))


def _bench_env(work: Path) -> dict[str, str]:
    """The environment of a child on PostgreSQL: the store seals secrets with a key file, the
    run's own in `work`, not a psms.key left in the working directory."""
    return {**os.environ, "PSMS_SECRET_KEY_FILE": os.environ.get(
        "PSMS_SECRET_KEY_FILE", str(work / "psms.key"))}


def run_ours(csv_path: Path, work: Path, src: Path, db_url: str | None = None) -> dict:
    """Ours in a child process, on a fresh SQLite file (or the fresh PostgreSQL database
    `db_url`)."""
    db = db_url or str(work / "ours.db")
    for stale in work.glob("ours.db*"):
        stale.unlink()
    env = _bench_env(work)
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", db, str(csv_path),
         "--src", str(src)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    peaks = TreeMemory(process.pid)
    sampler = threading.Thread(target=peaks.sample_until, args=(process,), daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    sampler.join()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args, stdout, stderr)
    for stale in work.glob("ours.db*"):
        stale.unlink()
    result = json.loads(stdout.strip().splitlines()[-1])
    result["tree_peak_pss_kb"] = peaks.pss_kb
    result["tree_peak_rss_kb"] = peaks.rss_kb
    result["tree_processes"] = peaks.processes
    return result


class TreeMemory:
    """Peak PSS and RSS summed over a process and its descendants, sampled (Linux /proc)."""

    INTERVAL_S = 0.2

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.pss_kb = 0
        self.rss_kb = 0
        self.processes = 1  # the most processes seen at once

    def sample_until(self, process: subprocess.Popen) -> None:
        while process.poll() is None:
            pids = self._tree(self.pid)
            pss = rss = 0
            for pid in pids:
                pss += self._field(f"/proc/{pid}/smaps_rollup", "Pss:")
                rss += self._field(f"/proc/{pid}/status", "VmRSS:")
            self.pss_kb = max(self.pss_kb, pss)
            self.rss_kb = max(self.rss_kb, rss)
            self.processes = max(self.processes, len(pids))
            time.sleep(self.INTERVAL_S)

    @classmethod
    def _tree(cls, pid: int) -> list[int]:
        found = [pid]
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                for child in (task / "children").read_text().split():
                    found += cls._tree(int(child))
        except OSError:
            pass  # gone meanwhile
        return found

    @staticmethod
    def _field(path: str, name: str) -> int:
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(name):
                        return int(line.split()[1])  # kB
        except OSError:
            pass
        return 0


# --- report -------------------------------------------------------------------------------------


def report(rows: int, kinds: dict[str, int], cli_s: float | None, py_s: float,
           ours: dict, schema: dict | None = None, before: dict | None = None,
           before_src: Path | None = None) -> str:
    total_s = ours["import_s"] + ours["launch_s"]
    peak_mb = ours["tree_peak_pss_kb"] / 1024
    child_mb = ours["peak_rss_kb"] / 1024
    rss_sum_mb = ours["tree_peak_rss_kb"] / 1024
    base_mb = ours["rss_before_kb"] / 1024

    def rate(seconds: float) -> str:
        return f"{rows / seconds:,.0f}"

    def ratio(seconds: float) -> str:
        return f"{seconds / cli_s:.1f}x" if cli_s else "n/a"

    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {rows:,} rows "
        f"({kinds['bad']:,} bad, {kinds['landline']:,} landlines, "
        f"{kinds['repeated_number']:,} repeated numbers, {kinds['ucs2_name']:,} UCS-2 names), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs.",
        "",
        "| step | wall s | rows/s | × floor |",
        "| --- | ---: | ---: | ---: |",
    ]
    if cli_s is not None:
        lines.append(f"| floor: `sqlite3` shell `.import --csv` (best of {FLOOR_RUNS}) "
                     f"| {cli_s:.2f} | {rate(cli_s)} | 1.0x |")
    else:
        lines.append("| floor: `sqlite3` shell | - | - | **absent: install the Debian "
                     "`sqlite3` package** |")
    lines += [
        f"| context: Python csv + sqlite3 executemany | {py_s:.2f} | {rate(py_s)} "
        f"| {ratio(py_s)} |",
        f"| ours: import (`import_calling_list`) | {ours['import_s']:.2f} "
        f"| {rate(ours['import_s'])} | {ratio(ours['import_s'])} |",
        f"| ours: launch (`start_skill`, template) | {ours['launch_s']:.2f} "
        f"| {rate(ours['launch_s'])} | {ratio(ours['launch_s'])} |",
        f"| **ours: import + launch** | **{total_s:.2f}** | **{rate(total_s)}** "
        f"| **{ratio(total_s)}** |",
        "",
        *schema_table(schema, ours, before, before_src),
        f"Peak memory of ours, the child process and its workers together (sum of PSS, sampled "
        f"every {TreeMemory.INTERVAL_S:g} s, up to {ours['tree_processes']} processes at once): "
        f"**{peak_mb:.0f} MB**. Sum of their RSS, pages shared after the fork counted in each: "
        f"{rss_sum_mb:.0f} MB. ru_maxrss of the child alone: {child_mb:.0f} MB "
        f"({base_mb:.0f} MB before the import: interpreter, SQLAlchemy, phonenumbers). "
        f"Database afterwards: {ours['db_bytes'] / 1e6:.0f} MB.",
        "",
        f"Import: {ours['accepted']:,} accepted, {ours['rejected']:,} rejected "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(ours['rejected_by_problem'].items()))}). "
        f"Launch: {ours['pending']:,} pending, skipped "
        f"{', '.join(f'{k} {v:,}' for k, v in sorted(ours['skipped'].items())) or 'none'}.",
        "",
    ]
    if schema is not None:
        wall_x = total_s / schema["seconds"]
        cpu_x = (ours["import_cpu_s"] + ours["launch_cpu_s"]) / schema["cpu_s"]
        lines.append(
            f"Goal of issue 18 (import + launch within {GOAL_SCHEMA_RATIO:g}x of the schema "
            f"floor at 1M, under {GOAL_PEAK_MB:g} MB peak): {wall_x:.1f}x in wall time "
            f"{'met' if wall_x <= GOAL_SCHEMA_RATIO else 'NOT met'}, {cpu_x:.1f}x in CPU time "
            f"{'met' if cpu_x <= GOAL_SCHEMA_RATIO else 'NOT met'}, peak {peak_mb:.0f} MB "
            f"{'met' if peak_mb <= GOAL_PEAK_MB else 'NOT met'}.")
    if cli_s is not None:
        met_ratio = total_s / cli_s <= GOAL_RATIO
        met_peak = peak_mb <= GOAL_PEAK_MB
        lines.append(
            f"Goal (within {GOAL_RATIO:g}x of the floor, under {GOAL_PEAK_MB:g} MB peak): "
            f"ratio {total_s / cli_s:.1f}x {'met' if met_ratio else 'NOT met'}, "
            f"peak {peak_mb:.0f} MB {'met' if met_peak else 'NOT met'}."
        )
    return "\n".join(lines)


def postgres_table(floor: dict | None, ours: dict, before: dict | None, sqlite_ours: dict,
                   schema: dict | None, pg_schema: dict | None = None) -> str:
    """PostgreSQL beside SQLite: import + launch against `psql \\copy` of the same file, and
    against the PostgreSQL schema floor (psql writing the same rows into our schema)."""
    def cpu(value: float | None) -> str:
        return "-" if value is None or value != value else f"{value:.2f}"  # NaN: not read

    def times(label: str, wall: float, client: float, server: float | None) -> str:
        copy_x = f"{wall / floor['seconds']:.1f}x" if floor else "-"
        both = client + server if server is not None and server == server else None
        if pg_schema is None:
            schema_x = "-"
        else:
            schema_x = f"{wall / pg_schema['seconds']:.2f}x"
            floor_cpu = pg_schema["cpu_s"] + (pg_schema["server_cpu_s"] or float("nan"))
            if both is not None and floor_cpu == floor_cpu:
                schema_x += f" / {both / floor_cpu:.2f}x"
        return (f"| {label} | {wall:.2f} | {client:.2f} | {cpu(server)} | {cpu(both)} "
                f"| {copy_x} | {schema_x} |")

    lines = ["On PostgreSQL, in the same run (a fresh database each; floors: `psql \\copy` of the "
             f"file's good rows into a table of its {len(HEADER)} columns, and the schema floor: "
             "`psql` alone writing the same records and messages into our schema with SQL only; "
             f"best of {FLOOR_RUNS}). CPU: client (ours and its worker, or psql), server (the "
             "database backends of the run, from /proc/PID/stat).", "",
             "| | wall s | CPU s client | CPU s server | CPU s both | × `psql \\copy` (wall) "
             "| × schema floor (wall / CPU both) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    if floor is not None:
        lines.append(f"| floor: `psql \\copy` | {floor['seconds']:.2f} | {floor['cpu_s']:.2f} "
                     "| - | - | 1.0x | - |")
    if pg_schema is not None:
        lines.append(times("schema floor: `psql`, SQL only, our schema", pg_schema["seconds"],
                           pg_schema["cpu_s"], pg_schema["server_cpu_s"]))
    for label, result in (("before", before), ("after", ours)):
        if result is None:
            continue
        for step in ("import", "launch"):
            lines.append(times(f"PostgreSQL {label}: {step}", result[f"{step}_s"],
                               result[f"{step}_cpu_s"], result.get(f"{step}_server_cpu_s")))
        server = (result.get("import_server_cpu_s", float("nan"))
                  + result.get("launch_server_cpu_s", float("nan")))
        lines.append(times(f"**PostgreSQL {label}: import + launch**",
                           result["import_s"] + result["launch_s"],
                           result["import_cpu_s"] + result["launch_cpu_s"], server))
    sqlite_wall = sqlite_ours["import_s"] + sqlite_ours["launch_s"]
    lines.append(f"| SQLite after: import + launch (above) | {sqlite_wall:.2f} "
                 f"| {sqlite_ours['import_cpu_s'] + sqlite_ours['launch_cpu_s']:.2f} "
                 "| | | | |")
    if floor is not None:
        x = (ours["import_s"] + ours["launch_s"]) / floor["seconds"]
        lines += ["", f"Goal of issue 15 (PostgreSQL import + launch within 3x of `psql \\copy`): "
                      f"{x:.1f}x, {'met' if x <= 3.0 else 'NOT met'}. Peak memory on PostgreSQL "
                      f"(client side): {ours['tree_peak_pss_kb'] / 1024:.0f} MB"
                      + (f" (before: {before['tree_peak_pss_kb'] / 1024:.0f} MB)" if before
                         else "")
                      + f"; database afterwards {ours['db_bytes'] / 1e6:.0f} MB. Launch: "
                      f"{ours['pending']:,} pending."]
    return "\n".join(lines)


def schema_table(schema: dict | None, ours: dict, before: dict | None,
                 before_src: Path | None) -> list[str]:
    """Ours against the schema floor, in wall and CPU time (and the code before, if measured)."""
    if schema is None:
        return []
    lines = [
        f"Against the schema floor (SQLite alone writing {schema['records']:,} records and "
        f"{schema['messages']:,} messages into our tables, indexes and constraints, SQL only; "
        f"best of {FLOOR_RUNS}). CPU: user + system of every process involved.",
        "",
        "| | wall s | CPU s | × schema floor (wall) | × schema floor (CPU) |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| schema floor: `sqlite3` shell, SQL only | {schema['seconds']:.2f} "
        f"| {schema['cpu_s']:.2f} | 1.0x | 1.0x |",
    ]
    for label, result in (("before", before), ("after", ours)):
        if result is None:
            continue
        for step in ("import", "launch"):
            wall, cpu = result[f"{step}_s"], result[f"{step}_cpu_s"]
            lines.append(f"| {label}: {step} | {wall:.2f} | {cpu:.2f} "
                         f"| {wall / schema['seconds']:.2f}x | {cpu / schema['cpu_s']:.2f}x |")
        wall = result["import_s"] + result["launch_s"]
        cpu = result["import_cpu_s"] + result["launch_cpu_s"]
        lines.append(f"| **{label}: import + launch** | **{wall:.2f}** | **{cpu:.2f}** "
                     f"| **{wall / schema['seconds']:.2f}x** | **{cpu / schema['cpu_s']:.2f}x** |")
    if before is not None:
        lines.append("")
        lines.append(f"Before: {before_src}, measured back to back with after in this run "
                     f"(peak {before['tree_peak_pss_kb'] / 1024:.0f} MB).")
    lines.append("")
    return lines


def main() -> None:
    global FLOOR_RUNS
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "psms-bench",
                        help="where the generated list and the databases go (kept for reuse)")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="the source tree to measure (another checkout's src/, to compare "
                             "versions in the same conditions); implies --no-docs")
    parser.add_argument("--floor-runs", type=int, default=3,
                        help="runs of each floor, the best kept (1 saves minutes at 1M)")
    parser.add_argument("--postgres", default=os.environ.get("PSMS_BENCH_POSTGRES_URL"),
                        help="also on PostgreSQL: a URL whose server may create databases "
                             "(default $PSMS_BENCH_POSTGRES_URL)")
    parser.add_argument("--before", type=Path,
                        help="also measure this source tree (the code before a change), back "
                             "to back with --src in the same run")
    parser.add_argument("--child", nargs=2, metavar=("DB", "CSV"), help=argparse.SUPPRESS)
    parser.add_argument("--child-schema", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    FLOOR_RUNS = args.floor_runs
    if args.child:
        child(args.child[0], Path(args.child[1]), args.src)
        return
    if args.child_schema:
        child_schema(args.child_schema, args.src)
        return

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"calling list of {args.rows:,} rows in {args.out} ...", flush=True)
    csv_path, kinds, generated_s = ensure_list(args.out, args.rows)
    how = f"generated in {generated_s:.1f} s" if generated_s else "reused"
    print(f"  {how}: {csv_path.stat().st_size / 1e6:.0f} MB", flush=True)
    if shutil.which("sqlite3") is None:
        print("WARNING: the sqlite3 shell is absent, so there is no floor to compare with; "
              "install it with `apt-get install sqlite3`.", flush=True)
    print("floor: sqlite3 .import ...", flush=True)
    cli_s = cli_floor(csv_path, args.out)
    print("context: python csv + sqlite3 ...", flush=True)
    py_s = python_floor(csv_path, args.out)
    print("schema floor: sqlite3, SQL only, our schema ...", flush=True)
    schema = schema_floor(csv_path, args.out, args.src.resolve())
    before = None
    if args.before is not None:
        print(f"before: import + launch with {args.before} ...", flush=True)
        before = run_ours(csv_path, args.out, args.before.resolve())
    print("ours: import + launch (child process) ...", flush=True)
    ours = run_ours(csv_path, args.out, args.src.resolve())
    block = report(args.rows, kinds, cli_s, py_s, ours, schema, before, args.before)
    print()
    print(block, flush=True)  # now: the PostgreSQL runs below take minutes
    if args.postgres:
        print("PostgreSQL floor: psql \\copy ...", flush=True)
        pg_floor = psql_floor(csv_path, args.postgres)
        print("PostgreSQL schema floor: psql, SQL only, our schema ...", flush=True)
        pg_schema = pg_schema_floor(csv_path, args.postgres, args.src.resolve())
        pg_before = None
        if args.before is not None:
            print(f"PostgreSQL, before: import + launch with {args.before} ...", flush=True)
            with postgres_database(args.postgres) as url:
                pg_before = run_ours(csv_path, args.out, args.before.resolve(), url)
        print("PostgreSQL, ours: import + launch ...", flush=True)
        with postgres_database(args.postgres) as url:
            pg_ours = run_ours(csv_path, args.out, args.src.resolve(), url)
        pg_block = postgres_table(pg_floor, pg_ours, pg_before, ours, schema, pg_schema)
        block += "\n\n" + pg_block
        print()
        print(pg_block)
    if args.src.resolve() != (ROOT / "src").resolve():
        print(f"\n(measured {args.src}; {results_doc.DOCS.relative_to(ROOT)} left as it was)")
    elif not args.no_docs:
        results_doc.write_block("launch.py", SECTION, block)
        print(f"\n{results_doc.DOCS.relative_to(ROOT)} updated.")


if __name__ == "__main__":
    main()
