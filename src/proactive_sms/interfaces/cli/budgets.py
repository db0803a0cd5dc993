"""`psms budget …`: the business unit's monthly budget and what it spent this month."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json

budget_app = typer.Typer(help="The business unit's monthly spend budget (docs/spend.md).",
                         no_args_is_help=True)


@budget_app.command("show")
@ctx.handle_errors
def budget_show(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The unit's monthly budget, and what its skills spent this calendar month."""
    from proactive_sms.services import spend

    _show(spend.unit_spend(ctx.engine(), ctx.business_unit(bu), ctx.clock), as_json)


@budget_app.command("set")
@ctx.handle_errors
def budget_set(
    monthly: str = typer.Option(None, help="The most the unit's texts may cost in a calendar "
                                           "month (decimal); 'none' lifts the cap."),
    currency: str = typer.Option(None, help="ISO 4217 code; by default its prices' currency."),
    tz: str = typer.Option(None, "--tz", help="IANA zone its months begin in (UTC at first)."),
    as_json: bool = JsonOption, bu: str = ctx.BuOption,
):
    """Set the unit's monthly budget: a start that would cost more than is left of the month is
    refused, and running skills are paused when the month is used up."""
    from proactive_sms.services import administration, audit, spend

    if monthly is None and tz is None and currency is None:
        raise administration.InvalidRequest("give --monthly, --currency or --tz")
    engine, unit = ctx.engine(), ctx.business_unit(bu)
    if monthly is None:  # keep the cap it has
        current = spend.unit_spend(engine, unit, ctx.clock).as_dict()["monthly_budget"]
        monthly = current if current is not None else "none"
    cap = None if monthly.strip().lower() == "none" else monthly
    shown = spend.set_unit_budget(engine, unit, ctx.clock, monthly=cap, currency=currency,
                                  time_zone=tz)
    audit.record(engine, None, "budget.changed", unit.name, shown.as_dict(), bu=unit,
                 now=ctx.clock.now())
    _show(shown, as_json)


def _show(month, as_json: bool) -> None:
    figures = month.as_dict()
    if as_json:
        emit_json(figures)
        return
    currency = figures["currency"] or ""
    cap = (f"{figures['monthly_budget']} {currency} a month" if figures["monthly_budget"]
           else "no monthly budget")
    left = f", {figures['left']} {currency} left" if figures["left"] is not None else ""
    ctx.console.print(f"business unit {figures['business_unit']}: {cap} (months begin in "
                      f"{figures['time_zone']}); {figures['month']}: spent {figures['spent']} "
                      f"{currency}{left}")
