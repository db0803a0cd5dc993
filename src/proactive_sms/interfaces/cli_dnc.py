"""`psms dnc …`: the tenant default DNC list and named DNC groups."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import typer

from proactive_sms.interfaces import cli_context as ctx
from proactive_sms.services import administration

app = typer.Typer(help="Do-not-contact lists.", no_args_is_help=True)
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
    change = administration.dnc_remove(ctx.engine(), ctx.business_unit(bu), numbers, group)
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
               group: str = GroupOption, bu: str = ctx.BuOption):
    """Add every number of a file (one per line, or the first column of a CSV)."""
    with file.open(encoding="utf-8-sig", newline="") as handle:
        numbers = [row[0] for row in csv.reader(handle) if row and row[0].strip()]
    if numbers and not any(ch.isdigit() for ch in numbers[0]):
        numbers = numbers[1:]  # a header line
    change = administration.dnc_add(ctx.engine(), ctx.business_unit(bu), ctx.clock, numbers,
                                    group, "import", f"imported from {file.name}")
    _report(change, "added to")


@app.command("export")
@ctx.handle_errors
def dnc_export(group: str = GroupOption,
               output: Path = typer.Option(None, "--output", "-o", help="File (default stdout)."),
               bu: str = ctx.BuOption):
    """Write the list as CSV: phone, source, note, added."""
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        writer = csv.writer(handle)
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


