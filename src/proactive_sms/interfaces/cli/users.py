"""`psms user …`: the web console's users, one business unit each.

A password is never typed on the command line (it would stay in the shell's history and show in
`ps`): it is generated and printed once, alone on stdout, or read from stdin with
--password-stdin."""

from __future__ import annotations

import sys

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows, show_fields

app = typer.Typer(help="Web console users: admin, supervisor or agent of one business unit.",
                  no_args_is_help=True)

PasswordStdin = typer.Option(False, "--password-stdin",
                             help="Read the password from stdin (else one is generated and "
                                  "printed once).")


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it was generated (and must be shown)."""
    from proactive_sms.services import console_users

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
    from proactive_sms.services import console_users

    password, generated = _password(password_stdin)
    user = console_users.create(ctx.engine(), ctx.business_unit(bu), ctx.clock, username, role,
                                password, agent)
    ctx.errors.print(f"console user [bold]{user.username}[/bold] ({user.role}) created",
                     highlight=False)
    if generated:
        _show_once(password)


@app.command("list")
@ctx.handle_errors
def user_list(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The unit's console users (never their passwords)."""
    from proactive_sms.services import console_users

    users = console_users.list_users(ctx.engine(), ctx.business_unit(bu))
    if as_json:
        emit_json([{"username": u.username, "role": u.role, "agent": u.agent_name,
                    "created_at": u.created_at, "disabled_at": u.disabled_at} for u in users])
        return
    rows = []
    for user in users:
        status = f"disabled {user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "active"
        rows.append([user.username, user.role, user.agent_name or "-",
                     f"{user.created_at:%Y-%m-%d %H:%M}", status])
    print_rows(ctx.console, ["username", "role", "agent", "created", "status"], rows,
               title="Console users")


@app.command("disable")
@ctx.handle_errors
def user_disable(username: str, bu: str = ctx.BuOption):
    """Disable a user: they cannot sign in and their open sessions end at once."""
    from proactive_sms.services import console_users

    console_users.set_disabled(ctx.engine(), ctx.business_unit(bu), ctx.clock, username, True)
    ctx.console.print(f"console user {username} disabled; their sessions ended")


@app.command("enable")
@ctx.handle_errors
def user_enable(username: str, bu: str = ctx.BuOption):
    """Let a disabled user sign in again."""
    from proactive_sms.services import console_users

    console_users.set_disabled(ctx.engine(), ctx.business_unit(bu), ctx.clock, username, False)
    ctx.console.print(f"console user {username} enabled")


@app.command("reset-password")
@ctx.handle_errors
def user_reset_password(username: str, password_stdin: bool = PasswordStdin,
                        bu: str = ctx.BuOption):
    """Set a new password (generated unless --password-stdin); the user's sessions end."""
    from proactive_sms.services import console_users

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

    from proactive_sms.services import console_users

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


# --- show, change, remove (issue 17) -----------------------------------------------------------

def _user_dict(user) -> dict:
    return {"username": user.username, "role": user.role, "agent": user.agent_name,
            "disabled": user.disabled_at is not None, "disabled_at": user.disabled_at,
            "created_at": user.created_at, "password_changed_at": user.password_changed_at,
            "version": user.version}


@app.command("show")
@ctx.handle_errors
def user_show(username: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One console user (never their password)."""
    from proactive_sms.services import console_users

    user = console_users.get_user(ctx.engine(), ctx.business_unit(bu), username)
    show_fields(ctx.console, _user_dict(user), as_json)


@app.command("change")
@ctx.handle_errors
def user_change(username: str,
                role: str = typer.Option(None, help="admin | supervisor | agent"),
                agent: str = typer.Option(None, help="An agent user's agent (same unit)."),
                disabled: bool = typer.Option(None, "--disabled/--enabled",
                                              help="Cannot sign in (sessions end), or can."),
                as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Change a user's role, agent or disabled mark (a new role ends their sessions)."""
    from proactive_sms.services import console_users
    from proactive_sms.services.administration import InvalidRequest

    changes = {k: v for k, v in {"role": role, "agent": agent, "disabled": disabled}.items()
               if v is not None}
    if not changes:
        raise InvalidRequest("nothing to change: give --role, --agent or --disabled/--enabled")
    user = console_users.change_user(ctx.engine(), ctx.business_unit(bu), ctx.clock, username,
                                     changes)
    if as_json:
        emit_json(_user_dict(user))
        return
    ctx.console.print(f"console user {user.username} changed: {', '.join(sorted(changes))}")


@app.command("remove")
@ctx.handle_errors
def user_remove(username: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Remove a user: their sessions end; the audit log keeps their username."""
    from proactive_sms.services import console_users

    console_users.remove_user(ctx.engine(), ctx.business_unit(bu), ctx.clock, username)
    if as_json:
        emit_json({"username": console_users.normalize_username(username), "removed": True})
        return
    ctx.console.print(f"console user {console_users.normalize_username(username)} removed")
