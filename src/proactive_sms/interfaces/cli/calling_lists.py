"""`psms list …`: calling lists."""

from __future__ import annotations

from pathlib import Path

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json

app = typer.Typer(help="Calling lists.", no_args_is_help=True)
ctx.register_user_error("proactive_sms.services.importing:ImportRefused")


def _parse_maps(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise ctx.BadInput(f"--map takes COLUMN=FIELD, got '{pair}'")
        result[column.strip()] = target.strip()
    return result


@app.command("import")
@ctx.handle_errors
def import_list(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    name: str = typer.Option(None, help="Calling list name (default: the file's name)."),
    map_: list[str] = typer.Option([], "--map", help="COLUMN=FIELD; FIELD '-' ignores it."),
    errors_file: Path = typer.Option(None, "--errors", help="Write rejected rows here."),
    as_json: bool = JsonOption,
    bu: str = ctx.BuOption,
):
    """Import a CSV or tab-separated calling list; bad rows are reported, good ones kept (exit
    code 2 when no row was good)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from proactive_sms.services import importing

    unit = ctx.business_unit(bu)
    list_name = name or file.stem
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=ctx.console, transient=True,
                  disable=as_json) as progress:
        task = progress.add_task(f"importing {file.name}", total=file.stat().st_size)
        summary = importing.import_calling_list(
            ctx.engine(), unit, list_name, file, ctx.clock, overrides=_parse_maps(map_),
            errors_path=errors_file,
            progress=lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        emit_json({"list": list_name, "rows_read": summary.rows_read,
                   "accepted": summary.accepted, "rejected": summary.rejected,
                   "records_in_list": summary.records_in_list, "columns": summary.columns,
                   "rejected_by_problem": dict(summary.rejected_by_problem),
                   "errors": [{"line": e.line, "problem": e.problem.value, "reason": e.message}
                              for e in summary.errors],
                   "joined_cadences": summary.joined_cadences})
        _refuse_when_nothing_kept(summary)
        return
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
        from rich.table import Table

        table = Table("line", "problem", "reason", title="Rejected rows")
        for error in summary.errors[:20]:
            table.add_row(str(error.line), error.problem.value, error.message)
        ctx.console.print(table)
        if summary.rejected > 20:
            hint = f" (all in {errors_file})" if errors_file else " (use --errors FILE for all)"
            ctx.console.print(f"… and {summary.rejected - 20} more{hint}")
    _refuse_when_nothing_kept(summary)


def _refuse_when_nothing_kept(summary) -> None:
    if summary.rows_read and not summary.accepted:
        raise ctx.BadInput(f"no row of the file was accepted ({summary.rejected} rejected)")
