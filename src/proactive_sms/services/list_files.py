"""List files as people have them: which encoding and which delimiter, decided once for the
whole file before anything of it is written. Used by every import of a list (calling lists and
DNC numbers, from the CLI, the API and the console) and by the console's preview.

What a caller may rely on:
- Encodings taken: UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's "Unicode text"; LE
  or BE) or without one when its NUL bytes show it, and Windows-1252 (the "ANSI" CSV of Excel
  on Windows in Western Europe and the Americas).
- `file_format` with `whole_file=True` reads every byte before it answers, so an import never
  finds out halfway that the file cannot be read. The rule, for a file with no BOM:
  1. it is UTF-8 if the whole file is valid UTF-8 (ASCII included);
  2. else it is Windows-1252 if no part of it reads as a UTF-8 character (no byte sequence that
     is a well-formed multi-byte UTF-8 character) and every byte is a Windows-1252 character;
  3. a file that has both well-formed UTF-8 characters and bytes that are not UTF-8 is refused:
     it was put together from two encodings (or damaged), and reading it either way would import
     garbled names ("RenÃ©e"). A Windows-1252 file that happens to hold such a sequence (rare:
     "Ã©" as typed) is read with `--encoding windows-1252`.
  An ASCII file that turns to Windows-1252 only after its first megabytes is still read as
  Windows-1252 throughout: ASCII reads the same in both, so nothing is garbled.
- A file that cannot be read is refused (ImportRefused) with a message that names the file, the
  byte and its line: lines are counted as the CSV reader counts them (\\n, \\r\\n or a lone \\r
  ends one), so a quoted field over several lines counts each of them.
- The delimiter is one of , ; TAB | and chosen from the header and the first rows (see
  `choose_delimiter`); `delimiter=` and `encoding=` override the detection (the encoding is then
  still checked over the whole file).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from dataclasses import dataclass
from typing import BinaryIO

SNIFF_BYTES = 64 * 1024
_BLOCK_BYTES = 1024 * 1024
_SNIFF_ROWS = 20  # data rows read to choose the delimiter

# Detected delimiters, most telling first: a tab, a semicolon or a pipe in every line says more
# than a comma, which names and addresses hold ("Lee, Ann"), so a tie goes to the former.
DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", "|": "pipe", ",": "comma"}
_NAMED_DELIMITERS = {name: char for char, name in DELIMITER_NAMES.items()}
_NAMED_DELIMITERS.update({"\\t": "\t", "tsv": "\t", "csv": ","})

_UTF8_BOM, _UTF16_LE_BOM, _UTF16_BE_BOM = codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)

# A well-formed multi-byte UTF-8 character (RFC 3629): in a file that is not UTF-8 as a whole,
# the sign that part of it was.
_UTF8_CHARACTER = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")

# Each byte as L (could lead a multi-byte UTF-8 character), C (a continuation byte) or A.
_BYTE_CLASSES = bytes(ord("L") if 0xC2 <= b <= 0xF4 else ord("C") if 0x80 <= b <= 0xBF
                      else ord("A") for b in range(256))

# Names people use for the encodings, beyond Python's own.
_ENCODING_ALIASES = {"utf-8-with-bom": "utf-8-sig", "utf8-bom": "utf-8-sig", "ansi": "cp1252",
                     "unicode": "utf-16", "unicode-text": "utf-16", "excel": "cp1252"}
_NOT_FILE_ENCODINGS = {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode"}
_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16",
           "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE", "cp1252": "Windows-1252",
           "iso8859-1": "ISO-8859-1", "iso8859-15": "ISO-8859-15"}


class ImportRefused(ValueError):
    """The file cannot be a list; nothing was written."""


@dataclass(frozen=True)
class FileFormat:
    """How a list file is read: its text's codec and its delimiter."""

    codec: str  # the Python codec the text is read with (utf-8-sig, utf-16, cp1252, ...)
    encoding: str  # as people name it: "UTF-8", "UTF-8 with BOM", "UTF-16 LE", "Windows-1252"
    delimiter: str

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))

    def describe(self) -> str:
        """One phrase for summaries: 'Windows-1252, semicolon-separated'."""
        return f"{self.encoding}, {self.delimiter_name}-separated"

    def text(self, raw: BinaryIO) -> io.TextIOWrapper:
        """The file's text, read from its start. Undecodable bytes (only possible when the
        whole file was not checked: a preview) reach the rows as lone surrogates, which the
        row parser reports; a checked file has none."""
        raw.seek(0)
        return io.TextIOWrapper(raw, encoding=self.codec, errors="surrogateescape",
                                newline="")


def parse_delimiter(value: str) -> str:
    """The delimiter a user named: the character itself, or tab, comma, semicolon, pipe.
    ValueError saying what is accepted."""
    named = _NAMED_DELIMITERS.get(value.strip().lower()) if value.strip() else None
    if named:
        return named
    if len(value) == 1 and value not in "\"'\r\n " and not value.isalnum():
        return value
    raise ValueError(f"'{value}' cannot be a delimiter: give one of , ; | or tab")


def parse_encoding(value: str) -> str:
    """The Python codec of an encoding a user named (UTF-8, UTF-8 with BOM, UTF-16, UTF-16 LE,
    Windows-1252, ...). ValueError for a name that is no text encoding."""
    key = "-".join(value.strip().lower().replace("_", "-").split())
    key = _ENCODING_ALIASES.get(key, key)
    shown = value if len(value) <= 40 else value[:40] + "…"
    try:
        info = codecs.lookup(key)
    except (LookupError, ValueError) as exc:  # ValueError: a NUL in the name
        raise ValueError(f"'{shown}' is not an encoding this import knows: give UTF-8, "
                         "UTF-16 or Windows-1252") from exc
    # base64 or zlib turn bytes to bytes; the escapes and idna are no encodings of a file.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        raise ValueError(f"'{shown}' is not a text encoding: give UTF-8, UTF-16 or "
                         "Windows-1252")
    name = info.name
    # A UTF-8 file may start with a BOM whoever says it is UTF-8; the BOM is no character.
    return "utf-8-sig" if name == "utf-8" else name


def label(codec: str) -> str:
    """An encoding as people name it."""
    return _LABELS.get(codec, codec.upper())


def _label_given(codec: str, head: bytes) -> str:
    """The label of a codec the user gave, saying what its BOM says."""
    if codec == "utf-8-sig":
        return "UTF-8 with BOM" if head.startswith(_UTF8_BOM) else "UTF-8"
    if codec == "utf-16":
        return "UTF-16 BE" if head.startswith(_UTF16_BE_BOM) else "UTF-16 LE"
    return label(codec)


def file_format(raw: BinaryIO, name: str, encoding: str | None = None,
                delimiter: str | None = None, whole_file: bool = True) -> FileFormat:
    """Decide how `raw` (a binary file open at its start) is read; `raw` is left at its start.

    `encoding`, `delimiter`: what the user said (codec from `parse_encoding`, character from
    `parse_delimiter`), else detected. `whole_file=False` decides from the first SNIFF_BYTES
    alone (a preview of a file whose format was decided at its upload).
    ImportRefused, naming the file as `name`, for a file that cannot be a list."""
    raw.seek(0)
    head = raw.read(SNIFF_BYTES)
    raw.seek(0)
    if not head.strip():
        raise ImportRefused(f"{name}: the file is empty")
    if encoding:
        codec = encoding
        if codec == "utf-16" and not head.startswith((_UTF16_LE_BOM, _UTF16_BE_BOM)):
            # Python's utf-16 decoder wants a BOM; without one, Windows' order (LE) is the guess.
            codec = _utf16_without_bom(head) or "utf-16-le"
        shown = _label_given(codec, head)
    else:
        codec, shown = _codec_of_head(head, name)
    if whole_file:
        codec, shown = _check_whole_file(raw, name, codec, shown, explicit=bool(encoding))
    sample = _decoded_head(head, codec)
    if "\x00" in sample:
        raise ImportRefused(f"{name}: this is a binary file, not a CSV or tab-separated list")
    if not sample.strip(" \t\r\n\ufeff"):
        raise ImportRefused(f"{name}: the file is empty")
    chosen = delimiter or choose_delimiter(sample, complete=len(head) < SNIFF_BYTES)
    return FileFormat(codec, shown, chosen)


def choose_delimiter(sample: str, complete: bool = True) -> str:
    """The delimiter, among , ; TAB |, that reads `sample` (the file's first text) as a table:
    the one that splits the header in two or more columns, then the one by which the most of the
    first rows have as many cells as the header, then the one that gives the header more columns,
    then tab, semicolon, pipe, comma in that order. `complete`: the sample is the whole file
    (else its last row may be cut, and is not counted). A one-column file reads as commas."""
    best: tuple[tuple[bool, int, int, int], str] | None = None
    for rank, candidate in enumerate(reversed(DELIMITER_NAMES)):
        rows = _sample_rows(sample, candidate, complete)
        if not rows:
            continue
        header, data = rows[0], rows[1:]
        key = (len(header) > 1, sum(1 for row in data if len(row) == len(header)), len(header),
               rank)
        if best is None or key > best[0]:
            best = (key, candidate)
    return best[1] if best and best[0][0] else ","


def _sample_rows(sample: str, delimiter: str, complete: bool) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in itertools.islice(reader, _SNIFF_ROWS + 2):
            if row and not (len(row) == 1 and not row[0].strip()):
                rows.append(row)
    except csv.Error:  # a cell over the csv field limit, say: judge by the rows before it
        complete = False
    if not complete and len(rows) > 1:
        rows.pop()
    return rows[:_SNIFF_ROWS + 1]


def _codec_of_head(head: bytes, name: str) -> tuple[str, str]:
    """The codec the first bytes show (a BOM, the NULs of UTF-16), else UTF-8 for now."""
    if head.startswith(_UTF32_BOMS):
        raise ImportRefused(f"{name}: cannot read the file: it is UTF-32 text; save it as "
                            "UTF-8 (or UTF-16, Excel's \"Unicode text\")")
    if head.startswith(_UTF8_BOM):
        return "utf-8-sig", "UTF-8 with BOM"
    if head.startswith(_UTF16_LE_BOM):
        return "utf-16", "UTF-16 LE"
    if head.startswith(_UTF16_BE_BOM):
        return "utf-16", "UTF-16 BE"
    if b"\x00" in head:
        codec = _utf16_without_bom(head)
        if codec is None:
            raise ImportRefused(f"{name}: this is a binary file, not a CSV or tab-separated list")
        return codec, label(codec)
    return "utf-8-sig", "UTF-8"


def _utf16_without_bom(head: bytes) -> str | None:
    """utf-16-le or -be when the NULs are those of mostly-ASCII UTF-16 text, else None."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    odd_nuls, even_nuls = head[1::2].count(0), head[0::2].count(0)
    if odd_nuls >= 0.7 * pairs and even_nuls == 0:
        return "utf-16-le"
    if even_nuls >= 0.7 * pairs and odd_nuls == 0:
        return "utf-16-be"
    return None


def _decoded_head(head: bytes, codec: str) -> str:
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    return decoder.decode(head, final=len(head) < SNIFF_BYTES)


def _check_whole_file(raw: BinaryIO, name: str, codec: str, shown: str,
                      explicit: bool) -> tuple[str, str]:
    """Read the whole file with `codec`; for a file without a BOM that turns out not to be
    UTF-8, decide by the rule of the module's docstring. Returns the codec and its label."""
    try:
        failure = _first_undecodable(raw, codec)
    finally:
        raw.seek(0)
    if failure is None:
        return codec, shown
    offset, bad = failure
    line, what = _line_of(raw, codec, offset), _shown_bytes(bad)
    if explicit:
        raise ImportRefused(f"{name}: cannot read the file as {shown}: line {line} does not "
                            f"read as {shown} ({what}); nothing was imported")
    if codec.startswith("utf-16") or shown == "UTF-8 with BOM":
        kind = "UTF-16" if codec.startswith("utf-16") else "UTF-8"
        raise ImportRefused(f"{name}: cannot read the file: it starts as {shown} but line "
                            f"{line} does not read as {kind} ({what}); save it again as "
                            f"{kind}: nothing was imported")
    utf8_at = _first_utf8_character(raw)
    if utf8_at is not None:
        raise ImportRefused(
            f"{name}: cannot read the file: it mixes encodings: line "
            f"{_line_of(raw, 'utf-8', utf8_at)} has UTF-8 text but line {line} has {what}, "
            "which is not UTF-8; save the whole file as UTF-8 (or name its encoding): nothing "
            "was imported")
    ansi = _first_undecodable(raw, "cp1252")
    raw.seek(0)
    if ansi is not None:
        ansi_offset, ansi_bad = ansi
        raise ImportRefused(
            f"{name}: cannot read the file: it is not UTF-8, UTF-16 or Windows-1252 "
            f"({_shown_bytes(ansi_bad)} at line {_line_of(raw, 'cp1252', ansi_offset)}); save "
            "it as UTF-8: nothing was imported")
    return "cp1252", "Windows-1252"


def _first_undecodable(raw: BinaryIO, codec: str) -> tuple[int, bytes] | None:
    """The offset and bytes of the first thing `codec` cannot decode, or None. Read in blocks:
    a 256 MB file needs no 256 MB in memory; a C-speed decode (about 0.1 s per 100 MB of UTF-8,
    the file then in the page cache for the import itself)."""
    raw.seek(0)
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0
    while block := raw.read(_BLOCK_BYTES):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            # The incremental decoder reports positions in what it was given, which for a
            # character cut between blocks starts with the bytes it held back.
            held = len(exc.object) - len(block)
            return offset + exc.start - held, bytes(exc.object[exc.start:exc.end])
        except UnicodeError:  # a codec that refuses the stream as a whole (no BOM, say)
            return offset, block[:4]
        offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return offset - (len(exc.object) - exc.start), bytes(exc.object[exc.start:exc.end])
    return None


def _first_utf8_character(raw: BinaryIO) -> int | None:
    """The offset of the first well-formed multi-byte UTF-8 character, or None.

    A regular expression over the bytes runs at ~7 MB/s; instead each block is translated to
    byte classes (C speed) and searched for a lead byte followed by a continuation byte, and only
    those few places are checked with the full pattern."""
    raw.seek(0)
    offset, carry = 0, b""
    try:
        while block := raw.read(_BLOCK_BYTES):
            data = carry + block  # a character cut between two blocks is found whole
            classes = data.translate(_BYTE_CLASSES)
            at = classes.find(b"LC")
            while at != -1:
                if _UTF8_CHARACTER.match(data, at):
                    return offset - len(carry) + at
                at = classes.find(b"LC", at + 1)
            carry = data[-3:]
            offset += len(block)
        return None
    finally:
        raw.seek(0)


def _shown_bytes(bad: bytes) -> str:
    """Undecodable bytes in words: 'byte 0xe9', 'bytes 0x00 0xd8', 'a cut character'."""
    if not bad:
        return "a character cut by the end of the file"
    noun = "bytes" if len(bad) > 1 else "byte"
    return f"{noun} " + " ".join(f"0x{b:02x}" for b in bad[:4])


def _line_of(raw: BinaryIO, codec: str, offset: int) -> int:
    """The line (1-based, as the CSV reader counts: \\n, \\r\\n or a lone \\r) of the byte at
    `offset`. Only for messages: a second read of the file up to there, a block at a time."""
    raw.seek(0)
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    breaks, left, last = 0, offset, ""
    try:
        while left > 0 and (block := raw.read(min(_BLOCK_BYTES, left))):
            left -= len(block)
            text = decoder.decode(block)
            if not text:
                continue
            breaks += text.count("\n") + text.count("\r") - text.count("\r\n")
            if last == "\r" and text[0] == "\n":
                breaks -= 1  # a \r\n cut between two blocks ends one line
            last = text[-1]
    finally:
        raw.seek(0)
    return 1 + breaks
