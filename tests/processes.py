"""Real `psms` processes for tests: the command line and its environment, free ports, waiting
for a condition, and stopping what was started (SIGTERM first, SIGKILL when it does not end).

The simulator is nobody's phone: the law's calling hours are lifted with PSMS_WINDOW_RULES (as
the demo does), so texts go at any hour of a run; calling windows have tests of their own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PSMS = [sys.executable, "-m", "proactive_sms.interfaces.cli"]
ALL_DAY_RULES = Path(__file__).parent / "services" / "all_day_rules.json"


def psms_env(db_url: str, **settings: str) -> dict[str, str]:
    """This process's environment for a `psms` on `db_url`, calling hours lifted, with
    `settings` (PSMS_... variables) on top."""
    return {**os.environ, "PSMS_DATABASE_URL": db_url, "PSMS_WINDOW_RULES": str(ALL_DAY_RULES),
            **settings}


def start_psms(db_url: str, *args: str, keep_stderr: bool = True,
               **settings: str) -> subprocess.Popen:
    """`psms ARGS` on `db_url` with `settings` (PSMS_... variables); its stderr kept for `stop`
    or `communicate` to give back (keep_stderr=False: dropped, for a process nobody reads)."""
    return subprocess.Popen([*PSMS, *args], env=psms_env(db_url, **settings),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if keep_stderr else subprocess.DEVNULL)


def free_port() -> int:
    """A loopback port nothing listens on at the moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def healthy(url: str) -> bool:
    """Whether the API at `url` answers /healthz (its database too)."""
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(predicate: Callable[[], object], timeout_s: float, what: str | Callable[[], str],
               interval_s: float = 0.1):
    """The first true result of `predicate()`; fails after `timeout_s` saying `what` it waited
    for (a callable: asked only then, for the state at that moment)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval_s)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


def stop(process: subprocess.Popen, timeout_s: float = 30) -> str:
    """Ends `process` (SIGTERM, SIGKILL after `timeout_s`); its stderr, where it was kept."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return (stderr or b"").decode(errors="replace")


@dataclass(eq=False)
class Processes:
    """`psms` processes on one environment, each logging to `folder`/NAME.log; `stop_all` ends
    every one still running."""

    env: dict[str, str]
    folder: Path
    psms_timeout_s: float = 60
    running: list[subprocess.Popen] = field(default_factory=list)

    def psms(self, *args: str, input: str | None = None) -> str:
        """Run the CLI to its end; its stdout (a failure says its stderr)."""
        done = subprocess.run([*PSMS, *args], env=self.env, capture_output=True, text=True,
                              timeout=self.psms_timeout_s, input=input)
        assert done.returncode == 0, f"psms {' '.join(args)}: {done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str, env: dict[str, str] | None = None
              ) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        process = subprocess.Popen([*PSMS, *args], env=env or self.env, stdout=log,
                                   stderr=subprocess.STDOUT)
        log.close()  # the process has its own copy
        self.running.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()

    def start_serve(self, name: str, *options: str, env: dict[str, str] | None = None,
                    timeout_s: float = 60) -> tuple[subprocess.Popen, str]:
        """`psms serve` on a free port: (the process, its URL) once it answers /healthz."""
        port = free_port()
        process = self.start(name, "serve", "--port", str(port), *options, env=env)
        url = f"http://127.0.0.1:{port}"

        def answering() -> bool:
            assert process.poll() is None, self.log(name)
            return healthy(url)

        wait_until(answering, timeout_s, f"{name} to answer /healthz")
        return process, url

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
        """Signal one process and wait for its end; its exit code."""
        process.send_signal(sig)
        return process.wait(timeout=30)

    def stop_all(self, timeout_s: float = 20) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
