"""How commands show what they show: JSON for scripts, a table that fits the terminal for people.

Every command that shows something takes `--json` (the `JsonOption` below) and prints through
`emit_json`, or draws its rows with `print_rows`. A table wider than the terminal is drawn as
one block of `heading: value` lines per row instead: figures are never cut ("8299…").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import typer
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")

# Rich draws "│ a │ b │": one border per column plus one, and a space on each side of a cell.
_BORDER_PER_COLUMN = 3


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def emit_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout (dates as ISO 8601)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_default))


def table_width(headings: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """The width a table of these cells needs with nothing cut."""
    widths = [len(h) for h in headings]
    for row in rows:
        for i, cell in enumerate(row):
            longest = max((len(line) for line in str(cell).splitlines()), default=0)
            widths[i] = max(widths[i], longest)
    return sum(widths) + _BORDER_PER_COLUMN * len(widths) + 1


def rows_view(headings: Sequence[str], rows: Sequence[Sequence[Any]], width: int, *,
              title: str | None = None, right_aligned: Sequence[str] = ()) -> RenderableType:
    """The rows as a table when it fits `width` columns, else as vertical blocks (for `Live`)."""
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    if table_width(headings, cells) <= width:
        table = Table(title=title)
        for heading in headings:
            table.add_column(heading, no_wrap=True,
                             justify="right" if heading in right_aligned else "left")
        for row in cells:
            table.add_row(*row)
        return table
    lines: list[RenderableType] = []
    if title:
        lines.append(Text(title, style="bold"))
    label_width = max((len(h) for h in headings), default=0)
    for number, row in enumerate(cells):
        if number:
            lines.append(Text(""))
        for heading, cell in zip(headings, row, strict=True):
            lines.append(Text(f"{heading.rjust(label_width)}: {cell}"))
    return Group(*lines)


def print_rows(console: Console, headings: Sequence[str], rows: Sequence[Sequence[Any]], *,
               title: str | None = None, right_aligned: Sequence[str] = ()) -> None:
    """Draw rows as a table when it fits the console's width, else as vertical blocks."""
    print_view(console, rows_view(headings, rows, console.width, title=title,
                                  right_aligned=right_aligned))


def print_view(console: Console, view: RenderableType) -> None:
    """Print what `rows_view` made: vertical lines longer than the terminal wrap, as any text
    does, instead of being cut."""
    console.print(view, soft_wrap=not isinstance(view, Table))


def show_fields(console: Console, data: dict[str, Any], as_json: bool, *,
                empty: str = "-") -> None:
    """One thing's fields: its JSON, or a two-column table of field and value (`empty` for a
    field with no value)."""
    if as_json:
        emit_json(data)
        return
    print_rows(console, ["field", "value"],
               [(key, empty if value is None else value) for key, value in data.items()])
