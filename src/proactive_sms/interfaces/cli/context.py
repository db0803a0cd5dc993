"""What every CLI command shares: the database, the clock, the business unit, errors and exit codes.

Light on purpose (typer, rich and the standard library only): `psms --help` and the commands that
need no database must not pay for SQLAlchemy, Alembic or FastAPI. The store and the services are
imported inside the functions that need them; errors are registered by dotted name and looked up
only among modules already imported (see `register_user_error`).

Exit codes (the same list is in `psms --help` and README):
- 0: done.
- 1: understood, but it failed: nothing could be done (a bind refused, a port in use, a skill
  that is stopped, a number on a DNC list for `dnc check`).
- 2: usage or bad input: an unknown option, a name that does not exist, a bad file or value.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

from proactive_sms.domain.clock import SystemClock  # standard library only

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from proactive_sms.store.tenancy import BusinessUnit

OK, FAILED, BAD_INPUT = 0, 1, 2

console = Console()
errors = Console(stderr=True)

F = TypeVar("F", bound=Callable)

# Errors that are the user's to fix: shown as one clear line, exit code 2, no traceback. Named
# "module:Class" so that naming one imports nothing; a class whose module was never imported
# cannot have been raised, so it is never imported just to be checked.
_USER_ERRORS: list[tuple[type[Exception] | str, int]] = [
    ("proactive_sms.store.errors:NotFound", BAD_INPUT),
    ("proactive_sms.store.errors:AlreadyExists", BAD_INPUT),
    ("proactive_sms.domain.template:TemplateError", BAD_INPUT),
    ("proactive_sms.services.administration:InvalidRequest", BAD_INPUT),
    # Requests that were right but could not be done (the thing is still in use, someone else
    # changed it): exit code 1, "failed", not 2, "bad input".
    ("proactive_sms.store.errors:InUse", FAILED),
    ("proactive_sms.store.errors:StaleVersion", FAILED),
]


class Failed(Exception):
    """The command was understood but could not do what it was asked: one red line, exit 1."""


class BadInput(Exception):
    """The user's request is wrong (a value, a combination of options): one red line, exit 2."""


def register_user_error(kind: type[Exception] | str, exit_code: int = BAD_INPUT) -> None:
    """Show errors of this kind as one line with this exit code (2: bad input; 1: refused, as a
    change a skill's state does not allow). Give a "module:Class" string to keep the command
    module light (the class is looked up only once its module is loaded)."""
    _USER_ERRORS.append((kind, exit_code))


def _exit_code_of(exc: Exception) -> int | None:
    """The exit code of a registered error, or None for an error nobody expected."""
    for kind, exit_code in _USER_ERRORS:
        if isinstance(kind, str):
            module_name, _, class_name = kind.partition(":")
            module = sys.modules.get(module_name)
            if module is None:  # never imported: cannot have been raised
                continue
            kind = getattr(module, class_name)
        if isinstance(exc, kind):
            return exit_code
    return None


clock = SystemClock()


def engine() -> Engine:
    """The database of $PSMS_DATABASE_URL (else psms.db here), migrated on first use."""
    return _engine(os.environ.get("PSMS_DATABASE_URL"))


@functools.lru_cache(maxsize=4)
def _engine(url: str | None) -> Engine:
    from proactive_sms.store.engine import open_engine

    return open_engine(url)


def business_unit(name: str | None = None) -> BusinessUnit:
    """The BU named by --bu, else $PSMS_BU, else the only one there is."""
    from proactive_sms.services import administration
    from proactive_sms.store.errors import Ambiguous, NotFound

    name = name or os.environ.get("PSMS_BU")
    try:
        return administration.business_unit(engine(), name)
    except Ambiguous as exc:
        raise BadInput(f"several business units: name one with --bu "
                       f"({', '.join(exc.names)})") from None
    except NotFound:
        if name is not None:
            raise
        raise BadInput("no business unit yet: run `psms init` first") from None


def fail(message: str) -> typer.Exit:
    """Print why the command failed (exit code 1); `raise ctx.fail(...)`."""
    errors.print(f"[red]failed:[/red] {message}", highlight=False)
    return typer.Exit(FAILED)


def handle_errors(func: F) -> F:
    """Turn a user's mistake into one red line "error: ..." and exit code 2, a failure into
    "failed: ..." and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Failed as exc:
            errors.print(f"[red]failed:[/red] {exc}", highlight=False)
            sys.exit(FAILED)
        except BadInput as exc:
            errors.print(f"[red]error:[/red] {exc}", highlight=False)
            sys.exit(BAD_INPUT)
        except Exception as exc:
            exit_code = _exit_code_of(exc)
            if exit_code is None:
                raise
            said = "failed" if exit_code == FAILED else "error"
            errors.print(f"[red]{said}:[/red] {exc}", highlight=False)
            sys.exit(exit_code)

    return wrapper  # type: ignore[return-value]


BuOption = typer.Option(None, "--bu",
                        help="Business unit name (default: $PSMS_BU or the only one).")
