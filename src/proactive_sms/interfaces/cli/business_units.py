"""`psms bu …`: the business unit's settings (the short link domain, docs/links.md)."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json

app = typer.Typer(help="Business unit: its settings.", no_args_is_help=True)


@app.command("show")
@ctx.handle_errors
def bu_show(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The business unit's region, frequency cap and short link domain."""
    unit = ctx.business_unit(bu)
    shown = {"name": unit.name, "default_region": unit.default_region,
             "frequency_cap_per_24h": unit.frequency_cap_per_24h,
             "link_domain": unit.link_domain}
    if as_json:
        emit_json(shown)
        return
    for name, value in shown.items():
        ctx.console.print(f"{name}: {value if value is not None else '-'}", highlight=False)


@app.command("set")
@ctx.handle_errors
def bu_set(link_domain: str = typer.Option(
               None, "--link-domain", help="Where `psms serve` answers short links, as "
                                           "https://go.example.com: web links of texts are "
                                           "then tracked."),
           no_link_domain: bool = typer.Option(False, "--no-link-domain",
                                               help="Send links as written, untracked."),
           bu: str = ctx.BuOption):
    """Change the business unit's settings (skills already started keep their links)."""
    from proactive_sms.services import administration

    if bool(link_domain) == no_link_domain:
        raise administration.InvalidRequest("give one of --link-domain or --no-link-domain")
    unit = administration.set_link_domain(ctx.engine(), ctx.business_unit(bu),
                                          None if no_link_domain else link_domain)
    ctx.console.print(f"business unit [bold]{unit.name}[/bold]: link domain "
                      f"{unit.link_domain or 'none (links untracked)'}")
