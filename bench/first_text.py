"""Time to first text: a skill's start -> its first submit_sm on the wire, at several list sizes.

    .venv/bin/python bench/first_text.py [--rows 10000 100000 1000000] [--rate 100]
                                         [--before DIR] [--out DIR] [--no-docs]

For each size, the same calling list as bench/launch.py (generated once, kept in --out) is
imported into a fresh SQLite file (not timed) with a short code of `--rate` texts/s on a
connection to the SMSC simulator (its own process: it records the moment each submit_sm
arrives). A dispatcher runs as in production (`psms dispatch`, its own process) and has bound
before the start. Then, in a third process, `launching.start_skill` with the template of
bench/launch.py; measured:

- **first text**: from the moment start_skill is called to the first submit_sm the simulator
  saw (time.monotonic() of both processes: one clock on Linux);
- **launch**: start_skill's own wall time (every record decided), with the dispatcher sending
  beside it.

"before" is the same with another source tree (`--before`, default /work/main/src if it
exists: the code before this change, where the dispatcher takes texts only from `running`
skills, so the first text waits for the whole launch), measured back to back with "after" for
each size, in the same run and conditions. The calling-window law is lifted for the run (the
rules of tests/services/all_day_rules.json, as the crash tests do) so that it runs at any hour.

Prints a table and refreshes the generated block of the "Time to first text" section of
docs/benchmarks.md. Figures, not a pass/fail test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import results_doc  # bench/results_doc.py: this folder is on the path
from launch import TEMPLATE, ensure_list
from sim_process import SimulatorProcess

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Time to first text (bench/first_text.py)"
ALL_DAY_RULES = ROOT / "tests" / "services" / "all_day_rules.json"
GOAL_FIRST_S = 1.0
CODE = "55501"


def _env(src: Path, db: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "PSMS_DATABASE_URL": f"sqlite:///{db}",
            "PSMS_WORKER_ID": "bench", "PSMS_WINDOW_RULES": str(ALL_DAY_RULES)}


def _child(src: Path, db: Path, *args: str) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                          env=_env(src, db), capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{args[0]} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def setup(db: Path, csv_path: Path, port: int, rate: float) -> None:
    """A BU, a connection to the simulator, a short code, the list imported, a skill (draft)."""
    from proactive_sms.domain.clock import SystemClock
    from proactive_sms.services import administration, importing
    from proactive_sms.store.engine import open_engine

    clock = SystemClock()
    engine = open_engine(f"sqlite:///{db}")
    bu = administration.init(engine, clock, "bench", "sales", "US")
    administration.add_connection(engine, bu, clock, "sim", "127.0.0.1", port, "psms", "secret",
                                  50)
    administration.add_registration(engine, bu, clock, code=CODE, kind="short",
                                    throughput_per_s=rate, connection="sim", dnc_group=None)
    importing.import_calling_list(engine, bu, "people", csv_path, clock)
    administration.save_template(engine, bu, clock, "balance", TEMPLATE, calling_list="people")
    created = administration.create_skill(
        engine, bu, clock, name="balance-due", registration=CODE, calling_list="people",
        calling_window={"weekday": "00:00-24:00", "weekend": "00:00-24:00"})
    engine.dispose()
    print(json.dumps({"skill_id": created.id}))


def launch(db: Path, skill_id: int) -> None:
    """start_skill with the saved template; prints when it was called and how long it took."""
    from proactive_sms.domain.clock import SystemClock
    from proactive_sms.services import launching
    from proactive_sms.store import templates
    from proactive_sms.store.engine import open_engine

    clock = SystemClock()
    engine = open_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        template_id = templates.find_template(conn, 1, "balance").id
    called, called_wall = time.monotonic(), time.time()
    summary = launching.start_skill(engine, skill_id, clock, template_id=template_id)
    launch_s = time.monotonic() - called
    engine.dispose()
    print(json.dumps({"called": called, "called_wall": called_wall, "launch_s": launch_s,
                      "pending": summary.pending}))


def _first_steps(db: Path, called_wall: float) -> tuple[float, float]:
    """Seconds from the start to the first text written (its batch's decision time) and to
    its claim by the dispatcher (submitted_at), as the message rows say (UTC text)."""
    import sqlite3

    with sqlite3.connect(db, timeout=30) as conn:
        written, claimed = conn.execute(
            "SELECT min(created_at), min(submitted_at) FROM message").fetchone()

    def since(moment: str) -> float:
        return datetime.fromisoformat(moment).replace(tzinfo=UTC).timestamp() - called_wall

    return since(written), since(claimed)


def _leased(db: Path) -> bool:
    import sqlite3

    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return bool(conn.execute("SELECT count(*) FROM transport_lease").fetchone()[0])
    except sqlite3.OperationalError:
        return False


def measure(src: Path, csv_path: Path, rows: int, rate: float, work: Path) -> dict:
    """One start of a skill of `rows` records with `src`'s code, dispatcher running."""
    db = work / f"first-{rows}.db"
    for stale in work.glob(f"first-{rows}.db*"):
        stale.unlink()
    with SimulatorProcess() as sim:
        skill_id = _child(src, db, "--child-setup", str(db), str(csv_path), str(sim.port),
                          str(rate))["skill_id"]
        dispatcher = subprocess.Popen(
            [sys.executable, "-m", "proactive_sms.interfaces.cli", "dispatch", "--verbose"],
            env=_env(src, db), stdout=subprocess.DEVNULL,
            stderr=(work / f"dispatch-{rows}.log").open("w"), text=True)
        try:
            deadline = time.monotonic() + 60
            while not _leased(db):  # bound and owning the code before the start
                if time.monotonic() > deadline or dispatcher.poll() is not None:
                    raise RuntimeError("the dispatcher did not start")
                time.sleep(0.1)
            time.sleep(1.0)
            launched = _child(src, db, "--child-launch", str(db), str(skill_id))
            deadline = time.monotonic() + 120
            while not (first := sim.first_submits(1)):
                if time.monotonic() > deadline:
                    raise RuntimeError("no text reached the simulator")
                time.sleep(0.05)
        finally:
            dispatcher.send_signal(signal.SIGTERM)
            try:
                dispatcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                dispatcher.kill()
                dispatcher.wait()
    written_s, claimed_s = _first_steps(db, launched["called_wall"])
    for stale in work.glob(f"first-{rows}.db*"):
        stale.unlink()
    return {"first_s": first[0]["monotonic_s"] - launched["called"],
            "written_s": written_s, "claimed_s": claimed_s,
            "launch_s": launched["launch_s"], "pending": launched["pending"]}


def report(results: list[tuple[int, dict, dict | None]], rate: float, before: Path | None) -> str:
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; SQLite; a short code of {rate:g} texts/s, a dispatcher "
        f"(`psms dispatch`) bound before the start; before = {before or 'not measured'}.",
        "",
        "| records | first text, before | first text, after | launch, before | launch, after |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    def seconds(result: dict | None, name: str) -> str:
        return "-" if result is None else f"{result[name]:.2f} s"

    for rows, after, old in results:
        lines.append(f"| {rows:,} | {seconds(old, 'first_s')} | **{seconds(after, 'first_s')}** "
                     f"| {seconds(old, 'launch_s')} | {seconds(after, 'launch_s')} |")
    worst = max(after["first_s"] for _, after, _ in results)
    slower = [(rows, after["launch_s"] / old["launch_s"]) for rows, after, old in results
              if old]
    lines += ["", "Where the first text's time goes, after (start -> its batch's decisions -> "
                  "the dispatcher's claim -> the wire): " + "; ".join(
                      f"{rows:,}: {after['written_s']:.2f} / {after['claimed_s']:.2f} / "
                      f"{after['first_s']:.2f} s" for rows, after, _ in results) + "."]
    lines += ["", f"Goal (first text within {GOAL_FIRST_S:g} s at every size): worst "
                  f"{worst:.2f} s, {'met' if worst <= GOAL_FIRST_S else 'NOT met'}."]
    if slower:
        lines.append("Launch after/before: " + ", ".join(
            f"{rows:,}: {ratio:.2f}x" for rows, ratio in slower) + ".")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--rate", type=float, default=100.0, help="the short code's texts/s")
    default_before = Path("/work/main/src")
    parser.add_argument("--before", type=Path,
                        default=default_before if default_before.is_dir() else None,
                        help="the src/ of the code to compare with")
    parser.add_argument("--after-only", action="store_true", help="measure this tree only")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "psms-bench")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--child-setup", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--child-launch", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_setup:
        db, csv_path, port, rate = args.child_setup
        setup(Path(db), Path(csv_path), int(port), float(rate))
        return
    if args.child_launch:
        launch(Path(args.child_launch[0]), int(args.child_launch[1]))
        return

    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    if args.after_only:
        args.before = None
    for rows in args.rows:
        csv_path, _, _ = ensure_list(args.out, rows)
        old = None
        if args.before is not None:
            print(f"{rows:,} records, before ({args.before}) ...", flush=True)
            old = measure(args.before.resolve(), csv_path, rows, args.rate, args.out)
            print(f"  {old}", flush=True)
        print(f"{rows:,} records, after ...", flush=True)
        after = measure(ROOT / "src", csv_path, rows, args.rate, args.out)
        print(f"  {after}", flush=True)
        results.append((rows, after, old))
    block = report(results, args.rate, args.before)
    print()
    print(block)
    if not args.no_docs:
        results_doc.write_block("first_text.py", SECTION, block)
        print(f"\n{results_doc.DOCS.relative_to(ROOT)} updated.")


if __name__ == "__main__":
    main()
