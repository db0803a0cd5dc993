"""`psms apikey …`: keys for the HTTP API, one business unit each."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows, show_fields

app = typer.Typer(help="API keys: each belongs to one business unit.", no_args_is_help=True)


@app.command("create")
@ctx.handle_errors
def apikey_create(name: str, bu: str = ctx.BuOption):
    """Create a key; its secret is printed once and cannot be shown again."""
    from proactive_sms.services import api_keys

    created = api_keys.create(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    ctx.errors.print(f"api key [bold]{name}[/bold] created; keep the secret now, it is not "
                     "stored:", highlight=False)
    print(created.secret)  # alone on stdout, so that scripts can capture it


@app.command("list")
@ctx.handle_errors
def apikey_list(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The BU's keys (never their secrets)."""
    from proactive_sms.services import api_keys

    keys = api_keys.list_keys(ctx.engine(), ctx.business_unit(bu))
    if as_json:
        emit_json([{"name": key.name, "created_at": key.created_at,
                    "revoked_at": key.revoked_at} for key in keys])
        return
    print_rows(ctx.console, ["name", "created", "revoked"],
               [[key.name, f"{key.created_at:%Y-%m-%d %H:%M}",
                 f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-"]
                for key in keys], title="API keys")


@app.command("revoke")
@ctx.handle_errors
def apikey_revoke(name: str, bu: str = ctx.BuOption):
    """Revoke a key: its next request is refused."""
    from proactive_sms.services import api_keys

    api_keys.revoke(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    ctx.console.print(f"api key {name} revoked")


# --- show, change, remove (issue 17) -----------------------------------------------------------

def _key_dict(key) -> dict:
    return {"name": key.name, "created_at": key.created_at, "revoked_at": key.revoked_at,
            "active": key.revoked_at is None, "version": key.version}


@app.command("show")
@ctx.handle_errors
def apikey_show(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One key (never its secret: only its hash is stored)."""
    from proactive_sms.services import api_keys

    key = api_keys.get_key(ctx.engine(), ctx.business_unit(bu), name)
    show_fields(ctx.console, _key_dict(key), as_json)


@app.command("change")
@ctx.handle_errors
def apikey_change(name: str, new_name: str = typer.Option(..., "--name", help="Its new name."),
                  as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Rename a key (its secret cannot change: create a new key and remove this one)."""
    from proactive_sms.services import api_keys

    key = api_keys.rename(ctx.engine(), ctx.business_unit(bu), ctx.clock, name, new_name)
    if as_json:
        emit_json(_key_dict(key))
        return
    ctx.console.print(f"api key {name} renamed {key.name}")


@app.command("remove")
@ctx.handle_errors
def apikey_remove(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Remove a key: revoked at once and kept, revoked, in the list (like `revoke`)."""
    from proactive_sms.services import api_keys

    key = api_keys.remove(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    if as_json:
        emit_json(_key_dict(key))
        return
    ctx.console.print(f"api key {name} removed (revoked)")
