"""docs/benchmarks.md as the benchmarks write it: each script owns one generated block in its
own section and refreshes only that block; the prose around it is written by people and left
alone. Also the pieces every block is made of: the line saying when and on what machine it ran
(`run_heading`) and its Markdown tables (`table`). Used by every script in bench/ (run as
`python bench/NAME.py`, so this folder is on the path)."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Figures from the scripts in `bench/` (`make bench` runs them all). They are measured on a "
    "development machine - 2 cores, shared, noisy - so they are indicative: compare ratios "
    "against the floor measured in the same run, not absolute seconds across runs.\n"
)


def write_block(script: str, section: str, block: str, docs: Path = DOCS) -> None:
    """Put `block` between the begin and end markers of `script` (e.g. "soak.py"): in place of
    the previous block, else at the top of `section` (a heading line), else in a new section at
    the end (the file is made, with its header, when there is none yet)."""
    begin = f"<!-- bench/{script}: generated results, begin -->"
    end = f"<!-- bench/{script}: generated results, end -->"
    generated = f"{begin}\n{block}\n{end}"
    content = docs.read_text() if docs.exists() else HEADER
    if begin in content and end in content:
        head, rest = content.split(begin, 1)
        content = head + generated + rest.split(end, 1)[1]
    elif section in content:
        head, rest = content.split(section, 1)
        content = f"{head}{section}\n\n{generated}\n{rest}"
    else:
        content = (content.rstrip("\n") + f"\n\n{section}\n\nRun `.venv/bin/python "
                   f"bench/{script}`.\n\n{generated}\n")
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(content)


def machine() -> str:
    """The cores, CPU, Python and system the figures were measured on."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu}), shared and noisy; Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


def run_heading(load_average: float | None = None) -> str:
    """"Run <now> UTC on <machine>", with the load average (1 min) given or read now: on a
    shared machine it says how far the figures can be trusted."""
    load = os.getloadavg()[0] if load_average is None else load_average
    return (f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; "
            f"load average {load:.1f}")


def table(headings: Sequence[str], rows: Iterable[Sequence[object]], align: str) -> str:
    """A Markdown table. `align`: one letter a column, `l` (text) or `r` (figures)."""
    if len(align) != len(headings) or set(align) - {"l", "r"}:
        raise ValueError(f"align {align!r} must give l or r for each of {len(headings)} columns")
    lines = ["| " + " | ".join(headings) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
