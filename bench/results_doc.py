"""docs/benchmarks.md as the benchmarks write it: each script owns one generated block in its
own section and refreshes only that block; the prose around it is written by people and left
alone. Used by every script in bench/ (run as `python bench/NAME.py`, so this folder is on the
path)."""

from __future__ import annotations

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
