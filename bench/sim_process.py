"""The SMSC simulator in a process of its own, as the benches run it: on free ports, read back
through its HTTP control interface, stopped with SIGTERM. A process of its own keeps its CPU out
of the measured process's figures, and its own (cpu_s)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECEIPT_DELAY_S = 0.05  # the benches' default: receipts come at once, as from a quick carrier
BANNER = re.compile(r"SMPP on ([\d.]+):(\d+).*control (http://[^,\s]+)")


class SimulatorProcess:
    """`python -m proactive_sms.carriers.smsc_sim` with receipts after `receipt_delay_s`,
    running the package found in `source` (another tree's, for a before/after run)."""

    def __init__(self, receipt_delay_s: float = RECEIPT_DELAY_S,
                 source: Path = ROOT / "src") -> None:
        self.receipt_delay_s = receipt_delay_s
        self.source = source
        self.process: subprocess.Popen[str] | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.control = None  # a SimulatorControl, once started

    def __enter__(self) -> SimulatorProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proactive_sms.carriers.smsc_sim", "--port", "0",
             "--control-port", "0", "--receipt-delay", str(self.receipt_delay_s)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(self.source)})
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        found = BANNER.search(banner)
        if not found:
            self.process.terminate()
            raise RuntimeError(f"simulator did not start: {banner!r}")
        from proactive_sms.carriers.smsc_sim.control import SimulatorControl

        self.host, self.port = found.group(1), int(found.group(2))
        self.control = SimulatorControl(found.group(3), timeout_s=120.0)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_s(self) -> float:
        """User + system CPU seconds the simulator process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def first_submits(self, limit: int = 10) -> list[dict]:
        assert self.control is not None
        return self.control.submits(since=0, limit=limit)

    def submits(self) -> list[dict]:
        """Every submit_sm the simulator accepted, read in pages."""
        assert self.control is not None
        records: list[dict] = []
        while True:
            page = self.control.submits(since=len(records), limit=10_000)
            records += page
            if len(page) < 10_000:
                return records
