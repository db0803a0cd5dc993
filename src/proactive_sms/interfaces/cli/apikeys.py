"""`psms apikey …`: keys for the HTTP API, one business unit each."""

from __future__ import annotations

import typer
from rich.table import Table

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.services import api_keys

app = typer.Typer(help="API keys: each belongs to one business unit.", no_args_is_help=True)


@app.command("create")
@ctx.handle_errors
def apikey_create(name: str, bu: str = ctx.BuOption):
    """Create a key; its secret is printed once and cannot be shown again."""
    created = api_keys.create(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    ctx.errors.print(f"api key [bold]{name}[/bold] created; keep the secret now, it is not "
                     "stored:", highlight=False)
    print(created.secret)  # alone on stdout, so that scripts can capture it


@app.command("list")
@ctx.handle_errors
def apikey_list(bu: str = ctx.BuOption):
    """The BU's keys (never their secrets)."""
    table = Table(title="API keys")
    for column in ("name", "created", "revoked"):
        table.add_column(column)
    for key in api_keys.list_keys(ctx.engine(), ctx.business_unit(bu)):
        table.add_row(key.name, f"{key.created_at:%Y-%m-%d %H:%M}",
                      f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-")
    ctx.console.print(table)


@app.command("revoke")
@ctx.handle_errors
def apikey_revoke(name: str, bu: str = ctx.BuOption):
    """Revoke a key: its next request is refused."""
    api_keys.revoke(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    ctx.console.print(f"api key {name} revoked")
