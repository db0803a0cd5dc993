"""`psms`: the command line of Proactive SMS (Typer + Rich), thin over the services.

How a command stays quick to start (issue 17: `psms --help` took 2.3 s because every command
module imported the web stack). Every module of this package follows one rule, and new commands
must too:

- At the top of a command module: the standard library, typer, rich, `context`/`output` of this
  package, and pure domain modules that import only the standard library (`domain.clock`,
  `domain.webhook_events`). Nothing that pulls in SQLAlchemy, Alembic, FastAPI, uvicorn or the
  services: they cost most of a second.
- The services, the store and the carriers are imported inside the command function that uses
  them (`from proactive_sms.services import administration` as its first lines). Names needed only
  in annotations go under `if TYPE_CHECKING:`.
- Service errors shown as one line with exit code 2 are registered by name:
  `ctx.register_user_error("proactive_sms.services.launching:LaunchError")`.
- `tests/interfaces/test_cli_startup.py` fails when `psms --help` or the light commands import
  those libraries; `bench/cli_startup.py` measures the time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from proactive_sms import __version__
from proactive_sms.interfaces.cli import calling_lists as cli_lists
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli import dnc as cli_dnc
from proactive_sms.interfaces.cli import inbox as cli_inbox
from proactive_sms.interfaces.cli import registrations as cli_registrations
from proactive_sms.interfaces.cli import schedules as cli_schedules
from proactive_sms.interfaces.cli import skills as cli_skills
from proactive_sms.interfaces.cli import templates as cli_templates
from proactive_sms.interfaces.cli.apikeys import app as apikey_app
from proactive_sms.interfaces.cli.business_units import app as bu_app
from proactive_sms.interfaces.cli.cadences import app as cadence_app
from proactive_sms.interfaces.cli.cadences import dialer_sim_command
from proactive_sms.interfaces.cli.output import JsonOption, emit_json
from proactive_sms.interfaces.cli.secrets import app as secrets_app
from proactive_sms.interfaces.cli.serve import serve_command
from proactive_sms.interfaces.cli.users import app as user_app
from proactive_sms.interfaces.cli.users import create_first_admin
from proactive_sms.interfaces.cli.webhooks import app as webhook_app

if TYPE_CHECKING:
    from proactive_sms.services import reporting

EXIT_CODES_HELP = ("Exit codes: 0 done; 1 failed (understood, but it could not be done: a bind "
                   "refused, a port in use, a stopped skill; `dnc check`: the number is on a "
                   "list); 2 usage or bad input (an unknown option, a name that does not exist, a "
                   "bad value or file).")

app = typer.Typer(help="Proactive SMS: outbound texts for a contact center.",
                  epilog=EXIT_CODES_HELP, no_args_is_help=True, pretty_exceptions_enable=False)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"psms {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version,
                                       is_eager=True, help="Print the version and exit.")):
    """Proactive SMS: outbound texts for a contact center."""
app.add_typer(cli_registrations.connection_app, name="connection")
app.add_typer(cli_registrations.registration_app, name="registration")
app.add_typer(cli_lists.app, name="list")
app.add_typer(cli_templates.app, name="template")
app.add_typer(cli_dnc.app, name="dnc")
app.add_typer(cli_skills.app, name="skill")
app.add_typer(cli_skills.campaign_app, name="campaign")
app.add_typer(cli_schedules.app, name="schedule")
app.add_typer(cli_inbox.inbox_app, name="inbox")
app.add_typer(cli_inbox.review_app, name="review")
app.add_typer(apikey_app, name="apikey")
app.command("serve")(serve_command)
app.add_typer(webhook_app, name="webhook")
app.add_typer(bu_app, name="bu")
app.add_typer(secrets_app, name="secrets")
app.add_typer(user_app, name="user")

# agents
from proactive_sms.interfaces.cli.agents import app as agent_app  # noqa: E402 (kept in its mark)

app.add_typer(agent_app, name="agent")

# cadences and the dialer simulator
app.add_typer(cadence_app, name="cadence")
app.command("dialer-sim")(dialer_sim_command)

# erasure on request (issue 17)
from proactive_sms.interfaces.cli.erasures import erase_command  # noqa: E402 (kept in its mark)

app.command("erase")(erase_command)

# a number's history (issue 19)
from proactive_sms.interfaces.cli.why import why_command  # noqa: E402 (kept in its mark)

app.command("why")(why_command)

# spend: the unit's monthly budget (prices: psms registration price; skills: --budget)
from proactive_sms.interfaces.cli.budgets import budget_app  # noqa: E402 (kept in its mark)

app.add_typer(budget_app, name="budget")


db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")

try:  # the simulator's CLI lives beside the simulator
    from proactive_sms.interfaces.cli.smsc_sim import app as smsc_sim_app

    app.add_typer(smsc_sim_app, name="smsc-sim")
except ImportError:  # pragma: no cover - only while the simulator is absent
    pass

# the HTTP provider simulator (issue 14); its server is imported inside its commands
from proactive_sms.interfaces.cli.provider_sim import app as provider_sim_app  # noqa: E402

app.add_typer(provider_sim_app, name="provider-sim")

try:
    from proactive_sms.interfaces.cli.inbound import app as inbound_app

    app.add_typer(inbound_app, name="inbound")
except ImportError:  # pragma: no cover - only while the classifier's CLI is absent
    pass

try:
    from proactive_sms.interfaces.cli.dispatch import dispatch_command

    app.command("dispatch")(dispatch_command)
except ImportError:  # pragma: no cover
    pass


@db_app.command("upgrade")
@ctx.handle_errors
def db_upgrade() -> None:
    """Apply every pending migration (also done automatically on first use)."""
    from proactive_sms.store import engine as store_engine

    engine = store_engine.make_engine()
    store_engine.upgrade(engine)
    ctx.console.print(f"database at {engine.url.render_as_string()} is up to date")


@app.command()
@ctx.handle_errors
def init(tenant: str = typer.Option("default", help="Tenant name."),
         bu: str = typer.Option("default", "--bu", help="Business unit name."),
         region: str = typer.Option("US", help="Default region of the BU's local numbers."),
         frequency_cap: int = typer.Option(None, help="Texts per recipient per rolling 24 h "
                                                      "across the BU's skills."),
         time_zone: str = typer.Option(None, "--time-zone",
                                       help="The unit's zone: recurring notices that name "
                                            "none run in it (America/Chicago)."),
         link_domain: str = typer.Option(None, help="Where `psms serve` answers short links "
                                                    "(https://go.example.com): web links of "
                                                    "texts are then tracked (docs/links.md)."),
         admin: str = typer.Option(None, help="Also create this web console admin of the BU; "
                                              "the password is $PSMS_ADMIN_PASSWORD, else "
                                              "generated and printed once.")):
    """Create the tenant (with its default DNC list) and a business unit."""
    from proactive_sms.services import administration

    unit = administration.init(ctx.engine(), ctx.clock, tenant, bu, region, frequency_cap)
    if time_zone:
        from proactive_sms.services import notice_schedules

        notice_schedules.set_business_unit_zone(ctx.engine(), unit, time_zone)
    if link_domain:
        unit = administration.set_link_domain(ctx.engine(), unit, link_domain)
    message = (f"tenant [bold]{tenant}[/bold], business unit [bold]{unit.name}[/bold] "
               f"(region {unit.default_region}) ready")
    if admin:
        ctx.errors.print(message)  # stdout carries the admin's password alone
        create_first_admin(admin, unit.name)
    else:
        ctx.console.print(message)


@app.command()
@ctx.handle_errors
def report(skill: str = typer.Option(None, help="Report on one skill."),
           campaign: str = typer.Option(None, help="Report on a campaign's skills."),
           as_json: bool = JsonOption,
           as_csv: bool = typer.Option(False, "--csv", help="Print CSV (state,reason,count; "
                                                                 "cost on a `spent` row)."),
           bu: str = ctx.BuOption):
    """Counts by state and skip reason, segments, delivery rate and throughput."""
    import sys

    from proactive_sms.services import administration, reporting
    from proactive_sms.services.report_export import report_csv

    if bool(skill) == bool(campaign):
        raise administration.InvalidRequest("give exactly one of --skill or --campaign")
    unit = ctx.business_unit(bu)
    result = (reporting.skill_report(ctx.engine(), unit, skill) if skill
              else reporting.campaign_report(ctx.engine(), unit, campaign))
    if as_json:
        emit_json(result.as_dict())
    elif as_csv:  # the API's and the console's spelling (services.report_export)
        from proactive_sms.services.report_export import report_csv

        sys.stdout.write(report_csv(result))
    else:
        print_report(result)


def print_report(result: reporting.Report) -> None:
    """The report as people read it: a table of counts and a few lines of figures."""
    from rich.table import Table

    table = Table(title=f"Report: {result.title}", show_lines=False)
    table.add_column("state")
    table.add_column("messages", justify="right")
    for state, count in result.as_dict()["by_state"].items():
        if count:
            table.add_row(state, str(count))
    for reason, count in sorted(result.skipped_by_reason.items()):
        table.add_row(f"  skipped: {reason}", str(count))
    table.add_row("[bold]total[/bold]", f"[bold]{result.total}[/bold]")
    ctx.console.print(table)
    rate = f"{result.delivery_rate:.1%}" if result.delivery_rate is not None else "-"
    speed = (f"{result.achieved_rate_per_s:.1f}/s" if result.achieved_rate_per_s else "-")
    ctx.console.print(f"segments sent: {result.segments_sent}   delivery rate: {rate}   "
                      f"achieved: {speed}")
    replies = ", ".join(f"{kind.replace('_', ' ')}: {count}"
                        for kind, count in result.as_dict()["inbound"].items())
    ctx.console.print(f"inbound — {replies}")
    if result.clicks or result.click_through_rate is not None:
        ctr = (f"{result.click_through_rate:.1%}" if result.click_through_rate is not None
               else "-")
        ctx.console.print(f"links — clicks: {result.clicks}   unique clickers: "
                          f"{result.unique_clickers}   click-through rate: {ctr}")
    if result.started_at and result.finished_at:
        took = (result.finished_at - result.started_at).total_seconds()
        ctx.console.print(f"time to finish: {took:.1f} s")
    if result.spend is not None:
        ctx.console.print(spend_line(result.spend))


def spend_line(spent) -> str:
    """"spent: 0.69 USD (40 texts, 80 segments) of a budget of 1.00 USD" (services.spend)."""
    figures = spent.as_dict()
    currency = figures["currency"] or ""
    if currency == "" and not spent.spent.texts:
        return "spent: not priced (psms registration price CODE AMOUNT --currency XXX)"
    line = (f"spent: {figures['spent']} {currency} ({figures['spent_texts']} texts, "
            f"{figures['spent_segments']} segments)")
    if figures["budget"] is not None:
        line += f" of a budget of {figures['budget']} {currency}, {figures['left']} left"
    if figures["unpriced_texts"]:
        line += f"; {figures['unpriced_texts']} texts without a price"
    return line


def main() -> None:
    """The `psms` entry point."""
    app()


if __name__ == "__main__":
    main()
