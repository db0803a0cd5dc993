"""What every CLI command shares: the database, the clock, the business unit, error display."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy import Engine

from proactive_sms.domain.clock import SystemClock
from proactive_sms.domain.template import TemplateError
from proactive_sms.services import administration
from proactive_sms.store.engine import open_engine
from proactive_sms.store.errors import AlreadyExists, InUse, NotFound, StaleVersion
from proactive_sms.store.tenancy import BusinessUnit

console = Console()
errors = Console(stderr=True)
clock = SystemClock()

F = TypeVar("F", bound=Callable)

# Errors that are the user's to fix: shown as one clear line, exit code 2, no traceback.
USER_ERRORS: tuple[type[Exception], ...] = (NotFound, AlreadyExists, TemplateError,
                                            administration.InvalidRequest)


def register_user_error(kind: type[Exception]) -> None:
    global USER_ERRORS
    USER_ERRORS = (*USER_ERRORS, kind)


# Requests that were right but could not be done (the thing is still in use, someone else
# changed it): one red line and exit code 1, "failed", not 2, "bad input".
FAILURES: tuple[type[Exception], ...] = (InUse, StaleVersion)


def engine() -> Engine:
    return _engine(os.environ.get("PSMS_DATABASE_URL"))


@functools.lru_cache(maxsize=4)
def _engine(url: str | None) -> Engine:
    return open_engine(url)


def business_unit(name: str | None = None) -> BusinessUnit:
    return administration.business_unit(engine(), name or os.environ.get("PSMS_BU"))


def handle_errors(func: F) -> F:
    """Turn a user's mistake into one red line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            errors.print(f"[red]error:[/red] {exc}", highlight=False)
            sys.exit(2)
        except FAILURES as exc:
            errors.print(f"[red]failed:[/red] {exc}", highlight=False)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


BuOption = typer.Option(None, "--bu",
                        help="Business unit name (default: $PSMS_BU or the only one).")
