"""`psms why NUMBER`: every decision taken about a number, in order (issue 19).

Numbers are masked unless `--show-numbers` (domain/number_visibility says who sees what)."""

from __future__ import annotations

import typer

from proactive_sms.domain.number_visibility import Reader
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json


@ctx.handle_errors
def why_command(
    number: str = typer.Argument(None, help="The number, in any spelling (local numbers in "
                                            "the unit's region); or --list and --record."),
    list_name: str = typer.Option(None, "--list", help="With --record: a calling list."),
    record: str = typer.Option(None, "--record", help="A record's ExternalId: the history of "
                                                      "its number."),
    skill: str = typer.Option(None, "--skill", help="Only what this skill decided (and the "
                                                    "DNC lists of its code)."),
    show_numbers: bool = typer.Option(False, "--show-numbers",
                                      help="Show full numbers (masked by default)."),
    as_json: bool = JsonOption,
    bu: str = ctx.BuOption,
):
    """Why was this number (not) texted: imports, launch decisions, waits and holds, submits,
    the carrier's answers and receipts, replies and keywords, DNC changes, in order."""
    # Here, not at the top: `psms --help` starts without the store (issue 17, root.py).
    from proactive_sms.services import number_history

    reader = Reader.COMMAND_LINE_REVEALED if show_numbers else Reader.COMMAND_LINE
    if (number is None) == (record is None) or (record is not None) != (list_name is not None):
        raise ctx.BadInput("give a NUMBER, or --list and --record (not both)")
    if record is not None:
        history = number_history.record_history(ctx.engine(), ctx.business_unit(bu), list_name,
                                                record, reader, skill=skill)
    else:
        history = number_history.number_history(ctx.engine(), ctx.business_unit(bu), number,
                                                reader, skill=skill)
    if as_json:
        emit_json({"number": history.number, "masked": history.masked,
                   "skill": history.skill,
                   "events": [number_history.event_as_dict(e) for e in history.events]})
        return
    scope = f" (skill '{history.skill}')" if history.skill else ""
    if not history.events:
        ctx.console.print(f"nothing is known of {history.number}{scope} in this business unit",
                          highlight=False)
        return
    ctx.console.print(f"history of {history.number}{scope}:", highlight=False)
    width = max(len(e.kind.value) for e in history.events)
    for event in history.events:
        ctx.console.print(f"{event.at:%Y-%m-%d %H:%M:%S} UTC  {event.kind.value:<{width}}  "
                          f"{event.summary}", highlight=False, soft_wrap=True, markup=False)
