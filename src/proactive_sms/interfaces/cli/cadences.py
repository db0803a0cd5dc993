"""`psms cadence …`, `psms skill outcome` and `psms dialer-sim`: agent skills' cadences and the
voice dialer's side of them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from proactive_sms.dialer_sim import DEFAULT_ODDS, DialerError  # standard library only
from proactive_sms.domain.cadence import MAX_BATCH, CadenceError, Problem  # the same
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli import skills as cli_skills
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows

app = typer.Typer(help="Cadences of agent skills: steps, outcomes, reports.",
                  no_args_is_help=True)
ctx.register_user_error(CadenceError)
ctx.register_user_error(DialerError)


def _cadence_error_lines(exc: CadenceError) -> None:
    for problem in exc.problems:
        ctx.errors.print(f"[red]error:[/red] {problem.field}: {problem.reason}", highlight=False)


@app.command("set")
@ctx.handle_errors
def cadence_set(skill: str,
                file: Path = typer.Option(..., "--file", exists=True, dir_okay=False,
                                          help="The cadence as JSON (steps, dispositions, "
                                               "ends_on)."),
                as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Set an agent skill's cadence from a JSON file (checked against the list and templates)."""
    from proactive_sms.services import cadences

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CadenceError([Problem(str(file), f"not JSON: {exc}")]) from exc
    try:
        steps = cadences.define(ctx.engine(), ctx.business_unit(bu), ctx.clock, skill, data)
    except CadenceError as exc:
        _cadence_error_lines(exc)
        raise SystemExit(2) from exc
    if as_json:
        emit_json(_cadence_fields(steps))
        return
    ctx.console.print(f"cadence of [bold]{skill}[/bold] set: {len(steps.steps)} step(s)")
    _print_cadence(steps)


def _print_cadence(steps) -> None:
    print_rows(ctx.console, ["step", "channel", "destination", "after", "template", "attempts",
                             "rest (min)"],
               [[s.number, s.channel.value, s.destination, ", ".join(sorted(s.after)) or "(start)",
                 s.template or "", s.max_attempts, s.rest_minutes] for s in steps.steps],
               right_aligned=["step", "attempts", "rest (min)"])
    ctx.console.print(f"dispositions: {', '.join(sorted(steps.dispositions)) or '-'}; "
                      f"ends on: {', '.join(sorted(steps.ends_on | {'dnc'}))}")


@app.command("show")
@ctx.handle_errors
def cadence_show(skill: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Show an agent skill's cadence."""
    from proactive_sms.services import cadences

    steps = cadences.show(ctx.engine(), ctx.business_unit(bu), skill)
    if as_json:
        emit_json(None if steps is None else _cadence_fields(steps))
        return
    if steps is None:
        ctx.console.print(f"skill {skill} has no cadence yet (psms cadence set)")
        return
    _print_cadence(steps)


def _cadence_fields(steps) -> dict:
    return {"steps": [{"step": s.number, "channel": s.channel.value,
                       "destination": s.destination, "after": sorted(s.after),
                       "template": s.template, "max_attempts": s.max_attempts,
                       "rest_minutes": s.rest_minutes} for s in steps.steps],
            "dispositions": sorted(steps.dispositions),
            "ends_on": sorted(steps.ends_on | {"dnc"})}


@app.command("next")
@ctx.handle_errors
def cadence_next(skill: str, limit: int = typer.Option(10, min=1, max=MAX_BATCH),
                 as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Hand out the voice attempts due now (as the dialer's API does)."""
    from proactive_sms.domain.phone import mask
    from proactive_sms.services import cadences

    found = cadences.next_attempts(ctx.engine(), ctx.business_unit(bu), ctx.clock, skill, limit)
    if as_json:
        emit_json([{"record": a.external_id, "step": a.step, "attempt": a.attempt,
                    "phone": mask(a.phone)} for a in found])
        return
    print_rows(ctx.console, ["record", "step", "attempt", "phone"],
               [[a.external_id, a.step, a.attempt, mask(a.phone)] for a in found],
               right_aligned=["step", "attempt"])


@app.command("record")
@ctx.handle_errors
def cadence_record(skill: str, external_id: str, as_json: bool = JsonOption,
                   bu: str = ctx.BuOption):
    """Where a record stands in the cadence."""
    from proactive_sms.services import cadences

    status = cadences.record_status(ctx.engine(), ctx.business_unit(bu), ctx.clock, skill,
                                    external_id)
    p = status.position
    if as_json:
        emit_json({"record": external_id, "step": p.step, "attempts": p.attempts,
                   "done": p.done, "done_reason": p.done_reason if p.done else None,
                   "done_at": status.done_at, "due_at": None if p.done else p.due_at,
                   "in_call": status.in_call})
        return
    if p.done:
        ctx.console.print(f"{external_id}: done ({p.done_reason}) at step {p.step}")
    else:
        ctx.console.print(f"{external_id}: step {p.step}, {p.attempts} attempt(s) made, next "
                          f"due {p.due_at:%Y-%m-%d %H:%M}" + (" (in a call)" if status.in_call
                                                              else ""))


@app.command("report")
@ctx.handle_errors
def cadence_report(skill: str, as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Per step and outcome, the cadence's texts, replies, conversations, first answers."""
    from proactive_sms.services import cadence_reports

    report = cadence_reports.cadence_report(ctx.engine(), ctx.business_unit(bu), skill)
    if as_json:
        emit_json(report.as_dict())
        return
    ctx.console.print(f"[bold]cadence of skill {report.skill}[/bold] ({report.status}), "
                      f"{report.records} records")
    print_rows(ctx.console, ["step", "outcome", "attempts"],
               [[step, outcome, count] for step, outcome, count in report.outcomes],
               right_aligned=["step", "attempts"])
    print_rows(ctx.console, ["records", "count"],
               [[reason, count] for reason, count in sorted(report.records_by_end.items())],
               right_aligned=["count"])
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(report.texts_skipped.items())) or "none"
    ctx.console.print(f"texts: {report.texts_sent} sent, "
                      f"{sum(report.texts_by_state.values())} decided, skipped: {skipped}")
    ctx.console.print(f"replies {report.replies}, opt-outs {report.opt_outs}; conversations "
                      f"{report.conversations}, answered {report.conversations_answered}, "
                      f"closed {report.conversations_closed}")
    for name, figures in report.by_agent.items():
        ctx.console.print(f"agent {name}: {figures['assigned']} assigned, "
                          f"{figures['answered']} answered")
    if report.first_answer_s:
        ctx.console.print(f"time to first answer: median {report.first_answer_median_s:.1f} s, "
                          f"longest {report.first_answer_max_s:.1f} s")


@cli_skills.app.command("outcome")
@ctx.handle_errors
def skill_outcome(skill: str, external_id: str,
                  outcome: str = typer.Option(..., help="answering_machine, no_answer, busy, "
                                                        "disconnected, dnc or a disposition."),
                  step: int = typer.Option(..., min=1), attempt: int = typer.Option(..., min=1),
                  note: str = typer.Option(None), bu: str = ctx.BuOption):
    """Report a call's outcome for one record of an agent skill (as the dialer's API does)."""
    from proactive_sms.services import cadences
    from proactive_sms.services.cadences import OutcomeIn, OutcomeRefused

    (result,) = cadences.report_outcomes(ctx.engine(), ctx.business_unit(bu), ctx.clock, skill,
                                         [OutcomeIn(external_id, step, attempt, outcome, note)])
    if isinstance(result, OutcomeRefused):
        ctx.errors.print(f"[red]error:[/red] {result.field}: {result.reason}", highlight=False)
        raise SystemExit(2)
    p = result.position
    where = (f"done ({p.done_reason})" if p.done else f"step {p.step}, attempt "
             f"{p.attempts + 1} due {p.due_at:%Y-%m-%d %H:%M}")
    sms = " - texted" if result.texted else (f" - SMS step skipped: {result.skip_reason}"
                                             if result.skip_reason else "")
    ctx.console.print(f"{external_id}: {result.how}; now {where}{sms}")


@ctx.handle_errors
def dialer_sim_command(
    skill: str,
    api: str = typer.Option("http://127.0.0.1:8000", help="A running `psms serve`."),
    api_key: str = typer.Option(None, "--api-key", envvar="PSMS_API_KEY",
                                help="An API key of the skill's business unit."),
    odds: list[str] = typer.Option(
        [], "--odds", help="OUTCOME=WEIGHT, repeatable (default: "
                           + ", ".join(f"{k}={v}" for k, v in DEFAULT_ODDS.items()) + ")."),
    seed: int = typer.Option(1, help="Seed of the outcome draws (same seed, same calls)."),
    batch: int = typer.Option(100, min=1, max=MAX_BATCH,
                              help="Attempts asked for at once."),
    rounds: int = typer.Option(None, min=1, help="Stop after this many rounds (default: "
                                                 "until every record's cadence ended)."),
    idle_wait: float = typer.Option(1.0, help="Seconds to wait when nothing is due."),
    max_seconds: float = typer.Option(None, help="Give up after this long."),
):
    """Simulate the voice dialer: ask the API for due attempts and report outcomes drawn with
    the given odds."""
    from proactive_sms.dialer_sim import DialerSimulator, parse_odds

    key = api_key or os.environ.get("PSMS_API_KEY")
    if not key:
        raise DialerError("give --api-key or set PSMS_API_KEY (psms apikey create)")
    try:
        weights = parse_odds(odds) if odds else DEFAULT_ODDS
    except ValueError as exc:
        raise DialerError(str(exc)) from exc
    sim = DialerSimulator(api, key, skill, weights, seed, batch)

    def show(calls: int) -> None:
        if calls:
            ctx.console.print(f"dialed {calls} call(s)")

    log = sim.run(rounds=rounds, until_done=rounds is None, idle_wait_s=idle_wait,
                  max_seconds=max_seconds, on_round=show)
    print_rows(ctx.console, ["outcome", "calls"],
               [[outcome, count] for outcome, count in sorted(log.outcomes().items())],
               right_aligned=["calls"])
    ctx.console.print(f"{len(log.calls)} calls, {len(log.done)} records done, "
                      f"{len(log.refused)} refused")
