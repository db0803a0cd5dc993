"""`psms dnc …`: the tenant default DNC list and named DNC groups."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from proactive_sms.domain.spreadsheet_cells import csv_writer  # standard library only
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json

if TYPE_CHECKING:
    from proactive_sms.services import administration

app = typer.Typer(help="Do-not-contact lists.", no_args_is_help=True)
_SHOWN_ERRORS = 20  # on the terminal; --errors FILE has them all
ctx.register_user_error("proactive_sms.services.importing:ImportRefused")
GroupOption = typer.Option(None, "--group", help="A named DNC group (default: the tenant list).")


def _report(change: administration.DncChange, given: int, verb: str, as_json: bool) -> None:
    """What changed; exit code 2 when every number given was invalid (nothing could change)."""
    if as_json:
        emit_json({"list": change.list_name, "changed": change.changed,
                   "invalid": list(change.invalid)})
    else:
        ctx.console.print(f"{change.changed} number(s) {verb} list '{change.list_name}'")
    for raw in change.invalid:
        ctx.errors.print(f"[yellow]skipped:[/yellow] '{raw}' is not a valid phone number",
                         highlight=False)
    if change.invalid and len(change.invalid) == given:
        raise ctx.BadInput("none of the numbers given is a valid phone number")


@app.command("add")
@ctx.handle_errors
def dnc_add(numbers: list[str], group: str = GroupOption, note: str = typer.Option(""),
            as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Put numbers on a DNC list (exit code 2 when none of them is a valid number)."""
    from proactive_sms.services import administration

    change = administration.dnc_add(ctx.engine(), ctx.business_unit(bu), ctx.clock, numbers,
                                    group, "manual", note)
    _report(change, len(numbers), "added to", as_json)


@app.command("remove")
@ctx.handle_errors
def dnc_remove(numbers: list[str], group: str = GroupOption, as_json: bool = JsonOption,
               bu: str = ctx.BuOption):
    """Take numbers off a DNC list (exit code 2 when none of them is a valid number)."""
    from proactive_sms.services import administration

    change = administration.dnc_remove(ctx.engine(), ctx.business_unit(bu), numbers, group,
                                       clock=ctx.clock)
    _report(change, len(numbers), "removed from", as_json)


@app.command("check")
@ctx.handle_errors
def dnc_check(number: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Which DNC lists hold a number (exit code 1 when it is on one, as grep does)."""
    from proactive_sms.services import administration

    lists = administration.dnc_check(ctx.engine(), ctx.business_unit(bu), number)
    if as_json:
        emit_json({"on_dnc": bool(lists), "lists": list(lists)})
        if lists:
            raise typer.Exit(ctx.FAILED)
        return
    if lists:
        ctx.console.print(f"on DNC list(s): {', '.join(lists)}")
        raise typer.Exit(1)
    ctx.console.print("not on any DNC list")


@app.command("import")
@ctx.handle_errors
def dnc_import(file: Path = typer.Argument(..., exists=True, dir_okay=False),
               group: str = GroupOption, bu: str = ctx.BuOption,
               errors: Path = typer.Option(None, "--errors",
                                           help="Write every rejected line here (CSV)."),
               as_json: bool = JsonOption):
    """Add the numbers of a CSV file: a number column (number, phone, mobile, ...) and an
    optional note column, or a bare list of numbers. Bad lines are reported, good ones kept
    (exit code 2 when no line was good)."""
    from proactive_sms.services import dnc_import as dnc_import_service

    with contextlib.ExitStack() as stack:
        on_error = None
        if errors:  # every rejected line, as it is found (the summary keeps only the first ones)
            writer = csv_writer(stack.enter_context(errors.open("w", encoding="utf-8",
                                                                newline="")))
            writer.writerow(["line", "field", "reason"])
            on_error = lambda e: writer.writerow([e.line, e.field, e.reason])  # noqa: E731
        summary = dnc_import_service.import_numbers(ctx.engine(), ctx.business_unit(bu),
                                                    ctx.clock, file, group, on_error=on_error)
    if as_json:
        emit_json({"list": summary.list_name, "rows_read": summary.rows_read,
                   "added": summary.added, "already_listed": summary.already_listed,
                   "rejected": summary.rejected,
                   "errors": [{"line": e.line, "field": e.field, "reason": e.reason}
                              for e in summary.errors]})
    else:
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
    if summary.rejected and summary.rejected == summary.rows_read:
        raise ctx.BadInput(f"no line of {file.name} holds a valid number")


@app.command("export")
@ctx.handle_errors
def dnc_export(group: str = GroupOption,
               output: Path = typer.Option(None, "--output", "-o", help="File (default stdout)."),
               bu: str = ctx.BuOption):
    """Write the list as CSV: phone, source, note, added."""
    from proactive_sms.services import administration

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


