"""`psms list …`: calling lists."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.services import importing, list_files

app = typer.Typer(help="Calling lists.", no_args_is_help=True)
ctx.register_user_error(importing.ImportRefused)


def _format_option(parse, option: str, value: str | None) -> str | None:
    """A --delimiter or --encoding value, read by the service's own rule."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def _parse_maps(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise importing.ImportRefused(f"--map takes COLUMN=FIELD, got '{pair}'")
        result[column.strip()] = target.strip()
    return result


@app.command("import")
@ctx.handle_errors
def import_list(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    name: str = typer.Option(None, help="Calling list name (default: the file's name)."),
    map_: list[str] = typer.Option([], "--map", help="COLUMN=FIELD; FIELD '-' ignores it."),
    errors_file: Path = typer.Option(None, "--errors", help="Write rejected rows here."),
    delimiter: str = typer.Option(
        None, help="The column delimiter: , ; | or tab (default: detected from the header "
                   "and the first rows)."),
    encoding: str = typer.Option(
        None, help="The file's encoding: UTF-8, UTF-16, Windows-1252, ... (default: "
                   "detected over the whole file)."),
    bu: str = ctx.BuOption,
):
    """Import a calling list (CSV separated by commas, semicolons, tabs or pipes; UTF-8,
    UTF-16 or Windows-1252); bad rows are reported, good ones kept."""
    chosen_delimiter = _format_option(list_files.parse_delimiter, "--delimiter", delimiter)
    chosen_encoding = _format_option(list_files.parse_encoding, "--encoding", encoding)
    unit = ctx.business_unit(bu)
    list_name = name or file.stem
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=ctx.console, transient=True) as progress:
        task = progress.add_task(f"importing {file.name}", total=file.stat().st_size)
        summary = importing.import_calling_list(
            ctx.engine(), unit, list_name, file, ctx.clock, overrides=_parse_maps(map_),
            errors_path=errors_file, encoding=chosen_encoding, delimiter=chosen_delimiter,
            progress=lambda done, total: progress.update(task, completed=done, total=total))
    if summary.file_format:
        ctx.console.print(f"file: {summary.file_format.describe()}", highlight=False)
    mapped = ", ".join(f"{h}→{f or '(ignored)'}" for h, f in summary.columns.items())
    ctx.console.print(f"columns: {mapped}")
    ctx.console.print(f"calling list [bold]{list_name}[/bold]: {summary.rows_read} rows read, "
                      f"[green]{summary.accepted} accepted[/green], "
                      f"[red]{summary.rejected} rejected[/red]; "
                      f"{summary.records_in_list} records in the list")
    for skill_name, joined in summary.joined_cadences.items():
        ctx.console.print(f"{joined} new record(s) joined the cadence of running skill "
                          f"[bold]{skill_name}[/bold]")
    if summary.rejected:
        table = Table("line", "problem", "reason", title="Rejected rows")
        for error in summary.errors[:20]:
            table.add_row(str(error.line), error.problem.value, error.message)
        ctx.console.print(table)
        if summary.rejected > 20:
            hint = f" (all in {errors_file})" if errors_file else " (use --errors FILE for all)"
            ctx.console.print(f"… and {summary.rejected - 20} more{hint}")
