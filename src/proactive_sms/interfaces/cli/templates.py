"""`psms template …`: saved templates and previews."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.services import administration, previews

app = typer.Typer(help="Message templates.", no_args_is_help=True)


@app.command("add")
@ctx.handle_errors
def template_add(
    name: str,
    text: str = typer.Option(None, help="The body, with {FieldName} variables."),
    file: Path = typer.Option(None, exists=True, dir_okay=False, help="Read the body from a file."),
    direction: str = typer.Option("auto", help="ltr | rtl | auto"),
    smart: bool = typer.Option(False, help="Replace curly quotes, dashes… with GSM look-alikes."),
    list_name: str = typer.Option(None, "--list", help="Check the fields against this list."),
    bu: str = ctx.BuOption,
):
    """Save a template (replacing one of the same name)."""
    if (text is None) == (file is None):
        raise administration.InvalidRequest("give the body with exactly one of --text or --file")
    body = text if text is not None else file.read_text(encoding="utf-8").rstrip("\n")
    saved = administration.save_template(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                                         body, direction, smart, list_name)
    ctx.console.print(f"template [bold]{saved.name}[/bold] saved")
    _show(previews.preview(None, None, saved.body, saved.direction, saved.smart_encoding))


@app.command("show")
@ctx.handle_errors
def template_show(name: str, bu: str = ctx.BuOption):
    """Show a saved template with its encoding and segments."""
    saved = administration.find_template(ctx.engine(), ctx.business_unit(bu), name)
    ctx.console.print(f"[bold]{saved.name}[/bold] (direction {saved.direction}, "
                      f"smart encoding {'on' if saved.smart_encoding else 'off'})")
    ctx.console.print(saved.body, markup=False, highlight=False)
    _show(previews.preview(None, None, saved.body, saved.direction, saved.smart_encoding))


@app.command("preview")
@ctx.handle_errors
def template_preview(
    name: str = typer.Argument(None, help="A saved template (or use --text)."),
    text: str = typer.Option(None, help="Preview an unsaved body."),
    list_name: str = typer.Option(None, "--list", help="Render with a record of this list."),
    record: str = typer.Option(None, help="ExternalId of the record (default: the first)."),
    set_: list[str] = typer.Option([], "--set", help="FIELD=VALUE for the sample."),
    direction: str = typer.Option(None, help="ltr | rtl | auto"),
    smart: bool = typer.Option(None, help="Smart encoding on/off."),
    as_json: bool = typer.Option(False, "--json"),
    bu: str = ctx.BuOption,
):
    """The rendered text, encoding, segments and the characters that force UCS-2."""
    engine, unit = ctx.engine(), None
    if (name is None) == (text is None):
        raise administration.InvalidRequest("give a template NAME or --text, not both")
    body, saved_direction, saved_smart = text, "auto", False
    if name is not None or list_name:
        unit = ctx.business_unit(bu)
    if name is not None:
        saved = administration.find_template(engine, unit, name)
        body, saved_direction, saved_smart = saved.body, saved.direction, saved.smart_encoding
    values = dict(pair.split("=", 1) for pair in set_ if "=" in pair)
    result = previews.preview(engine, unit, body, direction or saved_direction,
                              saved_smart if smart is None else smart, list_name, record, values)
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    if result.rendered is not None:
        ctx.console.print("[bold]rendered:[/bold]")
        ctx.console.print(result.rendered, markup=False, highlight=False)
    _show(result)


def _show(result: previews.Preview) -> None:
    data = result.as_dict()
    table = Table(show_header=False, box=None)
    table.add_row("direction", data["direction"])
    table.add_row("encoding", str(data["encoding"]))
    table.add_row("segments", str(data["segments"]))
    table.add_row("units", f"{data['units']} ({data['remaining_in_segment']} left in segment)")
    if data["unicode_chars"]:
        table.add_row("forces UCS-2", ", ".join(data["unicode_chars"]))
    for problem in data["problems"]:
        table.add_row("[red]problem[/red]", problem)
    for warning in data["warnings"]:
        table.add_row("[yellow]warning[/yellow]", warning)
    ctx.console.print(table)
