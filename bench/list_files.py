"""What deciding a list file's format costs (services.list_files.file_format), against the floor
of reading and decoding the same bytes in the same run.

    .venv/bin/python bench/list_files.py [--mb N]

Writes one list of about N MB (default 100) in each shape the importer takes - UTF-8 (commas),
Windows-1252 (semicolons: the UTF-8 pass fails at the first accented name, the rule's other
passes run), UTF-16 LE with a BOM (tabs) - and times, best of 3 each:
- the floor: reading the file in 1 MB blocks and decoding each with its codec (the least that
  looks at every byte);
- ours: `file_format(raw, name)`, the whole-file decision an import makes before it writes.
Prints a table; figures, not a pass/fail test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import codecs
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from proactive_sms.services.list_files import file_format  # noqa: E402

_ROW = "C{i:07d}{d}Renée{d}Côté{d}212555{n:04d}{d}yes{d}10001{d}12,50\r\n"
SHAPES = [("UTF-8, commas", "utf-8", ","), ("Windows-1252, semicolons", "cp1252", ";"),
          ("UTF-16 LE with BOM, tabs", "utf-16", "\t")]


def _write(path: Path, codec: str, delimiter: str, target_bytes: int) -> None:
    header = delimiter.join(["ExternalId", "FirstName", "LastName", "PhoneNumber",
                             "IsCellPhone", "PostalCode", "Balance"]) + "\r\n"
    with path.open("w", encoding=codec, newline="") as out:
        out.write(header)
        i = 0
        while out.tell() < target_bytes:
            out.write("".join(_ROW.format(i=i + k, n=(i + k) % 10_000, d=delimiter)
                              for k in range(10_000)))
            i += 10_000


def _floor(path: Path, codec: str) -> None:
    decoder = codecs.getincrementaldecoder(codec)()
    with path.open("rb") as raw:
        while block := raw.read(1024 * 1024):
            decoder.decode(block)


def _ours(path: Path) -> str:
    with path.open("rb") as raw:
        return file_format(raw, path.name).describe()


def _best(func, *args) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(3):
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=float, default=100)
    args = parser.parse_args()
    print(f"| file ({args.mb:g} MB) | read as | floor s | ours s | × floor |")
    print("| --- | --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="psms-bench-files-") as folder:
        for shown, codec, delimiter in SHAPES:
            path = Path(folder) / f"{codec}.csv"
            _write(path, codec, delimiter, int(args.mb * 1024 * 1024))
            floor_s, _ = _best(_floor, path, codec)
            ours_s, described = _best(_ours, path)
            print(f"| {shown} | {described} | {floor_s:.2f} | {ours_s:.2f} | "
                  f"{ours_s / floor_s:.1f}x |")
            path.unlink()


if __name__ == "__main__":
    main()
