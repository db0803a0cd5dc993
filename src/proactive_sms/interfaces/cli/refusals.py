"""How a removal's outcome reads in the CLI (refusals themselves, InUse and StaleVersion, exit
with code 1 through context's one registry of errors)."""

from __future__ import annotations


def removal_line(removal) -> str:
    """What a removal did, in words: deleted, or archived and why."""
    if removal.archived:
        return (f"{removal.kind} {removal.key} archived: {', '.join(removal.kept_for)} refer "
                f"to it, so it is kept for them but no longer listed")
    return f"{removal.kind} {removal.key} removed"
