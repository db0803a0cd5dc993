"""`psms list …`: calling lists."""

from __future__ import annotations

from pathlib import Path

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows

app = typer.Typer(help="Calling lists.", no_args_is_help=True)
ctx.register_user_error("proactive_sms.services.importing:ImportRefused")


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
    delimiter: str = typer.Option(
        None, help="The column delimiter: , ; | or tab (default: detected from the header "
                   "and the first rows)."),
    encoding: str = typer.Option(
        None, help="The file's encoding: UTF-8, UTF-16, Windows-1252, ... (default: "
                   "detected over the whole file)."),
    as_json: bool = JsonOption,
    bu: str = ctx.BuOption,
):
    """Import a calling list (CSV separated by commas, semicolons, tabs or pipes; UTF-8,
    UTF-16 or Windows-1252); bad rows are reported, good ones kept (exit code 2 when no row
    was good)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from proactive_sms.services import importing, list_files

    chosen_delimiter = _format_option(list_files.parse_delimiter, "--delimiter", delimiter)
    chosen_encoding = _format_option(list_files.parse_encoding, "--encoding", encoding)
    unit = ctx.business_unit(bu)
    list_name = name or file.stem
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=ctx.console, transient=True,
                  disable=as_json) as progress:
        task = progress.add_task(f"importing {file.name}", total=file.stat().st_size)
        summary = importing.import_calling_list(
            ctx.engine(), unit, list_name, file, ctx.clock, overrides=_parse_maps(map_),
            errors_path=errors_file, encoding=chosen_encoding, delimiter=chosen_delimiter,
            progress=lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        emit_json({"list": list_name, "rows_read": summary.rows_read,
                   "accepted": summary.accepted, "rejected": summary.rejected,
                   "records_in_list": summary.records_in_list, "columns": summary.columns,
                   "rejected_by_problem": dict(summary.rejected_by_problem),
                   "errors": [{"line": e.line, "problem": e.problem.value, "reason": e.message}
                              for e in summary.errors],
                   "joined_cadences": summary.joined_cadences,
                   "file_format": summary.file_format.describe() if summary.file_format
                   else None})
        _refuse_when_nothing_kept(summary)
        return
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


# ---- list, show, rename, remove; a person's records (issue 17) --------------------------------
# Services are imported inside the commands: `psms --help` need not load them.

@app.command("list")
@ctx.handle_errors
def list_lists(archived: bool = typer.Option(False, "--archived",
                                             help="Also removed lists finished skills report "
                                                  "on."),
               as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The business unit's calling lists, with their record counts."""
    from proactive_sms.services import calling_list_admin

    unit, rows, after = ctx.business_unit(bu), [], 0
    while True:
        page = calling_list_admin.lists_page(ctx.engine(), unit, after, 500, archived)
        rows += [view.as_dict() for view in page.items]
        if not page.more:
            break
        after = page.last_id
    if as_json:
        emit_json(rows)
        return
    print_rows(ctx.console, ["name", "records", "skills", "archived"],
               [[r["name"], r["records"], ", ".join(r["skills"]) or "-",
                 "yes" if r["archived"] else ""] for r in rows],
               title="Calling lists", right_aligned=["records"])


@app.command("show")
@ctx.handle_errors
def show_list(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One calling list: its fields, records and the skills that use it."""
    from proactive_sms.services import calling_list_admin

    view = calling_list_admin.show_list(ctx.engine(), ctx.business_unit(bu), name).as_dict()
    if as_json:
        emit_json(view)
        return
    print_rows(ctx.console, ["name", "records", "fields", "skills", "version", "archived"],
               [[view["name"], view["records"], ", ".join(view["fields"]),
                 ", ".join(view["skills"]) or "-", view["version"],
                 "yes" if view["archived"] else "no"]])


@app.command("rename")
@ctx.handle_errors
def rename_list(name: str, new_name: str, as_json: bool = JsonOption,
                bu: str = ctx.BuOption):
    """Give a calling list a new name."""
    from proactive_sms.services import calling_list_admin

    view = calling_list_admin.rename_list(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                                          new_name)
    if as_json:
        emit_json(view.as_dict())
        return
    ctx.console.print(f"calling list {name} is now [bold]{new_name}[/bold]")


@app.command("remove")
@ctx.handle_errors
def remove_list(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Remove a calling list: refused while a skill that is not finished uses it; archived
    (hidden, kept) while finished skills report on it; else deleted with its records."""
    from proactive_sms.services import calling_list_admin

    outcome = calling_list_admin.remove_list(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                             name)
    if as_json:
        emit_json({"name": name, "outcome": outcome})
        return
    ctx.console.print(f"calling list {name} {outcome}")


def _record_dict(record) -> dict:
    return {"external_id": record.external_id, "phone": record.phone,
            "sms_destination": record.sms_destination, "sms_problem": record.sms_problem,
            "time_zone": record.time_zone, "postal_code": record.postal_code,
            "expiration_date": record.expiration_date, "fields": record.fields}


@app.command("find")
@ctx.handle_errors
def find_records(name: str,
                 external_id: str = typer.Option(None, "--external-id",
                                                 help="The record's ExternalId."),
                 number: str = typer.Option(None, "--number",
                                            help="A number in any spelling."),
                 as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """A person's records in a list, by ExternalId or number. Exit code 1 when none."""
    from proactive_sms.services import calling_list_admin

    page = calling_list_admin.find_records(ctx.engine(), ctx.business_unit(bu), name,
                                           external_id=external_id, number=number)
    found = [_record_dict(r) for r in page.items]
    if as_json:
        emit_json(found)
    else:
        print_rows(ctx.console, ["external_id", "phone", "sms_destination", "fields"],
                   [[r["external_id"], r["phone"], r["sms_destination"],
                     ", ".join(f"{k}={v}" for k, v in r["fields"].items())] for r in found])
    if not found:
        ctx.errors.print("no record found")
        raise typer.Exit(1)


@app.command("record")
@ctx.handle_errors
def show_record(name: str, external_id: str, as_json: bool = JsonOption,
                bu: str = ctx.BuOption):
    """One record of a list, by its ExternalId."""
    from proactive_sms.services import calling_list_admin

    record = _record_dict(calling_list_admin.record(ctx.engine(), ctx.business_unit(bu), name,
                                                    external_id))
    if as_json:
        emit_json(record)
        return
    fields = record.pop("fields")
    print_rows(ctx.console, [*record, *fields], [[*record.values(), *fields.values()]])
