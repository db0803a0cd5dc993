"""Several real `psms dispatch` worker processes on one database, for scale-out tests and benches:
start, signal and restart them, read who holds which code, and check what the simulator saw."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, select

from proactive_sms.store.schema import message, sms_registration, transport_lease
from tests.processes import PSMS, psms_env, wait_until


class Fleet:
    """Worker processes by worker id; each is `psms dispatch --worker-id ID`."""

    def __init__(self, db_url: str, lease_s: float, log_dir: Path) -> None:
        self.db_url = db_url
        self.lease_s = lease_s
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.started = Counter()

    def start(self, worker_id: str, *args: str) -> subprocess.Popen:
        # The calling-window law is lifted (the skills' windows are the whole day) so the test
        # passes at any hour; windows have tests of their own.
        env = psms_env(self.db_url, PSMS_LEASE_SECONDS=str(self.lease_s))
        self.started[worker_id] += 1
        log = open(self.log_dir / f"{worker_id}-{self.started[worker_id]}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [*PSMS, "dispatch", "--verbose", "--worker-id", worker_id, *args],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes[worker_id] = process
        return process

    def signal(self, worker_id: str, sig: signal.Signals) -> None:
        self.processes[worker_id].send_signal(sig)

    def stop_all(self, timeout_s: float = 30.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.log_dir.glob("*.log")))


def holders(engine: Engine, now_utc=None) -> dict[str, set[int]]:
    """The codes each worker holds a live (unexpired) lease on."""
    from datetime import UTC, datetime

    now_utc = now_utc or datetime.now(UTC)
    held: dict[str, set[int]] = defaultdict(set)
    with engine.connect() as conn:
        for registration_id, worker_id, expires_at in conn.execute(select(
                transport_lease.c.registration_id, transport_lease.c.worker_id,
                transport_lease.c.expires_at)):
            expires_at = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
            if expires_at > now_utc:
                held[worker_id].add(registration_id)
    return dict(held)


def code_names(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(sms_registration.c.id, sms_registration.c.code)).all())


def unsettled(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.scalars(select(message.c.id).where(
            message.c.state.in_(["pending", "submitting"]))).all())


def states(engine: Engine) -> Counter:
    with engine.connect() as conn:
        return Counter(conn.scalars(select(message.c.state)))


def wait_for(predicate, timeout_s: float, step_s: float = 0.1, describe=None) -> float:
    """Seconds until `predicate()` held; raises after `timeout_s` (saying `describe()`)."""
    started = time.monotonic()
    wait_until(predicate, timeout_s,
               lambda: f"the condition ({timeout_s} s)" + (f": {describe()}" if describe else ""),
               interval_s=step_s)
    return time.monotonic() - started


def worst_windows(arrivals: Iterable[tuple[str, float]]) -> dict[str, int]:
    """Per source code: the most arrivals in any one second [t, t + 1 s) that starts with an
    arrival, as the simulator's clock saw them."""
    by_code: dict[str, list[float]] = defaultdict(list)
    for code, moment in arrivals:
        by_code[code].append(moment)
    worst = {}
    for code, times in by_code.items():
        times.sort()
        best, end = 0, 0
        for i, start in enumerate(times):
            end = max(end, i)
            while end < len(times) and times[end] < start + 1.0:
                end += 1
            best = max(best, end - i)
        worst[code] = best
    return worst
