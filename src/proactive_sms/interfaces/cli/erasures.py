"""`psms erase`: erase a person from the business unit on their request (services.erasure):
their records and texts anonymised, their DNC entries kept."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json


@ctx.handle_errors
def erase_command(
    number: str = typer.Option(None, "--number", help="Their number, in any spelling."),
    external_id: str = typer.Option(None, "--external-id",
                                    help="Their ExternalId in the unit's calling lists."),
    as_json: bool = JsonOption,
    bu: str = ctx.BuOption,
):
    """Erase a person (their records, texts, replies, conversations); their DNC entry stays.
    Exit code 1 while a text to them is being submitted or their opt-out awaits review."""
    from proactive_sms.services import erasure

    result = erasure.erase_person(ctx.engine(), ctx.business_unit(bu), ctx.clock, number=number,
                                  external_id=external_id)
    if as_json:
        emit_json(result.as_dict())
        return
    ctx.console.print(f"erased {result.who}: {result.records} record(s), {result.messages} "
                      f"text(s) ({result.cancelled} not yet sent, cancelled), {result.inbound} "
                      f"repl(ies), {result.conversations} conversation(s); DNC entries kept")
