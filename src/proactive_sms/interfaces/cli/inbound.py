"""`psms inbound …`: how inbound texts are classified (opt-out, opt-in, help, review, reply).

Thin over `domain.keywords`; no database here. `classify` shows how a text would be handled and
why, so an administrator can check a wording or a keyword set before it goes live.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from proactive_sms.domain.keywords import KeywordSet

app = typer.Typer(help="Inbound texts: opt-out, opt-in and help keywords, replies.",
                  no_args_is_help=True)


@app.callback()
def inbound() -> None:
    """Inbound texts: opt-out, opt-in and help keywords, replies."""
    # A callback keeps `classify` a sub-command even while it is the only one.


def describe(text: str, extra_keywords: KeywordSet | None = None, as_json: bool = False) -> str:
    """The printed answer of `psms inbound classify` for `text`.

    `extra_keywords` is the hook for `--registration CODE`: the command will load that
    registration's words (through a service, never SQL here) and pass them in."""
    from proactive_sms.domain.keywords import classify

    verdict = classify(text, extra_keywords)
    fields = {"kind": str(verdict.kind), "reason": verdict.reason, "matched": verdict.matched,
              "language": verdict.language}
    if as_json:
        return json.dumps(fields, ensure_ascii=False)
    return "\n".join(f"{name + ':':<9} {'-' if value is None else value}"
                     for name, value in fields.items())


@app.command("classify")
def classify_command(
    text: str = typer.Argument(..., help="The inbound text, quoted."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    registration: str = typer.Option(None, help="Include this code's extra keywords."),
    bu: str = typer.Option(None, "--bu", help="Business unit (with --registration)."),
) -> None:
    """Show how an inbound text would be classified, and why."""
    extra = None
    if registration:
        from proactive_sms.interfaces.cli import context as ctx
        from proactive_sms.services import administration

        @ctx.handle_errors
        def load() -> KeywordSet:
            return administration.keyword_set(ctx.engine(), ctx.business_unit(bu), registration)

        extra = load()
    typer.echo(describe(text, extra, as_json))
