"""`psms user …`: the web console's users, one business unit each.

A password is never typed on the command line (it would stay in the shell's history and show in
`ps`): it is generated and printed once, alone on stdout, or read from stdin with
--password-stdin."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.services import console_users

app = typer.Typer(help="Web console users: admin, supervisor or agent of one business unit.",
                  no_args_is_help=True)

PasswordStdin = typer.Option(False, "--password-stdin",
                             help="Read the password from stdin (else one is generated and "
                                  "printed once).")


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it was generated (and must be shown)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        console_users.check_password_policy(password)
        return password, False
    return console_users.generate_password(), True


def _show_once(password: str) -> None:
    ctx.errors.print("the password is shown once; keep it now, it is not stored:",
                     highlight=False)
    print(password)  # alone on stdout, so that scripts can capture it


@app.command("create")
@ctx.handle_errors
def user_create(username: str,
                role: str = typer.Option(..., help="admin | supervisor | agent"),
                agent: str = typer.Option(None, help="An agent user's agent (same unit)."),
                password_stdin: bool = PasswordStdin,
                bu: str = ctx.BuOption):
    """Create a console user of the business unit."""
    password, generated = _password(password_stdin)
    user = console_users.create(ctx.engine(), ctx.business_unit(bu), ctx.clock, username, role,
                                password, agent)
    ctx.errors.print(f"console user [bold]{user.username}[/bold] ({user.role}) created",
                     highlight=False)
    if generated:
        _show_once(password)


@app.command("list")
@ctx.handle_errors
def user_list(bu: str = ctx.BuOption):
    """The unit's console users (never their passwords)."""
    table = Table(title="Console users")
    for column in ("username", "role", "agent", "created", "status"):
        table.add_column(column)
    for user in console_users.list_users(ctx.engine(), ctx.business_unit(bu)):
        status = f"disabled {user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "active"
        table.add_row(user.username, user.role, user.agent_name or "-",
                      f"{user.created_at:%Y-%m-%d %H:%M}", status)
    ctx.console.print(table)


@app.command("disable")
@ctx.handle_errors
def user_disable(username: str, bu: str = ctx.BuOption):
    """Disable a user: they cannot sign in and their open sessions end at once."""
    console_users.set_disabled(ctx.engine(), ctx.business_unit(bu), ctx.clock, username, True)
    ctx.console.print(f"console user {username} disabled; their sessions ended")


@app.command("enable")
@ctx.handle_errors
def user_enable(username: str, bu: str = ctx.BuOption):
    """Let a disabled user sign in again."""
    console_users.set_disabled(ctx.engine(), ctx.business_unit(bu), ctx.clock, username, False)
    ctx.console.print(f"console user {username} enabled")


@app.command("reset-password")
@ctx.handle_errors
def user_reset_password(username: str, password_stdin: bool = PasswordStdin,
                        bu: str = ctx.BuOption):
    """Set a new password (generated unless --password-stdin); the user's sessions end."""
    password, generated = _password(password_stdin)
    console_users.reset_password(ctx.engine(), ctx.business_unit(bu), ctx.clock, username,
                                 password)
    ctx.errors.print(f"password of {username} reset; their sessions ended", highlight=False)
    if generated:
        _show_once(password)


def create_first_admin(username: str, bu_name: str) -> None:
    """For `psms init --admin`: the unit's first admin, with PSMS_ADMIN_PASSWORD or a generated
    password printed once. An existing user is left as it is."""
    import os

    engine = ctx.engine()
    unit = ctx.business_unit(bu_name)
    try:
        console_users.get_user(engine, unit, username)
    except LookupError:
        pass
    else:
        ctx.errors.print(f"console user {username} already exists; left unchanged",
                         highlight=False)
        return
    given = os.environ.get("PSMS_ADMIN_PASSWORD")
    password = given or console_users.generate_password()
    user = console_users.create(engine, unit, ctx.clock, username, "admin", password)
    ctx.errors.print(f"console admin [bold]{user.username}[/bold] created", highlight=False)
    if not given:
        _show_once(password)
