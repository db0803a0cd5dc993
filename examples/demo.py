"""`make demo`: a campaign against the bundled SMSC simulator, on SQLite, with the real CLI.

Every step is a `psms` command, printed before it runs, so this doubles as a walk-through. The
simulator and the dispatcher run as their own processes and are stopped at the end: the demo leaves
nothing running. Its database is demo-out/psms.db, made fresh each run.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-out"
PSMS = [sys.executable, "-m", "proactive_sms.interfaces.cli"]
ENGLISH = ("Hi {FirstName}, your balance of ${Balance} is due on Friday. Pay at "
           "https://pay.example.com or call 800-555-0100. Reply STOP to opt out.")
ARABIC = "مرحبا {FirstName}، رصيدك {Balance} دولار مستحق يوم الجمعة. للإلغاء أرسل STOP"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_env(out: Path) -> dict[str, str]:
    """The environment of a demo's processes: its own SQLite file in `out`."""
    # The simulator is not anyone's phone: the demos lift the calling-window law
    # (examples/demo_rules.json) and their skills text all day, so that they run at any hour.
    return {**os.environ, "PSMS_DATABASE_URL": f"sqlite:///{out / 'psms.db'}",
            "PSMS_WINDOW_RULES": str(ROOT / "examples" / "demo_rules.json"),
            "COLUMNS": os.environ.get("COLUMNS", "100")}


def env() -> dict[str, str]:
    return demo_env(OUT)


def stop(processes: Iterable[subprocess.Popen]) -> None:
    """Terminate what still runs, in the order given; kill what does not stop within 10 s."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def psms(*args: str, check: bool = True) -> None:
    print(f"\n\033[1m$ psms {shlex.join(args)}\033[0m", flush=True)
    result = subprocess.run([*PSMS, *args], env=env(), cwd=ROOT)
    if check and result.returncode != 0:
        raise SystemExit(f"demo step failed: psms {shlex.join(args)}")


def wait_for_port(port: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the SMSC simulator did not open port {port}")


def main() -> None:
    started = time.monotonic()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    smpp_port, control_port = free_port(), free_port()
    (OUT / "sim.json").write_text(json.dumps({
        "receipt_delay_s": 0.3, "seed": 1,
        "receipt_outcomes": {"delivered": 0.96, "undeliverable": 0.03, "expired": 0.01},
    }))
    processes: list[subprocess.Popen] = []
    try:
        print(f"\033[1m$ psms smsc-sim --port {smpp_port} --control-port {control_port} "
              f"--config-json demo-out/sim.json &\033[0m")
        processes.append(subprocess.Popen(
            [*PSMS, "smsc-sim", "--port", str(smpp_port), "--control-port", str(control_port),
             "--config-json", str(OUT / "sim.json")], env=env(), cwd=ROOT))
        wait_for_port(smpp_port)

        psms("init", "--tenant", "acme", "--bu", "collections")
        psms("connection", "add", "simulator", "--port", str(smpp_port), "--system-id", "psms",
             "--password", "secret", "--window", "10")
        psms("registration", "add", "55501", "--kind", "short", "--throughput", "100",
             "--connection", "simulator")
        psms("registration", "add", "+1 202 555 0143", "--kind", "long", "--throughput", "5",
             "--connection", "simulator")
        psms("list", "import", "examples/calling_list.csv", "--name", "customers",
             "--errors", "demo-out/rejected.csv")
        psms("list", "import", "examples/arabic_followup.csv", "--name", "arabic-followup")
        psms("dnc", "add", "(404) 724-1681", "(303) 760-8042", "--note", "asked not to be texted")
        psms("template", "add", "balance-due", "--text", ENGLISH, "--smart", "--list", "customers")
        psms("template", "add", "balance-due-ar", "--text", ARABIC, "--direction", "rtl")
        psms("template", "preview", "balance-due-ar", "--list", "arabic-followup")
        psms("campaign", "create", "friday-reminders")
        all_day = ["--weekday-hours", "00:00-24:00", "--weekend-hours", "00:00-24:00"]
        psms("skill", "create", "reminders", "--registration", "55501", "--list", "customers",
             "--template", "balance-due", "--campaign", "friday-reminders", *all_day)
        psms("skill", "create", "reminders-ar", "--registration", "+12025550143",
             "--list", "arabic-followup", "--template", "balance-due-ar",
             "--campaign", "friday-reminders", *all_day)
        psms("skill", "start", "reminders")
        psms("skill", "start", "reminders-ar")

        print("\n\033[1m$ psms dispatch --until-idle &\033[0m", flush=True)
        dispatcher = subprocess.Popen([*PSMS, "dispatch", "--until-idle", "--receipt-grace", "5"],
                                      env=env(), cwd=ROOT)
        processes.append(dispatcher)
        time.sleep(1.5)
        control = f"http://127.0.0.1:{control_port}"
        # Two customers answer while the skill runs: one opts out, one asks for help.
        psms("smsc-sim", "inject", "--from", "+13123134706", "--to", "55501", "--text",
             "Stop texting me please", "--control", control)
        psms("smsc-sim", "inject", "--from", "+13056064120", "--to", "55501", "--text", "HELP",
             "--control", control)
        psms("skill", "status", "reminders", "--follow", "--interval", "0.5")
        psms("skill", "status", "reminders-ar", "--follow", "--interval", "0.5")
        dispatcher.wait(timeout=120)
        psms("report", "--campaign", "friday-reminders")
        psms("report", "--skill", "reminders-ar")
        psms("dnc", "check", "+13123134706", check=False)
    finally:
        stop(processes)
    print("\nnote: the demo lifts the calling-window law (examples/demo_rules.json) so that it "
          "runs at any hour against the simulator; real skills text only inside the window.")
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s; nothing left running. "
          f"Database: demo-out/psms.db, rejected rows: demo-out/rejected.csv")


if __name__ == "__main__":
    main()
