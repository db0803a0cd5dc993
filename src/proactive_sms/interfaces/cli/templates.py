"""`psms template …`: saved templates and previews."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows
from proactive_sms.interfaces.cli.refusals import show_removal

if TYPE_CHECKING:
    from proactive_sms.services import previews

app = typer.Typer(help="Message templates.", no_args_is_help=True)


MARKS_HELP = ("auto: in right-to-left text, Unicode isolates around merged values only where "
              "they would be shown out of order (each costs 2 units); off: none.")


@app.command("add")
@ctx.handle_errors
def template_add(
    name: str,
    text: str = typer.Option(None, help="The body, with {FieldName} variables."),
    file: Path = typer.Option(None, exists=True, dir_okay=False, help="Read the body from a file."),
    direction: str = typer.Option("auto", help="ltr | rtl | auto"),
    smart: bool = typer.Option(False, help="Replace curly quotes, dashes… with GSM look-alikes."),
    list_name: str = typer.Option(None, "--list", help="Check the fields against this list."),
    bidi_marks: str = typer.Option("auto", "--bidi-marks", help=MARKS_HELP),
    as_json: bool = JsonOption,
    bu: str = ctx.BuOption,
):
    """Save a template (replacing one of the same name)."""
    from proactive_sms.services import administration, previews

    if (text is None) == (file is None):
        raise administration.InvalidRequest("give the body with exactly one of --text or --file")
    body = text if text is not None else file.read_text(encoding="utf-8").rstrip("\n")
    saved = administration.save_template(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                                         body, direction, smart, list_name, bidi_marks)
    shown = previews.preview(None, None, saved.body, saved.direction, saved.smart_encoding,
                             bidi_marks=saved.bidi_marks)
    if as_json:
        emit_json({"name": saved.name, "saved": True, **_template_fields(saved),
                   "preview": shown.as_dict()})
        return
    ctx.console.print(f"template [bold]{saved.name}[/bold] saved")
    _show(shown)


@app.command("show")
@ctx.handle_errors
def template_show(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Show a saved template with its encoding and segments."""
    from proactive_sms.services import administration, previews

    saved = administration.find_template(ctx.engine(), ctx.business_unit(bu), name)
    shown = previews.preview(None, None, saved.body, saved.direction, saved.smart_encoding,
                             bidi_marks=saved.bidi_marks)
    if as_json:
        emit_json({"name": saved.name, **_template_fields(saved), "preview": shown.as_dict()})
        return
    ctx.console.print(f"[bold]{saved.name}[/bold] (direction {saved.direction}, "
                      f"smart encoding {'on' if saved.smart_encoding else 'off'}, "
                      f"bidi marks {saved.bidi_marks})")
    ctx.console.print(saved.body, markup=False, highlight=False)
    _show(shown)


def _template_fields(saved) -> dict:
    return {"body": saved.body, "direction": saved.direction,
            "smart_encoding": saved.smart_encoding, "bidi_marks": saved.bidi_marks}


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
    bidi_marks: str = typer.Option(None, "--bidi-marks", help=MARKS_HELP),
    as_json: bool = JsonOption,
    bu: str = ctx.BuOption,
):
    """The rendered text, encoding, segments and the characters that force UCS-2 (exit code 2
    when the --record named is not in the list, or the text cannot be rendered)."""
    from proactive_sms.services import previews

    if (name is None) == (text is None):
        raise ctx.BadInput("give a template NAME or --text, not both")
    if record and not list_name:
        raise ctx.BadInput("--record needs --list (the calling list that holds it)")
    bad_sets = [pair for pair in set_ if "=" not in pair]
    if bad_sets:
        raise ctx.BadInput(f"--set takes FIELD=VALUE, got '{bad_sets[0]}'")
    body, saved_direction, saved_smart, saved_marks = text, "auto", False, "auto"
    # A typed text without a list needs no database: none is opened (nor created).
    engine = unit = None
    if name is not None or list_name:
        from proactive_sms.services import administration

        engine, unit = ctx.engine(), ctx.business_unit(bu)
    if name is not None:
        saved = administration.find_template(engine, unit, name)
        body, saved_direction, saved_smart = saved.body, saved.direction, saved.smart_encoding
        saved_marks = saved.bidi_marks
    values = dict(pair.split("=", 1) for pair in set_ if "=" in pair)
    result = previews.preview(engine, unit, body, direction or saved_direction,
                              saved_smart if smart is None else smart, list_name, record, values,
                              bidi_marks=_checked_marks(bidi_marks or saved_marks))
    if as_json:
        emit_json({**result.as_dict(), "record": result.external_id})
    if list_name and result.external_id is None:  # no record to merge: say so, not exit 0
        what = f"no record '{record}' in calling list '{list_name}'" if record \
            else f"calling list '{list_name}' has no record"
        raise ctx.BadInput(what) if record else ctx.fail(what)
    if not as_json:
        if result.rendered is not None:
            ctx.console.print("[bold]rendered:[/bold]")
            ctx.console.print(result.rendered, markup=False, highlight=False)
        _show(result)
    if result.rendered is None:  # a field the list or the values lack: nothing to preview
        raise ctx.BadInput("the text cannot be rendered: " + "; ".join(result.problems))


def _show(result: previews.Preview) -> None:
    from rich.table import Table

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
    if result.mark_units:
        cost = (f", [yellow]+{result.mark_segments} segment(s)[/yellow]: --bidi-marks off "
                "saves it, at the risk of values shown out of order") if result.mark_segments \
            else ", no extra segment"
        table.add_row("bidi marks", f"{result.mark_units} units around merged values{cost}")
    ctx.console.print(table)


def _checked_marks(value: str) -> str:
    if value not in ("auto", "off"):
        raise ctx.BadInput(f"--bidi-marks takes auto or off, got '{value}'")
    return value


# --- list, change, remove (issue 17) -----------------------------------------------------------

def _template_dict(saved) -> dict:
    return {"name": saved.name, "body": saved.body, "direction": saved.direction,
            "smart_encoding": saved.smart_encoding, "bidi_marks": saved.bidi_marks,
            "version": saved.version}


@app.command("list")
@ctx.handle_errors
def template_list(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The unit's templates (archived ones are not listed)."""
    from proactive_sms.services import listing

    engine, unit = ctx.engine(), ctx.business_unit(bu)
    found, request = [], listing.PageRequest()
    while True:
        page = listing.templates_page(engine, unit, request)
        found += page.items
        if not page.more or page.last_id is None:
            break
        request = listing.PageRequest(page.last_id)
    if as_json:
        emit_json([_template_dict(t) for t in found])
        return
    print_rows(ctx.console, ["name", "direction", "smart", "marks", "body"],
               [(t.name, t.direction, "on" if t.smart_encoding else "off", t.bidi_marks,
                 t.body if len(t.body) <= 40 else t.body[:39] + "…") for t in found])


@app.command("change")
@ctx.handle_errors
def template_change(
    name: str,
    text: str = typer.Option(None, help="The new body, with {FieldName} variables."),
    file: Path = typer.Option(None, exists=True, dir_okay=False, help="Read the body from a file."),
    direction: str = typer.Option(None, help="ltr | rtl | auto"),
    smart: bool = typer.Option(None, help="Smart encoding on/off."),
    list_name: str = typer.Option(None, "--list", help="Check the fields against this list."),
    bidi_marks: str = typer.Option(None, "--bidi-marks", help=MARKS_HELP),
    as_json: bool = JsonOption, bu: str = ctx.BuOption,
):
    """Change what is given of a saved template (the body is checked as when saving)."""
    from proactive_sms.services import administration, setup_changes

    if text is not None and file is not None:
        raise administration.InvalidRequest("give the body with --text or --file, not both")
    body = text if file is None else file.read_text(encoding="utf-8").rstrip("\n")
    changes = {k: v for k, v in {"body": body, "direction": direction, "smart_encoding": smart,
                                 "bidi_marks": bidi_marks,
                                 "calling_list": list_name}.items() if v is not None}
    if not changes.keys() - {"calling_list"}:
        raise administration.InvalidRequest("nothing to change: give --text, --file, "
                                            "--direction, --smart/--no-smart or --bidi-marks")
    saved = setup_changes.change_template(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                                          changes)
    if as_json:
        emit_json(_template_dict(saved))
        return
    ctx.console.print(f"template [bold]{saved.name}[/bold] changed")


@app.command("remove")
@ctx.handle_errors
def template_remove(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Remove a template no skill still to send uses (archived if past skills name it)."""
    from proactive_sms.services import setup_changes

    removal = setup_changes.remove_template(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                            name)
    show_removal(removal, as_json)
