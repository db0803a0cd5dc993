"""Errors the store raises with enough said for the caller to tell the user what and where."""

from __future__ import annotations

from collections.abc import Callable


class NotFound(LookupError):
    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} '{key}'")
        self.kind = kind
        self.key = key


class Ambiguous(LookupError):
    """A name was left out where more than one thing could be meant: `names` lists them."""

    def __init__(self, kind: str, names: list[str]) -> None:
        super().__init__(f"several {kind}s ({', '.join(names)}): name one")
        self.kind = kind
        self.names = names


class AlreadyExists(ValueError):
    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} '{key}' already exists")
        self.kind = kind
        self.key = key


class StaleVersion(RuntimeError):
    """A change made against a version of a row that another change has replaced since.

    Editable rows carry an integer `version`, raised by one on every change with a conditional
    UPDATE (`... WHERE id = :id AND version = :expected`); when no row matches, someone else's
    change won and this one must be retried from a fresh read.
    """

    def __init__(self, kind: str, key: object, expected: int, current: int | None) -> None:
        super().__init__(f"{kind} '{key}' was changed by someone else (version {current}, "
                         f"not {expected}): read it again and retry")
        self.kind = kind
        self.key = key
        self.expected = expected
        self.current = current


class InUse(RuntimeError):
    """A removal (or erasure) refused because something still depends on the thing: a skill
    that is not finished uses the list, a campaign still holds skills, a text to the number is
    being submitted. The message says what holds it; the API answers 409."""

    def __init__(self, kind: str, key: object, reason: str) -> None:
        super().__init__(f"{kind} '{key}' {reason}")
        self.kind = kind
        self.key = key
        self.reason = reason


def refuse_taken(kind: str, name: str, find: Callable[[str], object]) -> None:
    """AlreadyExists when `find(name)` finds a row (it raises NotFound when the name is free)."""
    try:
        find(name)
    except NotFound:
        return
    raise AlreadyExists(kind, name)
