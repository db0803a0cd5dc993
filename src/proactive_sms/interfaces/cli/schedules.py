"""`psms schedule …`: recurring notices (a template sent to a list from a code at each
occurrence of a schedule), their history, pause, resume, change and delete."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows, show_fields

app = typer.Typer(help="Recurring notices: a template texted to a list on a schedule "
                       "(every weekday at 09:00, or cron), each run a fresh skill.",
                  no_args_is_help=True)
_CLI = "(cli)"

EveryOption = typer.Option(None, "--every", help="day, weekday, weekend, or day names "
                                                 "(mon,wed,fri); with --at.")
AtOption = typer.Option(None, "--at", help="Time of day, HH:MM in the zone.")
CronOption = typer.Option(None, "--cron", help="A 5-field cron expression (minute hour day "
                                               "month weekday), instead of --every/--at.")
TzOption = typer.Option(None, "--tz", help="IANA zone (default: the business unit's).")
VersionOption = typer.Option(None, help="Only if the schedule is still at this version.")


def _show(view, as_json: bool) -> None:
    data = view.as_dict()
    if not as_json and data["next_run_at"]:
        data["next_run_at"] = f"{view.next_run_local:%Y-%m-%d %H:%M %Z}"
    show_fields(ctx.console, data, as_json)


@app.command("create")
@ctx.handle_errors
def schedule_create(
    name: str,
    template: str = typer.Option(..., help="The saved template each run sends."),
    calling_list: str = typer.Option(..., "--list", help="The calling list each run texts."),
    registration: str = typer.Option(..., help="The transport code each run sends from."),
    every: str = EveryOption, at: str = AtOption, cron: str = CronOption, tz: str = TzOption,
    campaign: str = typer.Option(None, help="Report each run's skill in this campaign."),
    max_segments: int = typer.Option(3, help="Longer texts are skipped."),
    as_json: bool = JsonOption, bu: str = ctx.BuOption,
):
    """Create a recurring notice (checked now as a start would be: the template must fit the
    list)."""
    from proactive_sms.services import notice_schedules

    view = notice_schedules.create(
        ctx.engine(), ctx.business_unit(bu), ctx.clock, name=name, template=template,
        calling_list=calling_list, registration=registration, cron=cron, every=every, at=at,
        time_zone=tz, campaign=campaign, max_segments=max_segments, actor=_CLI)
    if as_json:
        emit_json(view.as_dict())
        return
    ctx.console.print(f"schedule [bold]{name}[/bold]: {view.describe}; next run "
                      f"{view.next_run_local:%Y-%m-%d %H:%M %Z}")


@app.command("list")
@ctx.handle_errors
def schedule_list(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The business unit's recurring notices."""
    from proactive_sms.services import notice_schedules
    from proactive_sms.services.listing import PageRequest

    unit, views, after = ctx.business_unit(bu), [], 0
    while True:
        page = notice_schedules.page(ctx.engine(), unit, PageRequest(after, 500))
        views += page.items
        if not page.more:
            break
        after = page.last_id
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    print_rows(ctx.console, ["name", "status", "when", "template", "list", "code", "next run"],
               [[v.schedule.name, v.schedule.status, v.describe, v.template, v.calling_list,
                 v.registration, f"{v.next_run_local:%Y-%m-%d %H:%M %Z}"
                 if v.schedule.status == "active" else ""] for v in views],
               title="Schedules")


@app.command("show")
@ctx.handle_errors
def schedule_show(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One recurring notice."""
    from proactive_sms.services import notice_schedules

    _show(notice_schedules.show(ctx.engine(), ctx.business_unit(bu), name), as_json)


@app.command("history")
@ctx.handle_errors
def schedule_history(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Each run: when it was due, the skill it started, the outcome."""
    from proactive_sms.services import notice_schedules
    from proactive_sms.services.listing import PageRequest

    unit, runs, after = ctx.business_unit(bu), [], 0
    while True:
        page = notice_schedules.history(ctx.engine(), unit, name, PageRequest(after, 500))
        runs += page.items
        if not page.more:
            break
        after = page.last_id
    if as_json:
        emit_json([r.as_dict() for r in runs])
        return
    print_rows(ctx.console, ["due", "outcome", "skill", "skill status", "detail"],
               [[f"{r.due_local:%Y-%m-%d %H:%M %Z}", r.run.state, r.skill or "",
                 r.skill_status or "", r.run.detail or ""] for r in runs],
               title=f"Runs of {name}")


@app.command("change")
@ctx.handle_errors
def schedule_change(name: str, every: str = EveryOption, at: str = AtOption,
                    cron: str = CronOption, tz: str = TzOption,
                    max_segments: int = typer.Option(None, help="Longer texts are skipped."),
                    version: int = VersionOption, as_json: bool = JsonOption,
                    bu: str = ctx.BuOption):
    """Change when it runs or how long its texts may be; the next run is counted from now."""
    from proactive_sms.services import notice_schedules

    given = {"every": every, "at": at, "cron": cron, "time_zone": tz,
             "max_segments": max_segments}
    changes = {k: v for k, v in given.items() if v is not None}
    view = notice_schedules.change(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                                   changes, version, actor=_CLI)
    _show(view, as_json)


def _status(name: str, bu: str | None, verb: str, version: int | None, as_json: bool) -> None:
    from proactive_sms.services import notice_schedules

    view = getattr(notice_schedules, verb)(ctx.engine(), ctx.business_unit(bu), ctx.clock,
                                           name, version, actor=_CLI)
    if as_json:
        emit_json(view.as_dict())
        return
    following = (f"; next run {view.next_run_local:%Y-%m-%d %H:%M %Z}"
                 if view.schedule.status == "active" else "")
    ctx.console.print(f"schedule {name} {view.schedule.status}{following}")


@app.command("pause")
@ctx.handle_errors
def schedule_pause(name: str, version: int = VersionOption, as_json: bool = JsonOption,
                   bu: str = ctx.BuOption):
    """No run starts (nor is recorded as missed) until resumed."""
    _status(name, bu, "pause", version, as_json)


@app.command("resume")
@ctx.handle_errors
def schedule_resume(name: str, version: int = VersionOption, as_json: bool = JsonOption,
                    bu: str = ctx.BuOption):
    """Active again, from the next occurrence after now."""
    _status(name, bu, "resume", version, as_json)


@app.command("delete")
@ctx.handle_errors
def schedule_delete(name: str, version: int = VersionOption, bu: str = ctx.BuOption):
    """Delete the schedule and its history (the skills it started stay, with their reports)."""
    from proactive_sms.services import notice_schedules

    notice_schedules.remove(ctx.engine(), ctx.business_unit(bu), ctx.clock, name, version,
                            actor=_CLI)
    ctx.console.print(f"schedule {name} deleted")
