"""How a removal's outcome reads in the CLI (refusals themselves, InUse and StaleVersion, exit
with code 1 through context's one registry of errors)."""

from __future__ import annotations

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import emit_json


def removal_line(removal) -> str:
    """What a removal did, in words: deleted, or archived and why."""
    if removal.archived:
        return (f"{removal.kind} {removal.key} archived: {', '.join(removal.kept_for)} refer "
                f"to it, so it is kept for them but no longer listed")
    return f"{removal.kind} {removal.key} removed"


def show_removal(removal, as_json: bool) -> None:
    """Print a removal's outcome: its JSON, or its line in words."""
    if as_json:
        emit_json(removal.as_dict())
    else:
        ctx.console.print(removal_line(removal))
