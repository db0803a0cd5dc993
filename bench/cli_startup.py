"""How long `psms` takes to start, against the floor of a bare interpreter (issue 17).

    .venv/bin/python bench/cli_startup.py [--runs N] [--src PATH/src ...] [--importtime]

Each command runs N times (default 15) in a fresh process, the commands interleaved round by
round so that a burst of load on this shared machine hits them all alike; the table gives the
median and the best wall time and the median as a multiple of the floor (`python -c pass`)
measured in the same rounds. `--src` (repeatable; default this checkout's src) measures other
checkouts in the same rounds: `--src /work/main/src --src src` gives before and after side by
side. `--importtime` adds, for `psms --help` and `psms dnc check` of the last --src, the
top-level packages by the import time spent in them (`python -X importtime`, self times summed
by package), which is where the rest of the time goes.

The database commands run on a SQLite file made once with `psms init` in a temporary folder
(migrated before the rounds begin, so no run pays for the migrations).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = ["-m", "proactive_sms.interfaces.cli"]

COMMANDS: dict[str, list[str]] = {
    "floor: python -c pass": ["-c", "pass"],
    "python -c 'import typer, rich.console'": ["-c", "import typer, rich.console"],
    "psms --help": [*CLI, "--help"],
    "psms --version": [*CLI, "--version"],
    "psms template preview --text": [*CLI, "template", "preview", "--text",
                                     "Hi {FirstName}, a bonus shift is open tonight"],
    "psms inbound classify": [*CLI, "inbound", "classify", "STOP please"],
    "psms dnc check": [*CLI, "dnc", "check", "2125550143"],
    "psms skill --help": [*CLI, "skill", "--help"],
}
FLOOR = "floor: python -c pass"
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def _env(src: Path, folder: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(src), "PSMS_DATABASE_URL":
           f"sqlite:///{folder / 'bench.db'}", "COLUMNS": "100"}
    env.pop("PSMS_BU", None)  # the only unit there is
    return env


def _run(args: list[str], env: dict[str, str], folder: Path) -> float | None:
    """Wall seconds, or None when the command is refused (a checkout without `--version`)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, cwd=folder,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - started
    if done.returncode == 2:
        return None
    if done.returncode not in (0, 1):  # dnc check answers 1 when the number is listed
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return took


def _by_package(args: list[str], env: dict[str, str], folder: Path) -> list[tuple[str, float]]:
    done = subprocess.run([sys.executable, "-X", "importtime", *args], env=env, cwd=folder,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    spent: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            name = match[4]
            package = ".".join(name.split(".")[:3]) if name.startswith("proactive_sms") \
                else name.split(".")[0]
            spent[package] += int(match[1]) / 1e6
    return sorted(spent.items(), key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--src", type=Path, action="append")
    parser.add_argument("--importtime", action="store_true")
    options = parser.parse_args()
    sources = [src.resolve() for src in (options.src or [ROOT / "src"])]
    with tempfile.TemporaryDirectory(prefix="psms-cli-bench-") as tmp:
        envs = {}
        for number, src in enumerate(sources):
            folder = Path(tmp) / str(number)
            folder.mkdir()
            envs[src] = (_env(src, folder), folder)
            subprocess.run([sys.executable, *CLI, "init", "--bu", "bench"], env=envs[src][0],
                           cwd=folder, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            for args in COMMANDS.values():  # warm: .pyc written, files in the page cache
                _run(args, *envs[src])
        times: dict[tuple[Path, str], list[float | None]] = {
            (src, name): [] for src in sources for name in COMMANDS}
        for _ in range(options.runs):
            for src in sources:
                for name, args in COMMANDS.items():
                    times[src, name].append(_run(args, *envs[src]))
        load = os.getloadavg()
        print(f"{options.runs} runs of each, interleaved; Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / "
              f"{load[2]:.1f} at the end")
        for src in sources:
            floor = statistics.median(times[src, FLOOR])
            print(f"\nsrc {src}\n")
            print("| command | median s | best s | median × floor |")
            print("| --- | ---: | ---: | ---: |")
            for name in COMMANDS:
                runs = [took for took in times[src, name] if took is not None]
                if not runs:
                    print(f"| {name} | refused (exit 2) | | |")
                    continue
                median = statistics.median(runs)
                print(f"| {name} | {median:.3f} | {min(runs):.3f} | {median / floor:.1f}x |")
        if options.importtime:
            env, folder = envs[sources[-1]]
            for name in ("psms --help", "psms dnc check"):
                spent = _by_package(COMMANDS[name], env, folder)
                total = sum(seconds for _, seconds in spent)
                print(f"\n`{name}` ({sources[-1]}): {total:.3f} s in imports; by package "
                      "(self time):\n")
                print("| package | s |")
                print("| --- | ---: |")
                for package, seconds in spent[:10]:
                    print(f"| {package} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
