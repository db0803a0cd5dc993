"""The names people give to what they create: calling lists, templates, skills, campaigns,
carrier connections, DNC groups, agents. One rule for all of them, applied when one is created.

A name is how a resource is found again: in a URL path (`/v1/templates/{name}`), a command line
(`psms skill start NAME`), a console link. So a name must survive all three: a '/' or '\\' splits
a path (the resource becomes unreachable over the API), control and invisible format characters
(a tab, a newline, a zero-width space, a bidi override) make two names look alike or a
terminal line lie, and '.' or '..' are rewritten by clients as path segments. Spaces inside a
name, letters of any script and punctuation otherwise are fine (lists are named by people,
in their language); spaces around a name are refused rather than trimmed, so the name saved is
the name typed.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 100


class InvalidName(ValueError):
    """A name that cannot be used, with what kind of resource it names and why."""


def check_name(kind: str, name: str) -> str:
    """`name` itself when a `kind` ("template", "calling list", ...) may be called so; else
    InvalidName saying why, quoting the name with its invisible characters made visible."""
    shown = repr(name)[1:-1][:120]
    if not name or not name.strip():
        raise InvalidName(f"{kind} name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidName(f"{kind} name is longer than {MAX_NAME_CHARS} characters")
    if name != name.strip():
        raise InvalidName(f"{kind} name '{shown}' starts or ends with a space")
    if name in (".", ".."):
        raise InvalidName(f"{kind} name cannot be '{name}'")
    for position, ch in enumerate(name):
        if ch in "/\\":
            raise InvalidName(f"{kind} name '{shown}' contains '{ch}' (position {position}): "
                              "names are parts of URLs and paths")
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") or (
                ch.isspace() and ch != " "):
            label = unicodedata.name(ch, "a control character")
            raise InvalidName(f"{kind} name '{shown}' contains U+{ord(ch):04X} ({label}) at "
                              f"position {position}: use visible characters and plain spaces")
    return name
