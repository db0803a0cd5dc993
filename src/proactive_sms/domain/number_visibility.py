"""Who may see a full phone number in a number's history, and who sees it masked.

The history of a number gathers what every part of the unit did about it; it is read by people
(console, command line) more than by programs, so it shows numbers masked (`phone.mask`) unless
the reader's role needs them:

- console `supervisor`: works the lists, DNC lists, reviews and all conversations, and asks
  "why was this customer (not) texted?": full numbers.
- console `admin`: roles nest (an admin opens every supervisor page, interfaces.web.auth), so
  an admin sees what a supervisor sees: full numbers.
- console `agent`: sees the numbers of their own conversations only, never a number's whole
  history: masked (and the console does not open the history page to them).
- API key: the unit's own systems, which read full numbers in the message records, inbound
  texts and DNC entries of the same API (keys have no scopes): full numbers.
- command line: masked unless `--show-numbers` (whoever runs it holds the database anyway; the
  default keeps numbers off screens and terminal logs).
"""

from __future__ import annotations

import enum


class Reader(enum.StrEnum):
    SUPERVISOR = "supervisor"  # console role
    ADMIN = "admin"  # console role
    AGENT = "agent"  # console role
    API_KEY = "api_key"  # a unit's key of the HTTP API
    COMMAND_LINE = "command_line"  # `psms why` without --show-numbers
    COMMAND_LINE_REVEALED = "command_line_revealed"  # `psms why --show-numbers`


_FULL = frozenset({Reader.SUPERVISOR, Reader.ADMIN, Reader.API_KEY,
                   Reader.COMMAND_LINE_REVEALED})


def sees_full_numbers(reader: Reader) -> bool:
    """Whether this reader is shown full numbers (else the last four digits only)."""
    return reader in _FULL
