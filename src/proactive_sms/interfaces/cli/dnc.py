"""`psms dnc …`: the tenant default DNC list and named DNC groups."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import typer

from proactive_sms.domain.spreadsheet_cells import csv_writer
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.services import administration
from proactive_sms.services import dnc_import as dnc_import_service
from proactive_sms.services.importing import ImportRefused

app = typer.Typer(help="Do-not-contact lists.", no_args_is_help=True)
_SHOWN_ERRORS = 20  # on the terminal; --errors FILE has them all
ctx.register_user_error(ImportRefused)
GroupOption = typer.Option(None, "--group", help="A named DNC group (default: the tenant list).")


def _report(change: administration.DncChange, verb: str) -> None:
    ctx.console.print(f"{change.changed} number(s) {verb} list '{change.list_name}'")
    for raw in change.invalid:
        ctx.errors.print(f"[yellow]skipped:[/yellow] '{raw}' is not a valid phone number",
                         highlight=False)


@app.command("add")
@ctx.handle_errors
def dnc_add(numbers: list[str], group: str = GroupOption, note: str = typer.Option(""),
            bu: str = ctx.BuOption):
    """Put numbers on a DNC list."""
    change = administration.dnc_add(ctx.engine(), ctx.business_unit(bu), ctx.clock, numbers,
                                    group, "manual", note)
    _report(change, "added to")


@app.command("remove")
@ctx.handle_errors
def dnc_remove(numbers: list[str], group: str = GroupOption, bu: str = ctx.BuOption):
    """Take numbers off a DNC list."""
    change = administration.dnc_remove(ctx.engine(), ctx.business_unit(bu), numbers, group,
                                       clock=ctx.clock)
    _report(change, "removed from")


@app.command("check")
@ctx.handle_errors
def dnc_check(number: str, bu: str = ctx.BuOption):
    """Which DNC lists hold a number (exit code 1 when it is on one)."""
    lists = administration.dnc_check(ctx.engine(), ctx.business_unit(bu), number)
    if lists:
        ctx.console.print(f"on DNC list(s): {', '.join(lists)}")
        raise typer.Exit(1)
    ctx.console.print("not on any DNC list")


@app.command("import")
@ctx.handle_errors
def dnc_import(file: Path = typer.Argument(..., exists=True, dir_okay=False),
               group: str = GroupOption, bu: str = ctx.BuOption,
               errors: Path = typer.Option(None, "--errors",
                                           help="Write every rejected line here (CSV).")):
    """Add the numbers of a CSV file: a number column (number, phone, mobile, ...) and an
    optional note column, or a bare list of numbers. Bad lines are reported, good ones kept."""
    with contextlib.ExitStack() as stack:
        on_error = None
        if errors:  # every rejected line, as it is found (the summary keeps only the first ones)
            writer = csv_writer(stack.enter_context(errors.open("w", encoding="utf-8",
                                                                newline="")))
            writer.writerow(["line", "field", "reason"])
            on_error = lambda e: writer.writerow([e.line, e.field, e.reason])  # noqa: E731
        summary = dnc_import_service.import_numbers(ctx.engine(), ctx.business_unit(bu),
                                                    ctx.clock, file, group, on_error=on_error)
    ctx.console.print(
        f"{summary.added} number(s) added to list '{summary.list_name}', "
        f"{summary.already_listed} already on it, {summary.rejected} line(s) rejected "
        f"(of {summary.rows_read} read)")
    for error in summary.errors[:_SHOWN_ERRORS]:
        ctx.errors.print(f"[yellow]line {error.line}[/yellow] ({error.field}): {error.reason}",
                         highlight=False)
    if summary.rejected > _SHOWN_ERRORS:
        where = f"all of them are in {errors}" if errors else "--errors FILE writes them all"
        ctx.errors.print(f"... and {summary.rejected - _SHOWN_ERRORS} more ({where})",
                         highlight=False)


@app.command("export")
@ctx.handle_errors
def dnc_export(group: str = GroupOption,
               output: Path = typer.Option(None, "--output", "-o", help="File (default stdout)."),
               bu: str = ctx.BuOption):
    """Write the list as CSV: phone, source, note, added."""
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        writer = csv_writer(handle)
        writer.writerow(["phone", "source", "note", "added_at"])
        count = 0
        for entry in administration.dnc_export(ctx.engine(), ctx.business_unit(bu), group):
            writer.writerow([entry.phone, entry.source, entry.note, entry.created_at.isoformat()])
            count += 1
    finally:
        if output:
            handle.close()
    if output:
        ctx.console.print(f"{count} number(s) written to {output}")


