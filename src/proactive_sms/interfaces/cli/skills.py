"""`psms skill …` and `psms campaign …`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import (
    JsonOption,
    emit_json,
    print_rows,
    print_view,
    rows_view,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from proactive_sms.domain.clock import Clock
    from proactive_sms.services import dry_run as dry_runs
    from proactive_sms.services import reporting

app = typer.Typer(help="Skills: who gets which text, from which code, at what pace.",
                  no_args_is_help=True)
campaign_app = typer.Typer(help="Campaigns: skills reported on together.", no_args_is_help=True)
# A start or resume a budget refuses: understood and refused, exit 1 (before LaunchError, of
# which it is a kind).
ctx.register_user_error("proactive_sms.services.spend:BudgetExceeded", ctx.FAILED)
ctx.register_user_error("proactive_sms.services.launching:LaunchError")
# A skill in a state that does not allow the change (pausing a stopped skill): the request was
# understood and refused, exit code 1.
ctx.register_user_error("proactive_sms.services.lifecycle:LifecycleError", ctx.FAILED)


@app.command("create")
@ctx.handle_errors
def skill_create(
    name: str,
    registration: str = typer.Option(..., help="Transport code to send from."),
    list_name: str = typer.Option(..., "--list", help="Calling list."),
    template: str = typer.Option(None, help="Saved template (or give --message at start)."),
    max_segments: int = typer.Option(3, help="Longer texts are skipped as too_long."),
    pacing: float = typer.Option(None, help="Texts per second, below the code's limit."),
    validity_hours: float = typer.Option(None, help="How long a text may wait to go out."),
    campaign: str = typer.Option(None, help="Campaign to report it in."),
    weekday_hours: str = typer.Option("08:00-21:00", help="Recipient-local hours, Mon-Fri."),
    weekend_hours: str = typer.Option("08:00-21:00", help="Recipient-local hours, Sat-Sun."),
    forbid_day: list[str] = typer.Option([], help="A weekday name or YYYY-MM-DD; repeatable."),
    no_zone: str = typer.Option("skip", help="No time zone found: skip | default."),
    default_zone: str = typer.Option(None, help="IANA zone used with --no-zone default."),
    kind: str = typer.Option("agentless_sms", help="agentless_sms, or agent: a cadence of "
                                                   "steps (psms cadence set)."),
    reply_pacing: bool = typer.Option(True, help="Texts that invite replies go no faster than "
                                                 "the skill's agents can answer them."),
    reply_rate_prior: float = typer.Option(None, help="Replies per text assumed until the "
                                                      "skill shows its own (0.05 = 5%)."),
    budget: str = typer.Option(None, help="The most its texts may cost, in its code's "
                                          "currency (e.g. 250.00): a start that would cost "
                                          "more is refused, a running skill paused at it."),
    bu: str = ctx.BuOption,
):
    """Create a skill (the law's calling hours apply on top of its own)."""
    from proactive_sms.services import administration

    window = {"weekday": weekday_hours, "weekend": weekend_hours, "forbidden_days": forbid_day}
    skill = administration.create_skill(
        ctx.engine(), ctx.business_unit(bu), ctx.clock, name=name, registration=registration,
        calling_list=list_name, template_name=template, max_segments=max_segments,
        pacing_per_s=pacing, validity_hours=validity_hours, campaign=campaign,
        calling_window=window, no_zone_policy=no_zone, default_time_zone=default_zone,
        kind=kind, reply_pacing=reply_pacing, reply_rate_prior=reply_rate_prior, budget=budget)
    ctx.console.print(f"skill [bold]{skill.name}[/bold] created ({skill.status.value})")


@app.command("reply-pacing")
@ctx.handle_errors
def skill_reply_pacing(
    name: str,
    setting: str = typer.Argument(..., help="on | off"),
    prior: float = typer.Option(None, help="Replies per text assumed until the skill shows "
                                           "its own (0.05 = 5%)."),
    bu: str = ctx.BuOption,
):
    """Turn reply-aware pacing on or off for a skill (a running one too)."""
    from proactive_sms.services import administration, reply_status, skill_settings

    if setting not in ("on", "off"):
        raise administration.InvalidRequest(f"reply pacing is 'on' or 'off', got '{setting}'",
                                            "setting")
    changes: dict = {"reply_pacing": setting == "on"}
    if prior is not None:
        changes["reply_rate_prior"] = prior
    engine, unit = ctx.engine(), ctx.business_unit(bu)
    skill_settings.update_skill(engine, unit, ctx.clock, name, changes)
    ctx.console.print(f"skill [bold]{name}[/bold] reply pacing: "
                      f"{reply_status.status_of(engine, unit, name).explain()}")


@app.command("start")
@ctx.handle_errors
def skill_start(
    name: str,
    template: str = typer.Option(None, help="Send this saved template."),
    message: str = typer.Option(None, help="Send this text, typed now (ad-hoc broadcast)."),
    direction: str = typer.Option("auto", help="Direction of a typed text: ltr | rtl | auto."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Run every check; write and send "
                                                          "nothing; predict the finish."),
    at: str = typer.Option(None, "--at", help="Start later, at this moment (2027-01-04T09:00, "
                                              "read in --tz; or with a UTC offset)."),
    tz: str = typer.Option(None, "--tz", help="The time zone of --at (America/Chicago)."),
    as_json: bool = JsonOption,
    bu: str = ctx.BuOption,
):
    """Start a skill: decide every record once (or resume an interrupted launch). A skill that
    is already running is left as it is (exit 0); a paused, stopped or finished one is not
    started (exit 1). With --at it is scheduled instead: checked now, started by a
    dispatcher at that moment (psms skill reschedule / unschedule until then)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress

    from proactive_sms.services import administration, launching
    from proactive_sms.services import dry_run as dry_runs

    if template and message:
        raise administration.InvalidRequest("give --template or --message, not both")
    engine, unit = ctx.engine(), ctx.business_unit(bu)
    skill = administration.find_skill(engine, unit, name)
    template_id = administration.find_template(engine, unit, template).id if template else None
    if dry_run:
        _print_dry_run(dry_runs.dry_run(engine, skill.id, ctx.clock, template_id=template_id,
                                        message_text=message, direction=direction), as_json)
        return
    if at or tz:
        from proactive_sms.services import scheduled_starts

        if not at:
            raise administration.InvalidRequest("--tz goes with --at (when to start)", "at")
        done = scheduled_starts.schedule(engine, unit, ctx.clock, name, at, tz,
                                         template_id=template_id, message_text=message,
                                         direction=direction, actor=_CLI)
        _print_start(done, as_json, "scheduled")
        return
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), console=ctx.console, transient=True,
                  disable=as_json) as progress:
        task = progress.add_task(f"launching {name}", total=None)
        summary = launching.start_skill(
            engine, skill.id, ctx.clock, template_id=template_id, message_text=message,
            direction=direction, after_batch=lambda done: progress.update(task, completed=done))
    status = summary.status.value
    if as_json:
        emit_json({"skill": name, "status": status, "already_started": summary.already_started,
                   "decided_now": summary.decided_now, "pending": summary.pending,
                   "skipped": dict(sorted(summary.skipped.items()))})
    if summary.already_started and status != "running":
        hint = " (psms skill resume)" if status == "paused" else ""
        raise ctx.fail(f"skill {name} is {status}: not started{hint}")
    if as_json:
        return
    if summary.already_started:
        ctx.console.print(f"skill {name} is already running: nothing to do")
        return
    skipped = ", ".join(f"{k}: {v}" for k, v in sorted(summary.skipped.items())) or "none"
    if skill.kind == "agent":  # records entered its cadence; its SMS steps text later
        ctx.console.print(f"skill [bold]{name}[/bold] {summary.status.value}: "
                          f"{summary.decided_now} records in its cadence")
        return
    ctx.console.print(f"skill [bold]{name}[/bold] {summary.status.value}: "
                      f"{summary.pending} pending, skipped {skipped}")


_CLI = "(cli)"


def _start_dict(done) -> dict:
    start = done.start
    return {"skill": done.skill.name, "status": done.skill.status.value,
            "start_at": start.start_at, "time_zone": start.time_zone,
            "local_start": done.local_start.strftime("%Y-%m-%d %H:%M %Z"),
            "start_state": start.state, "version": start.version}


def _print_start(done, as_json: bool, verb: str) -> None:
    if as_json:
        emit_json(_start_dict(done))
        return
    ctx.console.print(f"skill [bold]{done.skill.name}[/bold] {verb} to start at "
                      f"{done.local_start:%Y-%m-%d %H:%M %Z} "
                      f"({done.start.start_at:%Y-%m-%d %H:%M} UTC)")


@app.command("reschedule")
@ctx.handle_errors
def skill_reschedule(name: str,
                     at: str = typer.Option(..., "--at", help="The new moment "
                                                              "(2027-01-04T09:00)."),
                     tz: str = typer.Option(None, "--tz", help="The time zone of --at."),
                     version: int = typer.Option(None, help="Only if the start is still at "
                                                            "this version (see --json)."),
                     as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Move a scheduled start to another moment, before it starts."""
    from proactive_sms.services import scheduled_starts

    done = scheduled_starts.move(ctx.engine(), ctx.business_unit(bu), ctx.clock, name, at, tz,
                                 version, actor=_CLI)
    _print_start(done, as_json, "moved")


@app.command("unschedule")
@ctx.handle_errors
def skill_unschedule(name: str,
                     version: int = typer.Option(None, help="Only if the start is still at "
                                                            "this version."),
                     bu: str = ctx.BuOption):
    """Cancel a scheduled start: the skill is a draft again."""
    from proactive_sms.services import scheduled_starts

    scheduled_starts.cancel(ctx.engine(), ctx.business_unit(bu), ctx.clock, name, version,
                            actor=_CLI)
    ctx.console.print(f"skill {name}: scheduled start cancelled, the skill is a draft again")


def _print_dry_run(result: dry_runs.DryRun, as_json: bool) -> None:
    if as_json:
        emit_json(result.as_dict())
        return
    ctx.console.print(f"dry run: {result.records} records; {result.go_now} would go now, "
                      f"{result.waiting} would wait; {result.segments} segments at "
                      f"{result.rate_per_s:g} {result.unit}/s")
    for hour, count in sorted(result.waiting_until.items()):
        ctx.console.print(f"  {count} wait until {hour:%Y-%m-%d %H:00} UTC")
    for reason, count in sorted(result.skipped.items()):
        ctx.console.print(f"  skipped {reason}: {count}")
    for reason, count in sorted(result.expired.items()):
        ctx.console.print(f"  would expire ({reason}): {count}")
    if result.predicted_finish:
        ctx.console.print(f"predicted finish: {result.predicted_finish:%Y-%m-%d %H:%M:%S} UTC "
                          f"({result.predicted_duration_s:.0f} s from now)")
    if result.cost is not None:
        unpriced = (f"; {result.unpriced} texts to countries without a price "
                    f"({', '.join(result.unpriced_countries)})" if result.unpriced else "")
        ctx.console.print(f"cost: {result.cost} {result.currency}{unpriced}")
    else:
        ctx.console.print("cost: not priced (its code has no price)")
    if result.budget_refusal:
        ctx.console.print(f"[red]a start would be refused: {result.budget_refusal}[/red]")
    ctx.console.print("nothing was written or sent")


def _lifecycle(name: str, bu: str | None, action_name: str, verb: str) -> None:
    from proactive_sms.services import administration, lifecycle

    action = getattr(lifecycle, action_name)
    engine, unit = ctx.engine(), ctx.business_unit(bu)
    skill = administration.find_skill(engine, unit, name)
    result = action(engine, skill.id, ctx.clock)
    extra = f" ({result} message(s))" if isinstance(result, int) else ""
    ctx.console.print(f"skill {name} {verb}{extra}")


@app.command("pause")
@ctx.handle_errors
def skill_pause(name: str, bu: str = ctx.BuOption):
    """No new submits until resumed."""
    _lifecycle(name, bu, "pause", "paused")


@app.command("resume")
@ctx.handle_errors
def skill_resume(name: str, bu: str = ctx.BuOption):
    """Continue a paused skill."""
    _lifecycle(name, bu, "resume", "resumed")


@app.command("stop")
@ctx.handle_errors
def skill_stop(name: str, bu: str = ctx.BuOption):
    """Stop for good: pending texts are cancelled."""
    _lifecycle(name, bu, "stop", "stopped; cancelled")


@app.command("resend-uncertain")
@ctx.handle_errors
def skill_resend_uncertain(name: str, bu: str = ctx.BuOption):
    """Send again the texts whose submit had no recorded answer (may duplicate them)."""
    _lifecycle(name, bu, "resend_uncertain", "re-queued uncertain texts")


@app.command("status")
@ctx.handle_errors
def skill_status(name: str, follow: bool = typer.Option(False, "--follow", "-f",
                                                         help="Refresh until it finishes."),
                 interval: float = typer.Option(1.0, help="Seconds between refreshes."),
                 as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Progress of a skill: sent, delivered, failed, skipped, rate, estimated finish (or, while
    every text waits for its calling window, when sending resumes)."""
    from proactive_sms.services import reply_status, reporting

    engine, unit = ctx.engine(), ctx.business_unit(bu)
    if as_json:  # one snapshot: --follow is for people
        report = reporting.skill_report(engine, unit, name, ctx.clock.now())
        emit_json({**status_fields(report), **start_fields(_start_of(engine, unit, name)),
                   "reply_pacing": reply_status.status_of(engine, unit, name).as_dict()})
        return
    if not follow:
        report = reporting.skill_report(engine, unit, name, ctx.clock.now())
        print_view(ctx.console, status_view(report, ctx.console.width))
        for line in _start_lines(_start_of(engine, unit, name)):
            ctx.console.print(line, highlight=False)
        ctx.console.print(_reply_pacing_line(engine, unit, name))
        _print_spend(engine, unit, name, report)
        return
    from rich.console import Group
    from rich.live import Live

    with Live(console=ctx.console, refresh_per_second=4) as live:
        while True:
            report = reporting.skill_report(engine, unit, name, ctx.clock.now())
            live.update(Group(status_view(report, ctx.console.width),
                              *_start_lines(_start_of(engine, unit, name)),
                              _reply_pacing_line(engine, unit, name)))
            if report.statuses[name] in ("finished", "stopped") or (
                    report.statuses[name] == "running" and not report.pending):
                break
            time.sleep(interval)


def _start_of(engine, unit, name: str):
    """The skill's scheduled start (waiting, or how the last one ended), None if it never had
    one."""
    from proactive_sms.services import scheduled_starts

    shown = scheduled_starts.show(engine, unit, name)
    return shown.start if shown else None


def start_fields(start) -> dict:
    """A skill's scheduled start in `psms skill status --json`: its moment (UTC, and as its
    zone shows it) while it waits; how it ended when it was missed or failed."""
    from proactive_sms.services import scheduled_starts

    waiting = start is not None and start.state == "waiting"
    return {"start_at": _iso(start.start_at) if waiting else None,
            "start_time_zone": start.time_zone if waiting else None,
            "local_start": (f"{scheduled_starts.local_start(start):%Y-%m-%d %H:%M %Z}"
                            if waiting else None),
            "start_state": start.state if start else None,
            "start_detail": start.detail if start else None}


def _start_lines(start) -> list[str]:
    """`starts …` while the start waits (in its zone, and in UTC); a missed or failed one's
    reason (the skill is a draft again)."""
    fields = start_fields(start)
    if fields["local_start"]:
        zone = fields["start_time_zone"] or "UTC"
        return [f"starts {fields['local_start']} ({zone}; {start.start_at:%Y-%m-%d %H:%M} UTC)"]
    if start is not None and start.state in ("missed", "failed"):
        from rich.markup import escape

        detail = start.detail or start.state
        said = detail if detail.startswith(start.state) else f"{start.state}: {detail}"
        return [f"[yellow]scheduled start {escape(said)}[/yellow]"]
    return []


def _print_spend(engine, unit, name: str, report) -> None:
    """Its spend against its budget, and why the system paused it (a budget reached)."""
    from proactive_sms.interfaces.cli.root import spend_line
    from proactive_sms.services import administration

    if report.spend is not None:
        ctx.console.print(spend_line(report.spend))
    reason = administration.find_skill(engine, unit, name).pause_reason
    if reason:
        ctx.console.print(f"[yellow]paused by the system: {reason}[/yellow]")


def _reply_pacing_line(engine, unit, name: str) -> str:
    """What bounds the skill's pace for the agents who answer its replies, and why."""
    from proactive_sms.services import reply_status

    return f"reply pacing: {reply_status.status_of(engine, unit, name).explain()}"


_STATUS_HEADINGS = ("pending", "waiting", "next window", "sent", "delivered", "failed",
                    "uncertain", "skipped", "rate/s", "estimated finish")


def status_fields(report: reporting.Report, clock: Clock = ctx.clock) -> dict:
    """The figures of `psms skill status`, by name (its --json)."""
    from proactive_sms.services import reporting

    by = report.by_state
    eta = reporting.estimated_finish(report, clock)
    resumes = reporting.resumes_at(report, clock)
    return {
        "skill": report.skills[0] if report.skills else None,
        "status": ", ".join(report.statuses.values()),
        "pending": report.pending, "waiting": report.waiting,
        "next_window_at": _iso(report.next_window_at),
        "sent": reporting.texts_sent(by), "delivered": by["delivered"],
        "failed": by["failed"] + by["undeliverable"] + by["expired"],
        "uncertain": by["uncertain"], "skipped": by["skipped"],
        "skipped_by_reason": dict(sorted(report.skipped_by_reason.items())),
        "rate_per_s": report.achieved_rate_per_s,
        "estimated_finish": _iso(eta), "resumes_at": _iso(resumes),
        "spend": report.spend.as_dict() if report.spend is not None else None,
    }


def status_view(report: reporting.Report, width: int,
                clock: Clock = ctx.clock) -> RenderableType:
    """The status as a table when it fits `width`, else one `heading: figure` line each:
    figures are never cut."""
    from proactive_sms.services import reporting

    fields = status_fields(report, clock)
    rate = f"{fields['rate_per_s']:.1f}" if fields["rate_per_s"] else "-"
    resumes = reporting.resumes_at(report, clock)
    eta = reporting.estimated_finish(report, clock)
    # While every text waits for its window, say when sending resumes, not a finish time.
    finish = f"resumes {_when(resumes)}" if resumes else _when(eta)
    row = (fields["pending"], fields["waiting"], _when(report.next_window_at), fields["sent"],
           fields["delivered"], fields["failed"], fields["uncertain"], fields["skipped"], rate,
           finish)
    return rows_view(_STATUS_HEADINGS, [[_figure(cell) for cell in row]], width,
                     title=f"{report.title} — {fields['status']}",
                     right_aligned=_STATUS_HEADINGS)


def _figure(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _when(moment: datetime | None) -> str:
    """A moment in UTC with its date (a time alone reads as today), or '-'."""
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "-"


@campaign_app.command("create")
@ctx.handle_errors
def campaign_create(name: str, bu: str = ctx.BuOption):
    """Create a campaign."""
    from proactive_sms.services import administration

    administration.create_campaign(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    ctx.console.print(f"campaign [bold]{name}[/bold] created")


@campaign_app.command("add-skill")
@ctx.handle_errors
def campaign_add_skill(campaign: str, skill: str, bu: str = ctx.BuOption):
    """Report a skill as part of a campaign."""
    from proactive_sms.services import administration

    administration.add_skill_to_campaign(ctx.engine(), ctx.business_unit(bu), campaign, skill)
    ctx.console.print(f"skill {skill} is in campaign {campaign}")


# ---- list, show, set, remove; campaigns' list, show, rename, remove (issue 17) ---------------
# The services these use are imported inside the commands (fast start-up).

def _skill_dict(skill, start=None) -> dict:
    """A skill's fields; `start` (its skill_start, if any) adds when it starts or started."""
    return {"name": skill.name, "kind": skill.kind, "status": skill.status.value,
            "max_segments": skill.max_segments, "pacing_per_s": skill.pacing_per_s,
            "validity_hours": skill.validity_hours, "created_at": skill.created_at,
            "started_at": skill.started_at, "finished_at": skill.finished_at,
            "version": skill.version, "archived_at": skill.archived_at,
            "start_at": start.start_at if start else None,
            "start_time_zone": start.time_zone if start else None,
            "start_state": start.state if start else None,
            "start_detail": start.detail if start else None,
            "pause_reason": skill.pause_reason}


def _local(start) -> str:
    """A scheduled start as its zone shows it."""
    return start_fields(start)["local_start"] or ""


@app.command("list")
@ctx.handle_errors
def skill_list(status: str = typer.Option(None, help="Only skills in this status."),
               campaign: str = typer.Option(None, help="Only the skills of this campaign."),
               archived: bool = typer.Option(False, "--archived",
                                             help="Also finished skills removed from lists."),
               as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The business unit's skills."""
    from proactive_sms.services import administration, listing, scheduled_starts
    from proactive_sms.store.skills import SkillStatus

    try:
        wanted = SkillStatus(status) if status else None
    except ValueError:
        raise administration.InvalidRequest(
            f"--status must be one of {', '.join(s.value for s in SkillStatus)}") from None
    unit, rows, after = ctx.business_unit(bu), [], 0
    while True:
        page = listing.skills_page(ctx.engine(), unit, listing.PageRequest(after, 500), wanted,
                                   campaign, archived)
        starts = scheduled_starts.starts_of(ctx.engine(), [s.id for s in page.items])
        rows += [(_skill_dict(s, starts.get(s.id)), _local(starts.get(s.id)))
                 for s in page.items]
        if not page.more:
            break
        after = page.last_id
    if as_json:
        emit_json([r for r, _ in rows])
        return
    print_rows(ctx.console, ["name", "kind", "status", "starts", "created", "archived"],
               [[r["name"], r["kind"], r["status"], starts_at,
                 f"{r['created_at']:%Y-%m-%d %H:%M}", "yes" if r["archived_at"] else ""]
                for r, starts_at in rows], title="Skills")


@app.command("show")
@ctx.handle_errors
def skill_show(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One skill and its settings."""
    from proactive_sms.services import scheduled_starts, skill_settings

    view = skill_settings.skill_view(ctx.engine(), ctx.business_unit(bu), name)
    start = scheduled_starts.starts_of(ctx.engine(), [view.skill.id]).get(view.skill.id)
    shown = {**_skill_dict(view.skill, start), "settings": view.settings()}
    if as_json:
        emit_json(shown)
        return
    settings = shown.pop("settings")
    headings = [*shown, *settings]
    print_rows(ctx.console, headings, [[*shown.values(), *(
        json.dumps(v) if isinstance(v, dict) else v for v in settings.values())]])


@app.command("set")
@ctx.handle_errors
def skill_set(
    name: str,
    template: str = typer.Option(None, help="Saved template (drafts only)."),
    message: str = typer.Option(None, help="Typed text (drafts only)."),
    max_segments: int = typer.Option(None, help="Longer texts are skipped (drafts only)."),
    pacing: float = typer.Option(None, help="Texts per second, below the code's limit."),
    validity_hours: float = typer.Option(None, help="How long a text may wait to go out."),
    campaign: str = typer.Option(None, help="Campaign to report it in."),
    registration: str = typer.Option(None, help="Transport code to send from (drafts only)."),
    list_name: str = typer.Option(None, "--list", help="Calling list (drafts only)."),
    direction: str = typer.Option(None, help="ltr | rtl | auto (drafts only)."),
    weekday_hours: str = typer.Option(None, help="Recipient-local hours, Mon-Fri."),
    weekend_hours: str = typer.Option(None, help="Recipient-local hours, Sat-Sun."),
    forbid_day: list[str] = typer.Option(
        None, help="A weekday name or YYYY-MM-DD; repeatable; replaces the skill's list."),
    no_zone: str = typer.Option(None, help="No time zone found: skip | default."),
    default_zone: str = typer.Option(None, help="IANA zone used with --no-zone default."),
    reply_pacing: bool = typer.Option(None, "--reply-pacing/--no-reply-pacing",
                                      help="Pace texts by the agents who answer them."),
    reply_rate_prior: float = typer.Option(None, help="Replies per text assumed until the "
                                                      "skill shows its own (0.05 = 5%)."),
    budget: str = typer.Option(None, help="The most its texts may cost ('none': no budget); "
                                          "raising it lets a skill paused by it resume."),
    as_json: bool = JsonOption,
    bu: str = ctx.BuOption,
):
    """Change a skill's settings (what may change depends on its status); the calling window
    options change only the parts given."""
    from proactive_sms.services import administration, audit, skill_settings

    given = {"template": template, "message_text": message, "max_segments": max_segments,
             "pacing_per_s": pacing, "validity_hours": validity_hours, "campaign": campaign,
             "registration": registration, "calling_list": list_name, "direction": direction,
             "no_zone_policy": no_zone, "default_time_zone": default_zone,
             "reply_pacing": reply_pacing, "reply_rate_prior": reply_rate_prior}
    changes = {k: v for k, v in given.items() if v is not None}
    if budget is not None:
        changes["budget"] = None if budget.strip().lower() == "none" else budget
    unit = ctx.business_unit(bu)
    window = {"weekday": weekday_hours, "weekend": weekend_hours, "forbidden_days": forbid_day}
    window = {k: v for k, v in window.items() if v}
    if window:  # the parts not given stay as they are
        current = skill_settings.skill_view(ctx.engine(), unit, name).settings()
        changes["calling_window"] = {**(current["calling_window"] or {}), **window}
    if not changes:
        raise administration.InvalidRequest("give at least one setting to change")
    view = skill_settings.update_skill(ctx.engine(), unit, ctx.clock, name, changes)
    audit.record(ctx.engine(), None, "skill.changed", name, changes, bu=unit,
                 now=ctx.clock.now())
    if as_json:
        emit_json({**_skill_dict(view.skill), "settings": view.settings()})
        return
    ctx.console.print(f"skill {name} changed: "
                      + ", ".join(f"{k}={v}" for k, v in sorted(changes.items())))


@app.command("remove")
@ctx.handle_errors
def skill_remove(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Delete a draft, archive a finished or stopped skill (refused while it runs)."""
    from proactive_sms.services import skill_removal

    outcome = skill_removal.remove_skill(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    if as_json:
        emit_json({"name": name, "outcome": outcome})
        return
    ctx.console.print(f"skill {name} {outcome}")


@campaign_app.command("list")
@ctx.handle_errors
def campaign_list(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The business unit's campaigns and their skills."""
    from proactive_sms.services import campaign_admin

    unit, rows, after = ctx.business_unit(bu), [], 0
    while True:
        page = campaign_admin.campaigns_page(ctx.engine(), unit, after, 500)
        rows += [view.as_dict() for view in page.items]
        if not page.more:
            break
        after = page.last_id
    if as_json:
        emit_json(rows)
        return
    print_rows(ctx.console, ["name", "skills"],
               [[r["name"], ", ".join(r["skills"]) or "-"] for r in rows], title="Campaigns")


@campaign_app.command("show")
@ctx.handle_errors
def campaign_show(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """One campaign and its skills."""
    from proactive_sms.services import campaign_admin

    view = campaign_admin.show_campaign(ctx.engine(), ctx.business_unit(bu), name).as_dict()
    if as_json:
        emit_json(view)
        return
    print_rows(ctx.console, ["name", "skills", "version"],
               [[view["name"], ", ".join(view["skills"]) or "-", view["version"]]])


@campaign_app.command("rename")
@ctx.handle_errors
def campaign_rename(name: str, new_name: str, as_json: bool = JsonOption,
                    bu: str = ctx.BuOption):
    """Give a campaign a new name."""
    from proactive_sms.services import campaign_admin

    view = campaign_admin.rename_campaign(ctx.engine(), ctx.business_unit(bu), ctx.clock, name,
                                          new_name)
    if as_json:
        emit_json(view.as_dict())
        return
    ctx.console.print(f"campaign {name} is now [bold]{new_name}[/bold]")


@campaign_app.command("remove")
@ctx.handle_errors
def campaign_remove(name: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Remove an empty campaign (refused while it holds skills)."""
    from proactive_sms.services import campaign_admin

    campaign_admin.remove_campaign(ctx.engine(), ctx.business_unit(bu), ctx.clock, name)
    if as_json:
        emit_json({"name": name, "outcome": "deleted"})
        return
    ctx.console.print(f"campaign {name} removed")
